"""What the load test's simulated people do (docs/loadtest.md), apart from how requests are sent.

The locustfile (benchmarks/load/locustfile.py) sends them with locust; the test suite sends
them with Flask's test client against a small generated portal, so each journey is known to
work before it is timed. This module imports nothing else of the portal's, so locust's
process stays small.

Every request is named by its page type: the report gives one line per type, and the targets
(docs/loadtest.md) are per type. Ids to visit are taken from the pages themselves, as a person
would follow links, so nothing depends on the ids the generator gave.
"""
import re
from html.parser import HTMLParser

PASSWORD = "loadtest-password-2026"
EMAIL_DOMAIN = "load.pathfinder.test"
SEARCH_WORDS = ("mental health", "youth", "housing support", "carers", "domestic abuse",
                "employment", "older people", "food", "advice", "transport", "training",
                "disability", "children", "homeless", "wellbeing", "community")
# Page types whose requests change something; every other type only reads.
WRITES = ("sign in", "sign out", "ask question", "express interest", "edit profile")
READ_TARGET_MS = 300
WRITE_TARGET_MS = 500
ENTRY_LINK = re.compile(r'href="/forward-plan/(\d+)"')
PROFILE_LINK = re.compile(r'href="/organisations/(\d+)"')
# The navigation's link to the signed-in person's own organisation.
OWN_PROFILE_LINK = re.compile(r'href="/organisations/(\d+)"[^>]*>\s*Your organisation')
MANAGED_LINK = re.compile(r'href="/forward-plan/manage/(\d+)"')


def account_email(kind, number):
    """The address of simulated user `number` (from 0) of a kind: "supplier" or "buyer"."""
    return f"{kind}-{number}@{EMAIL_DOMAIN}"


def target_ms(name):
    return WRITE_TARGET_MS if name in WRITES else READ_TARGET_MS


