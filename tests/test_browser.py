"""In a real browser: the explorer page, the MLflow UI and kedro-viz.

Debian's ``chromium`` and ``chromium-driver`` (``make browser`` installs them as
root), driven headless by Selenium. The shared smoke project serves every test
(``smoke_runs`` in conftest: a ``kedro run`` at β = 1 and one at β = 4).
Screenshots go to a temporary folder (printed), or to ``$BROWSER_SCREENSHOTS``
when set. The MLflow UI and kedro-viz are single-page apps: tests wait for
content, never for the load event alone, and generously, as ``mlflow ui`` can
take a minute to answer on a loaded machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from kedro.framework.project import configure_project, pipelines
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import SMOKE_EPOCHS
from tests_support import runs, tracking_uri

pytestmark = pytest.mark.slow


SERVER_START_S = 240  # `mlflow ui` took ~70 s to answer on a loaded 2-core machine
PAGE_WAIT_S = 90
BIN = Path(sys.executable).parent


def find_browser() -> tuple[str, str] | None:
    """``(chromium, chromedriver)`` paths, or None."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    found = find_browser()
    if found is None:
        pytest.skip(
            "no browser: chromium and chromedriver are not on PATH; install Debian's "
            "`chromium chromium-driver` (`make browser` does, as root)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=webdriver.ChromeService(found[1]), options=options
    )
    driver.set_page_load_timeout(PAGE_WAIT_S)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("BROWSER_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {path}")
    return path


@pytest.fixture(scope="module")
def smoke(smoke_project: Path) -> Path:
    return smoke_project


def default_runs(project: Path) -> list:
    return [r for r in runs(project) if r.data.tags.get("pipeline") == "__default__"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(command: list[str], cwd: Path, url: str, log: Path) -> subprocess.Popen:
    """Starts a local server in its own process group; waits until ``url`` answers."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{command[:2]} exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return process
        except OSError:
            time.sleep(1)
    stop(process)
    pytest.fail(f"{url} did not answer within {SERVER_START_S} s")


def stop(process: subprocess.Popen) -> None:
    """Stops the server and the workers it started (``mlflow ui`` forks uvicorn)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=3)  # a test server: no need for a graceful end
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait_for_text(driver, *texts: str, timeout: float = PAGE_WAIT_S) -> str:
    """Waits until the page's visible text contains every one of ``texts``."""
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5).until(
            lambda d: all(t in d.find_element(By.TAG_NAME, "body").text for t in texts)
        )
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").text
        missing = [t for t in texts if t not in body]
        pytest.fail(
            f"{driver.current_url}: never showed {missing}; page:\n{body[:3000]}"
        )
    return driver.find_element(By.TAG_NAME, "body").text


def canvas_png(driver, element_id: str) -> str:
    return driver.execute_script(
        "return document.getElementById(arguments[0]).toDataURL('image/png');",
        element_id,
    )


def canvas_spread(driver, element_id: str) -> float:
    """Max minus min of the canvas's red channel: 0 for a blank image."""
    return driver.execute_script(
        """const c = document.getElementById(arguments[0]);
        const p = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let lo = 255, hi = 0;
        for (let i = 0; i < p.length; i += 4) {
          lo = Math.min(lo, p[i]); hi = Math.max(hi, p[i]);
        }
        return hi - lo;""",
        element_id,
    )


# The explorer -----------------------------------------------------------------


