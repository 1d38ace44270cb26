"""Browser tests: the portal served from a thread, driven by Playwright in Debian's chromium."""
import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from config import BASE_DIR, TestingConfig
from portal import create_app
from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_SOURCE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# A loaded 2-core CI machine can take more than Playwright's default 5 s to render a page.
expect.set_options(timeout=20_000)


class BrowserTesting(TestingConfig):
    WTF_CSRF_ENABLED = True  # the browser sends real forms, so CSRF stays on


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return {
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    }


@pytest.fixture(scope="session")
def live_app(app):
    browser_app = create_app(BrowserTesting)
    # One set of indexes for both apps, so the per-test clean-up empties what the browser sees.
    for name in ("search_index", "opportunity_index"):
        if name in app.extensions:
            browser_app.extensions[name] = app.extensions[name]
    return browser_app


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_SOURCE.exists():
        skip_or_fail("axe-core is not installed (npm install)")
    return AXE_SOURCE.read_text(encoding="utf-8")


@pytest.fixture
def check_a11y(page, axe_source):
    """Run axe-core on the current page and fail on any WCAG 2.2 AA violation."""
    scanned = []

    def check():
        page.evaluate(axe_source)
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            WCAG_TAGS)
        problems = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
                    f"{[n['target'] for n in v['nodes']][:3]})" for v in result["violations"]]
        scanned.append(page.url)
        assert not problems, f"Accessibility problems on {page.url}:\n" + "\n".join(problems)
    check.scanned = scanned
    return check
