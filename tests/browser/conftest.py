"""Browser tests: the portal served from a thread, driven by Playwright in Debian's chromium."""
import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError, expect
from werkzeug.serving import make_server

from config import BASE_DIR, TestingConfig
from portal import create_app
from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_SOURCE = BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# What axe lets through: it accepts a fieldset with an empty legend, and a control whose only
# name is its placeholder or title. Each problem is described as "what: where".
FORM_NAMES_SCRIPT = """() => {
  const text = (el) => (el.innerText || el.textContent || "").trim();
  const where = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.name ? `[name=${el.name}]` : "");
  const problems = [];
  for (const fieldset of document.querySelectorAll("fieldset")) {
    const legend = [...fieldset.children].find((child) => child.tagName === "LEGEND");
    if (!legend) problems.push("fieldset without a legend: " + where(fieldset));
    else if (!text(legend)) problems.push("fieldset with an empty legend: " + where(fieldset));
  }
  const controls = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=image])"
    + ":not([type=reset]), select, textarea");
  for (const control of controls) {
    const byLabel = [...(control.labels || [])].some((label) => text(label));
    const byAria = (control.getAttribute("aria-label") || "").trim();
    const byIds = (control.getAttribute("aria-labelledby") || "").split(/\\s+/)
      .map((id) => id && document.getElementById(id)).some((el) => el && text(el));
    if (!byLabel && !byAria && !byIds) problems.push("control without a label: " + where(control));
  }
  return problems;
}"""
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


def _problems(page, axe_source):
    """axe-core's WCAG violations and the form-name problems on the page as it is now."""
    page.evaluate(axe_source)
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS)
    problems = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
                f"{[n['target'] for n in v['nodes']][:3]})" for v in result["violations"]]
    return problems + page.evaluate(FORM_NAMES_SCRIPT)


@pytest.fixture
def check_a11y(page, axe_source):
    """Run axe-core on the current page and fail on any WCAG 2.2 AA violation, on a fieldset
    whose legend is missing or empty, or on a form control without a label."""
    scanned = []

    def check():
        try:
            problems = _problems(page, axe_source)
        except PlaywrightError:
            # A check straight after a click can start while the next page is loading, and
            # the navigation then pulls the document from under the scripts: check it loaded.
            page.wait_for_load_state()
            problems = _problems(page, axe_source)
        scanned.append(page.url)
        assert not problems, f"Accessibility problems on {page.url}:\n" + "\n".join(problems)
    check.scanned = scanned
    return check
