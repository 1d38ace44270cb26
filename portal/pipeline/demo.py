"""The demo forward plan: real notices from seed/procurement, loaded with the OCDS importer.

Notices still in progress have their dates moved forward by whole years, so the plan shows
them as coming up; awarded ones keep their real dates. Each keeps its original ocid.
"""
from sqlalchemy import func, select

from portal.extensions import db
from portal.pipeline import ocds
from portal.pipeline.models import Opportunity
from portal.reference.loaders import SEED_DIR

SOURCES = ("contracts_finder_2025_releases.json.gz", "contracts_finder_2019_2020_releases.json.gz",
           "public_contracts_scotland_releases.json.gz", "sell2wales_releases.json.gz")
SOURCE_LABELS = {
    "contracts_finder_2025_releases.json.gz": "Contracts Finder",
    "contracts_finder_2019_2020_releases.json.gz": "Contracts Finder",
    "public_contracts_scotland_releases.json.gz": "Public Contracts Scotland",
    "sell2wales_releases.json.gz": "Sell2Wales",
}


def load_demo(progress=None):
    """Import every seed release package; returns counts for `flask seed demo` to print."""
    report = progress or (lambda message: None)
    created = awards = 0
    for name in SOURCES:
        package = ocds.read_package(SEED_DIR / "procurement" / name)
        result = ocds.import_package(package, source_label=SOURCE_LABELS[name],
                                     shift_dates=True, progress=report)
        created += result.created
        awards += result.awards
        report(f"{name}: {result.created} new entries, {len(result.skipped)} skipped, "
               f"{len(result.duplicates)} duplicates left out")
        for position, ocid, reason in result.duplicates:
            report(f"  release {position} ({ocid}): {reason}")
    live = db.session.scalar(select(func.count(Opportunity.id)).where(
        Opportunity.ocid.is_not(None), Opportunity.status.in_(("planned", "open"))))
    return {"Forward plan entries from real notices": created,
            "  of which planned or open": live, "  of which awarded": awards}
