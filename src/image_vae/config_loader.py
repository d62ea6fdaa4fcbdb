"""Kedro's ``OmegaConfigLoader``, with configuration faults explained in one line.

The stock loader reports a YAML syntax error with a 0-based line, a key given
twice in one file as a bare ``ConstructorError`` without the file's name, a file
whose top level is a list or a scalar as an ``AttributeError`` from deep inside,
and a key given in two files as a multi-line ``ValueError``. When loading fails,
this subclass reads the files itself and names the first faulty one, its line
and what is wrong; everything else is the stock loader.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from kedro.config import OmegaConfigLoader

from image_vae.errors import UserFacingError

_DUPLICATES = re.compile(r"Duplicate keys found in (\S+) and (\S+): (.+)")


class ConfigFileError(UserFacingError):
    """A configuration file is not valid YAML, not a mapping, or repeats a key."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            # Merge keys (`<<: *anchor`) are meant to be overridden.
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key_node.value!r} given twice (first on line "
                    f"{seen[key_node.value] + 1})",
                    key_node.start_mark,
                )
            seen[key_node.value] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def file_problem(path: Path, text: str) -> str | None:
    """What is wrong with one configuration file's text, or ``None``."""
    try:
        content = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f", line {mark.line + 1}" if mark else ""
        return f"{path}{where}: {error.problem or error.context}"
    except yaml.YAMLError as error:
        return f"{path}: {error}"
    if content is not None and not isinstance(content, dict):
        return (
            f"{path}: the top level is a {type(content).__name__}; allowed: a "
            "mapping of names to entries (`name: …` lines)"
        )
    return None


class CheckedConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` that turns a faulty file into a ``ConfigFileError``.

    Each file of the requested kind is read first with a strict YAML loader (a few
    small files, milliseconds), because the stock loader ignores a file whose top
    level is a scalar and reports the other faults without the file's name.
    """

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key not in self and key in self.config_patterns:
            problem = self._diagnose(key)
            if problem:
                raise ConfigFileError(f"configuration: {problem}")
        try:
            return super().__getitem__(key)
        except Exception as error:
            problem = _duplicates(error)
            if problem is None:
                raise
            raise ConfigFileError(f"configuration: {problem}") from error

    def _diagnose(self, key: str) -> str | None:
        envs = dict.fromkeys([self.base_env, self.env or self.default_run_env])
        paths = sorted(
            {
                Path(found)
                for env in envs
                if env
                for pattern in self.config_patterns[key]
                for found in self._fs.glob(
                    Path(f"{self._get_conf_env_path(env)}/{pattern}").as_posix()
                )
                if not self._is_hidden(found)
            }
        )
        for path in paths:
            if path.suffix in {".yml", ".yaml", ".json"} and self._fs.isfile(str(path)):
                with self._fs.open(str(path)) as handle:
                    text = handle.read().decode("utf8", errors="replace")
                problem = file_problem(path, text)
                if problem:
                    return problem
        return None


def _duplicates(error: Exception) -> str | None:
    match = _DUPLICATES.search(str(error))
    if not match:
        return None
    first, second, keys = match.groups()
    return (
        f"{first} and {second} both set {keys.strip()}; allowed: each key in one "
        "file of an environment (override it in another environment, e.g. "
        "conf/local/)"
    )
