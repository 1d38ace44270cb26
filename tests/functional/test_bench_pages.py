"""`flask bench pages` on a small portal: it signs in as the demo people, asks for each of their
pages, and reports times and SQL statements per request (the warm-up request left out)."""
import json

from portal.bench.pages import DEMO_DOMAIN, DEMO_PASSWORD, PAGES
from tests import factories
from tests.functional.consortia_world import make_entry


def _demo_people():
    """The demo accounts the command signs in as, for three of the demo people."""
    buyer = factories.make_org("Demo Council", org_type="commissioner")
    commissioner = factories.make_user(buyer, email=f"commissioner@{DEMO_DOMAIN}",
                                       password=DEMO_PASSWORD)
    supplier = factories.make_org("Demo Carers Trust")
    factories.make_user(supplier, email=f"vcse.member@{DEMO_DOMAIN}", role="member",
                        password=DEMO_PASSWORD)
    factories.make_user(None, email=f"site.admin@{DEMO_DOMAIN}", site_admin=True,
                        password=DEMO_PASSWORD)
    make_entry(buyer, commissioner)


def test_the_command_times_every_page_of_the_people_asked_for(app, ctx, tmp_path):
    _demo_people()
    out = tmp_path / "pages.json"
    result = app.test_cli_runner().invoke(args=[
        "bench", "pages", "--repeats", "2", "--person", "commissioner",
        "--person", "vcse.member", "--person", "site.admin", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["repeats"] == 2 and report["warm_up_requests_excluded"] == 1
    expected = [(p, name) for p, name, _ in PAGES
                if p in ("commissioner", "vcse.member", "site.admin")]
    assert [(r["person"], r["page"]) for r in report["pages"]] == expected
    assert all(r["status"] == 200 for r in report["pages"]), report["pages"]
    assert all(r["queries"] >= 1 and 0 < r["median_ms"] <= r["p95_ms"]
               for r in report["pages"])
    assert "after one warm-up request (not counted)" in result.output
    assert "commissioner  timeline" in result.output


def test_a_person_who_cannot_sign_in_is_a_clear_error(app, ctx):
    result = app.test_cli_runner().invoke(args=["bench", "pages", "--person", "prime"])
    assert result.exit_code != 0
    assert "prime could not sign in as prime@demo.pathfinder.test" in result.output
