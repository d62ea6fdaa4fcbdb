"""The commit a run is tagged with: the project's HEAD, or nothing outside git."""

import subprocess

from image_vae.run_tags_hooks import git_commit


def _git(path, *args):
    return subprocess.run(
        ["git", *args], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_git_commit_is_the_work_trees_head(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    _git(tmp_path, "add", "f")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "m")

    assert git_commit(tmp_path) == _git(tmp_path, "rev-parse", "HEAD")


def test_git_commit_is_none_outside_a_work_tree(tmp_path):
    assert git_commit(tmp_path / "nowhere") is None