def use_explorer(driver, screenshots: Path, name: str) -> None:
    """Moves the slider, picks a class and hovers two points, asserting what the
    page shows each time; a screenshot at the end."""
    WebDriverWait(driver, PAGE_WAIT_S).until(
        lambda d: d.execute_script("return document.body.dataset.ready === 'true'")
    )
    walk = driver.find_element(By.ID, "walk-info")
    before = canvas_png(driver, "walk-image")
    assert walk.text.startswith("step 0/10: 0.00 along the unit direction"), walk.text
    driver.find_element(By.ID, "step").send_keys(Keys.END)
    assert walk.text.startswith("step 10/10: 3.00 along"), walk.text
    after = canvas_png(driver, "walk-image")
    assert after != before
    Select(driver.find_element(By.ID, "target")).select_by_visible_text("Trouser")
    assert "toward Trouser" in walk.text
    assert canvas_png(driver, "walk-image") not in {before, after}

    # The pointer over two typical members of different classes (walk starts).
    plane = driver.find_element(By.ID, "plane")
    shown = []
    for k in (2, -1):
        # Scrolled near the top first: in MLflow the page sits in an iframe that
        # its pane clips, so a point low on the plane may be out of sight.
        dx, dy = driver.execute_script(
            """const [x, y] = D.starts.at(arguments[0]).plane;
            const r = plane.getBoundingClientRect(), f = r.width / plane.width;
            window.scrollBy(0, r.top + sy(y) * f - 120);
            return [(sx(x) - plane.width / 2) * f, (sy(y) - plane.height / 2) * f];""",
            k,
        )
        ActionChains(driver).move_to_element_with_offset(
            plane, round(dx), round(dy)
        ).perform()
        info = driver.find_element(By.ID, "hover-info").text
        assert info.startswith("pointer ("), info
        shown.append((canvas_png(driver, "hover-image"), info))
        assert canvas_spread(driver, "hover-image") > 50  # an image, not a blank
    (first, first_info), (second, second_info) = shown
    assert first != second and first_info != second_info
    driver.save_screenshot(str(screenshots / f"{name}.png"))


def test_explorer_page_shows_decoded_images_under_the_pointer_and_the_walk(
    browser, smoke: Path, screenshots: Path
):
    # The β = 1 run's page, as logged to MLflow (β = 4's latent space may have
    # collapsed after two epochs: every point would decode alike).
    run = default_runs(smoke)[0]
    assert run.data.params["training.beta"] == "1.0"
    page = Path(run.info.artifact_uri.removeprefix("file://")) / "latent_explorer.html"
    size_mb = page.stat().st_size / 1e6
    assert size_mb < 5, f"{page.name} is {size_mb:.1f} MB"
    browser.get(page.as_uri())
    text = wait_for_text(browser, "500 codes, latent_dim = 2", "Trouser (")
    assert "Ankle boot" in text
    use_explorer(browser, screenshots, "latent_explorer")

    # The straight walk: the image changes again.
    before = canvas_png(browser, "walk-image")
    browser.find_element(By.CSS_SELECTOR, "input[value=straight]").click()
    assert "of the way to the mean" in browser.find_element(By.ID, "walk-info").text
    assert canvas_png(browser, "walk-image") != before


# The MLflow UI -----------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_ui(smoke: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(BIN / "mlflow"), "ui", "--backend-store-uri", tracking_uri(smoke)]
    # One browser asks: one worker process (the default, 4, each imports MLflow).
    command += ["--workers", "1"]
    process = serve(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        smoke,
        f"{url}/health",
        smoke.parent / "mlflow-ui.log",
    )
    yield url
    stop(process)


def close_assistant(driver) -> None:
    """Closes MLflow's assistant side panel, when shown, to give the page room."""
    for button in driver.find_elements(By.CSS_SELECTOR, "button[aria-label=Close]"):
        button.click()


