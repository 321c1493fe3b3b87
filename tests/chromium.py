"""A headless Chromium for tests that must see a page the way a user does.

Shared by every test that drives a real browser. It uses the Debian packages
(`chromium`, `chromium-driver`, listed in docker/native/packages.txt) so that no
test ever downloads a browser or a driver: Selenium is given both paths, which
keeps its driver manager out of the way.

    with headless_chromium() as driver:
        driver.get(url)
        driver.save_screenshot(artifact_path("page.png"))
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def artifact_path(name: str) -> Path:
    """Where a test keeps a file for people to look at after the run (a screenshot).

    test-artifacts/ at the repository root, ignored by git; it outlives the run (pytest's
    tmp_path does not), so a CI job can keep it as a build artifact.
    """
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@contextmanager
def headless_chromium(width: int = 1400, height: int = 1000) -> Iterator[webdriver.Chrome]:
    """A WebDriver on a fresh headless Chromium, quit on exit.

    --no-sandbox because tests run as root here and in CI containers, where
    Chromium refuses to start sandboxed; --disable-dev-shm-usage because /dev/shm
    is small in containers. A missing browser skips the test (fails it under
    REQUIRE_SERVICES=1) with the package to install.
    """
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if shutil.which(binary) is None:
            unavailable(f"{binary} is missing (apt-get install {package}; `make services`)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