class FormReader(HTMLParser):
    """The fields a browser would send with the form posting to `action` (the page's own
    address, given when the page has other forms), and every select's choices (for filters)."""

    def __init__(self, action=None):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.fields, self.choices = action, action is None, {}, {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":  # a form without an action posts to the page's own address
            self.inside = self.action is None or attrs.get("action") in (None, "", self.action)
        elif tag == "input" and self.inside and attrs.get("name"):
            self._input(attrs)
        elif tag == "select":
            self._select = attrs.get("name")
            self.choices.setdefault(self._select, [])
        elif tag == "option" and self._select:
            self.choices[self._select].append(attrs.get("value") or "")
            if "selected" in attrs and self.inside:
                self.fields[self._select] = attrs.get("value") or ""
        elif tag == "textarea" and self.inside:
            self._textarea = attrs.get("name")
            self.fields[self._textarea] = ""

    def _input(self, attrs):
        kind = attrs.get("type", "text")
        if kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self.fields[attrs["name"]] = attrs.get("value", "y")
        elif kind not in ("submit", "button", "file"):
            self.fields[attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form" and self.action is not None:
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def read_form(page, action=None):
    reader = FormReader(action)
    reader.feed(page)
    return reader


class Browser:
    """One simulated person. `send(method, url, name, data, check)` makes the request, reports
    it under `name`, treats a problem `check(page, final_url)` returns as a failure, and gives
    back the page's text (or None when it failed)."""

    def __init__(self, send, rng):
        self.send, self.rng = send, rng
        self.entries, self.profiles, self.own_entries = [], [], []
        self.org_id = None

    def get(self, url, name, check=None):
        return self.send("GET", url, name, None, check)

    def post(self, url, name, data, check=None):
        return self.send("POST", url, name, data, check)

    def remember(self, page):
        """Keep the entries and profiles a page links to, to visit later."""
        if page:
            self.entries = list(dict.fromkeys(ENTRY_LINK.findall(page)))[:40] or self.entries
            self.profiles = list(dict.fromkeys(PROFILE_LINK.findall(page)))[:40] or self.profiles
        return page

    def pick(self, ids):
        return self.rng.choice(ids) if ids else None


def _expect_path(prefix):
    """A check that the request ended on a page under `prefix` (a form that failed to
    validate is shown again at its own address)."""
    def check(page, final_url):
        path = re.sub(r"^https?://[^/]+", "", final_url or "")
        return None if path.startswith(prefix) else f"ended on {path}, not {prefix}"
    return check


# --- reads, for everyone ------------------------------------------------------------------

def browse_plan(browser):
    browser.remember(browser.get("/forward-plan", "forward plan"))


def filter_plan(browser):
    page = browser.get("/forward-plan", "forward plan")
    if page:
        choices = read_form(page).choices
        params = {name: browser.pick([v for v in choices.get(name, []) if v])
                  for name in ("status", "area", "cpv", "value_band")}
        query = "&".join(f"{k}={v}" for k, v in params.items() if v and browser.rng.random() < .6)
        browser.remember(browser.get(f"/forward-plan?{query or 'status=open'}",
                                     "forward plan filtered"))


def search_plan(browser):
    word = browser.rng.choice(SEARCH_WORDS).replace(" ", "+")
    browser.remember(browser.get(f"/forward-plan?q={word}", "forward plan search"))


def search_directory(browser):
    word = browser.rng.choice(SEARCH_WORDS).replace(" ", "+")
    browser.remember(browser.get(f"/organisations?q={word}", "directory search"))


def browse_directory(browser):
    browser.remember(browser.get("/organisations?type=vcse", "directory"))


def open_entry(browser):
    if not browser.entries:
        browse_plan(browser)
    entry = browser.pick(browser.entries)
    if entry:
        return browser.get(f"/forward-plan/{entry}", "entry"), entry
    return None, None


def open_profile(browser):
    if not browser.profiles:
        search_directory(browser)
    profile = browser.pick(browser.profiles)
    if profile:
        browser.get(f"/organisations/{profile}", "profile")


# --- signing in ---------------------------------------------------------------------------

def sign_in(browser, email, home):
    """Sign in with the form, as a person does; `home` is where the role lands."""
    page = browser.get("/sign-in", "sign in form")
    if page is None:
        return None
    data = dict(read_form(page).fields, email=email, password=PASSWORD)
    return browser.post("/sign-in", "sign in", data, _expect_path(home))


def sign_in_again(browser, email, home):
    """Sign out and back in: a new session, as the next working day starts."""
    page = browser.get("/account", "account")
    token = read_form(page or "", "/sign-out").fields.get("csrf_token", "")
    browser.post("/sign-out", "sign out", {"csrf_token": token})
    sign_in(browser, email, home)


# --- suppliers ----------------------------------------------------------------------------

def supplier_home(browser):
    page = browser.remember(browser.get("/dashboard", "dashboard"))
    match = OWN_PROFILE_LINK.search(page or "")
    browser.org_id = match.group(1) if match else browser.org_id


def _entry_with(browser, link, tries=4):
    """An entry whose page offers `link` (a question, interest): not every entry takes them."""
    for _ in range(tries):
        page, entry = open_entry(browser)
        if page and link.format(entry=entry) in page:
            return entry
    return None


def ask_question(browser):
    entry = _entry_with(browser, "/forward-plan/{entry}/questions/new")
    if entry:
        url = f"/forward-plan/{entry}/questions/new"
        form = read_form(browser.get(url, "ask question form") or "", url)
        data = dict(form.fields, question="Will the service be split into lots for smaller "
                                          "local providers, and is TUPE expected to apply?")
        browser.post(url, "ask question", data, _expect_path(f"/forward-plan/{entry}"))


def express_interest(browser):
    entry = _entry_with(browser, "/forward-plan/{entry}/interest")
    if entry:
        url = f"/forward-plan/{entry}/interest"
        form = read_form(browser.get(url, "express interest form") or "", url)
        data = dict(form.fields, kind=browser.rng.choice(("sole", "lead", "partner", "info")),
                    note="We deliver similar services in the area.")
        browser.post(url, "express interest", data, _expect_path(f"/forward-plan/{entry}"))


def edit_profile(browser):
    if browser.org_id is None:
        supplier_home(browser)
    if browser.org_id is None:
        return
    url = f"/organisations/{browser.org_id}/edit"
    form = read_form(browser.get(url, "edit profile form") or "", url)
    if form.fields:
        staff = str(browser.rng.randint(1, 60))
        browser.post(url, "edit profile", dict(form.fields, staff_count=staff),
                     _expect_path(f"/organisations/{browser.org_id}"))


# --- buyers -------------------------------------------------------------------------------

def manage_plan(browser):
    page = browser.get("/forward-plan/manage", "manage plan")
    own = list(dict.fromkeys(MANAGED_LINK.findall(page or "")))
    browser.own_entries = own or browser.own_entries


def open_matches(browser):
    if not browser.own_entries:
        manage_plan(browser)
    entry = browser.pick(browser.own_entries)
    if entry:
        browser.get(f"/forward-plan/{entry}/matches", "matches")


# Each kind of person: (what they do, how often relative to their other actions).
VISITOR_TASKS = ((browse_plan, 3), (filter_plan, 3), (search_plan, 3), (search_directory, 3),
                 (browse_directory, 1), (open_entry, 4), (open_profile, 3))
SUPPLIER_TASKS = ((supplier_home, 2), (browse_plan, 2), (search_plan, 2), (open_entry, 3),
                  (open_profile, 1), (ask_question, 1), (express_interest, 1),
                  (edit_profile, 1))
BUYER_TASKS = ((manage_plan, 2), (open_matches, 3), (search_directory, 2), (open_profile, 2),
               (open_entry, 1))
PAGE_TYPES = ("forward plan", "forward plan filtered", "forward plan search", "directory",
              "directory search", "entry", "profile", "sign in form", "sign in", "account", "sign out",
              "dashboard", "ask question form", "ask question", "express interest form",
              "express interest", "edit profile form", "edit profile", "manage plan", "matches")