def test_mlflow_run_page_shows_parameters_loss_chart_figures_and_explorer(
    browser, smoke: Path, mlflow_ui: str, screenshots: Path
):
    run = next(
        r for r in default_runs(smoke) if r.data.params["training.beta"] == "1.0"
    )
    page = f"{mlflow_ui}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"

    browser.get(page)
    text = wait_for_text(browser, "Parameters", "training.beta", "training.latent_dim")
    assert "training.beta\n1.0" in text

    browser.get(f"{page}/model-metrics")
    wait_for_text(browser, "Model metrics", "reconstruction_loss", "kl_loss")
    close_assistant(browser)
    # Several epochs: each loss chart is a line through one point per epoch.
    lines = WebDriverWait(browser, PAGE_WAIT_S).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, ".js-plotly-plot .scatterlayer .js-line"
        )
    )
    assert any(line.get_attribute("d").count("L") >= SMOKE_EPOCHS - 1 for line in lines)
    browser.save_screenshot(str(screenshots / "mlflow_metrics.png"))

    browser.get(f"{page}/artifacts/figures/latent_scatter.png")
    wait_for_text(browser, "latent_explorer.html", "latent_scatter.png")
    WebDriverWait(browser, PAGE_WAIT_S).until(
        lambda d: d.execute_script(
            "return [...document.images].some(i => i.complete && i.naturalWidth > 300)"
        )
    )
    browser.save_screenshot(str(screenshots / "mlflow_figure.png"))

    # The explorer in MLflow's artifact view: a sandboxed iframe of a blob URL.
    browser.find_element(By.XPATH, "//*[text()='latent_explorer.html']").click()
    frame = WebDriverWait(browser, PAGE_WAIT_S).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "iframe.mlflow-html-iframe")
    )
    browser.switch_to.frame(frame)
    try:
        use_explorer(browser, screenshots, "mlflow_explorer")
    finally:
        browser.switch_to.default_content()


def test_mlflow_compare_view_shows_both_betas(
    browser, smoke: Path, mlflow_ui: str, screenshots: Path
):
    default = default_runs(smoke)
    assert sorted(float(r.data.params["training.beta"]) for r in default) == [1, 4]
    ids = quote(json.dumps([r.info.run_id for r in default]))
    experiments = quote(json.dumps([default[0].info.experiment_id]))
    browser.get(f"{mlflow_ui}/#/compare-runs?runs={ids}&experiments={experiments}")
    wait_for_text(browser, "Comparing 2 Runs", *(r.info.run_id for r in default))
    close_assistant(browser)
    beta = browser.find_element(
        By.XPATH, "//th[normalize-space(text())='training.beta']"
    )
    assert beta.find_element(By.XPATH, "./ancestor::tr").text.split() == [
        "training.beta",
        *(r.data.params["training.beta"] for r in default),
    ]
    # For the screenshot: only the parameters that differ, at the top.
    browser.find_element(By.XPATH, "(//*[text()='Show diff only'])[1]").click()
    heading = browser.find_element(By.XPATH, "//*[text()='Parameters']")
    browser.execute_script("arguments[0].scrollIntoView()", heading)
    browser.save_screenshot(str(screenshots / "mlflow_compare.png"))


# kedro-viz -----------------------------------------------------------------------


def test_kedro_viz_shows_the_default_pipeline_nodes_and_layer_bands(
    browser, smoke: Path, viz_build: Path, screenshots: Path
):
    port = free_port()
    process = serve(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        viz_build,
        f"http://127.0.0.1:{port}/",
        smoke.parent / "http-server.log",
    )
    try:
        browser.get(f"http://127.0.0.1:{port}/")
        wait_for_text(browser, "__default__", "train_vae_model")
        shown = WebDriverWait(browser, PAGE_WAIT_S).until(
            lambda d: {
                e.text for e in d.find_elements(By.CSS_SELECTOR, ".pipeline-node__text")
            }
        )
        layers = [
            e.text
            for e in browser.find_elements(By.CSS_SELECTOR, ".pipeline-layer-name")
        ]
        bands = browser.find_elements(By.CSS_SELECTOR, ".pipeline-layer")
        browser.save_screenshot(str(screenshots / "kedro_viz.png"))
    finally:
        stop(process)
    configure_project("image_vae")
    tasks = {n.name for n in pipelines["__default__"].nodes}
    assert tasks <= shown, tasks - shown
    assert {"latent_explorer_page", "vae_model", "raw_images"} <= shown
    assert layers == [
        "raw",
        "intermediate",
        "model_input",
        "models",
        "model_output",
        "reporting",
    ]
    assert len(bands) == len(layers)
