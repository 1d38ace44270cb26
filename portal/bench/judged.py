"""The judged precision check (benchmarks/judged/README.md): is what people see on the demo
data right?

The demo data is built in a throwaway portal exactly as `flask seed demo` builds it, and the
stored matches are brought up to date. Then, for a fixed sample, the bench reads what the pages
show: the five recommendations on each judged supplier's dashboard and the first ten suppliers
on each judged entry's matches page. Each pair shown is looked up in a set of judgements made
by reading both texts (benchmarks/judged/demo_pairs.csv). Precision is taken over what is shown,
so a list that is short but right is not punished; a pair nobody has judged counts as not
relevant and is listed, so the set can be topped up when the engine changes.

A plain TF-IDF cosine over the same texts is scored alongside: it helped choose the pairs to
judge (so the set does not only hold what today's engine shows) and is a floor to compare with.

Everything is keyed by what stays the same from one build to the next: an organisation's
source reference and an entry's ocid, never a database id.
"""
import argparse
import csv
import importlib
import math
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.bench.matching import temporary_portal
from portal.cli import DEMO_PACKAGES
from portal.extensions import db
from portal.matching import services
from portal.matching.ranking import SUPPLIER_TYPES
from portal.matching.recommend import RECOMMENDABLE_STATUSES
from portal.organisations import demo as organisations_demo
from portal.organisations.models import Organisation
from portal.pipeline.models import PUBLIC_STATUSES, Opportunity

PAIRS_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "judged" / "demo_pairs.csv"
COLUMNS = ("direction", "profile_key", "profile_name", "entry_key", "entry_title", "relevant",
           "reason", "judged_by", "judged_on")
# The unjudged listing adds where the pair was seen and the text a judge needs to read.
UNJUDGED_COLUMNS = COLUMNS + ("rank", "shown_by", "buyer", "entry_text", "profile_text")
DIRECTIONS = ("recommend", "match")
RECOMMEND_DEPTH = 5   # the dashboard shows five recommendations
MATCH_DEPTH = 10      # the first ten suppliers of the matches page
TFIDF_DEPTH = 10      # how deep the TF-IDF lists go into the pool of pairs to judge
TEXT_CLIP = 700
# The figures reported: the engine's two lists, then the TF-IDF pool-maker's, each at its depth.
LABELS = (("recommend", RECOMMEND_DEPTH), ("matches", MATCH_DEPTH),
          ("tfidf.recommend", RECOMMEND_DEPTH), ("tfidf.matches", MATCH_DEPTH))

# The judged supplier profiles (source reference, name when chosen): VCSEs of varied kinds and
# sizes of profile, and two prime contractors.
JUDGED_PROFILES = (
    ("GB-CHC-1053968", "Penhaligons Friends"),  # children's bereavement; the demo VCSE account
    ("GB-CHC-1083390", "Together Collective"),  # older people's loneliness
    ("GB-CHC-1123615", "Merthyr and the Valleys Mind"),  # mental health, counselling
    ("GB-CHC-1083203", "Glass Door Homeless Charity"),  # homelessness
    ("GB-COH-RS007495", "Natures Nutrition Wellbeing"),  # a new VCSE with a thin profile
    ("DEMO-PRIME-1", "Example Prime Services Ltd"),  # health and social care prime
    ("OCDS-SUPPLIER-axiseuropeplc", "Axis Europe PLC"),  # building repairs prime
    ("GB-CHC-1062493", "SOS Domestic Abuse Projects"),  # domestic abuse, families
    ("GB-CHC-1031602", "Westminster Drug Project"),  # drugs and alcohol
    ("GB-CHC-1012485", "National Youth Advocacy Service"),  # young people, care leavers
    ("GB-CHC-1080896", "Carers Centre Hull"),  # carers
    ("GB-CHC-1093919", "Community Transport Calderdale Ltd"),  # community transport
    ("CCNI-106451", "Northern Ireland Women's Aid Federation Limited"),  # register-only profile
)
# The judged forward-plan entries (ocid, title when chosen): work VCSEs do, work they do not,
# and one in between. Three are awarded: their matches page is still shown.
JUDGED_ENTRIES = (
    ("ocds-b5fd17-7f6e81c3-3a36-447d-bc45-9fbfd3c3d728",
     "Domestic Abuse Support Services - Adults"),
    ("ocds-kuma6s-139455", "Neath Port Talbot and Swansea Substance Use (Drug & Alcohol) Alliance"),
    ("ocds-r6ebe6-0000575002", "NAC/1129 Provision of a Mentoring Programme for Care Experienced "
                               "Young People"),
    ("ocds-b5fd17-3c1ac4c0-e172-43a2-aefe-6963abc6e715", "Mole Valley District Council - Tenancy "
                                                         "Sustainment Service"),
    ("ocds-kuma6s-148107", "Adult Mental Health Services (Llanelli Cluster) Hywel Dda UHB"),
    ("ocds-b5fd17-02d2b5b1-e148-4965-92bc-d72dd5f3f6f2", "All Age Carers Service"),
    ("ocds-b5fd17-0d7a6907-8595-4413-9a4e-746f8a1313a0", "WCC - Day Opportunities (with and "
                                                         "without personal care) for Older People"),
    ("ocds-b5fd17-3eb9ea97-8da1-4da7-bed9-8b155663c3f0", "GLA81404 For Embedded Youth Work "
                                                         "Hospital Accident & Emergency (A&E)"),
    ("ocds-r6ebe6-0000578640", "Transport of Pupils with Additional Support Needs 2019-2022"),
    ("ocds-r6ebe6-0000574493", "Cullet Recycling"),
    ("ocds-kuma6s-147592", "FRAMEWORK FOR THE SUPPLY AND DELIVERY OF ASPHALT, MACADAM, DRYSTONE "
                           "AGGREGATE AND MIX CONCRETE"),
    ("ocds-r6ebe6-0000575122", "Server and Infrastructure Maintenance"),
    ("ocds-kuma6s-148370", "Framework for Capital Building Works"),
    ("ocds-r6ebe6-0000581400", "Reception , Treatment and Disposal of Residual Waste"),
    ("ocds-r6ebe6-0000579568", "NHS Lothian Radiotherapy Superficial X-Ray Therapy Unit"),
)


class JudgedSetError(Exception):
    """The judgements file is missing or malformed."""


# --- judgements ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Judgement:
    relevant: int
    reason: str


class Judgements:
    """Judged pairs, looked up by direction, supplier and entry.

    A judgement is about the pair: one made while reading the supplier's recommendations also
    answers for the same pair on the entry's matches page, unless that page has its own.
    """

    def __init__(self, rows=()):
        self.pairs = {}
        for direction, profile_key, entry_key, judgement in rows:
            self.pairs[(direction, profile_key, entry_key)] = judgement

    def __len__(self):
        return len(self.pairs)

    def lookup(self, direction, profile_key, entry_key):
        """The judgement of a pair shown in `direction`, or None when nobody has judged it."""
        found = self.pairs.get((direction, profile_key, entry_key))
        if found is None:
            other = next(d for d in DIRECTIONS if d != direction)
            found = self.pairs.get((other, profile_key, entry_key))
        return found


def read_judgements(path):
    """Read a judgements CSV. Rows whose `relevant` is blank are waiting to be judged and are
    skipped; any other value but 0 or 1 is an error, as is a missing column."""
    path = Path(path)
    if not path.is_file():
        raise JudgedSetError(f"{path} is missing")
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise JudgedSetError(f"{path.name} lacks columns: {', '.join(missing)}")
        rows = [_judged_row(path.name, number, row) for number, row in enumerate(reader, 2)]
    return Judgements(row for row in rows if row)


def _judged_row(name, number, row):
    relevant = (row["relevant"] or "").strip()
    if not relevant:
        return None
    if relevant not in ("0", "1") or row["direction"] not in DIRECTIONS:
        raise JudgedSetError(f"{name} line {number}: relevant must be 0 or 1 and direction "
                             f"one of {', '.join(DIRECTIONS)}")
    if not row["profile_key"] or not row["entry_key"]:
        raise JudgedSetError(f"{name} line {number}: a profile key and an entry key are needed")
    return (row["direction"], row["profile_key"], row["entry_key"],
            Judgement(int(relevant), row["reason"] or ""))


# --- precision -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """One pair on a list someone sees, at its place in the list."""

    direction: str
    profile_key: str
    profile_name: str
    entry_key: str
    entry_title: str
    rank: int


@dataclass
class ListScore:
    """How one list fared: what it showed, how much of it was judged relevant."""

    key: str
    name: str
    shown: int
    relevant: int
    unjudged: int

    @property
    def precision(self):
        return self.relevant / self.shown if self.shown else None


def score_list(key, name, pairs, judgements):
    """Score one list of Shown pairs; an unjudged pair counts as not relevant."""
    found = [judgements.lookup(p.direction, p.profile_key, p.entry_key) for p in pairs]
    return ListScore(key, name, len(pairs), sum(j.relevant for j in found if j),
                     sum(1 for j in found if j is None))


def summarise(scores, depth):
    """Figures over many lists: the mean precision of lists that showed something (a list
    showing nothing has no precision), precision over all pairs shown, and the counts."""
    showing = [s for s in scores if s.shown]
    shown = sum(s.shown for s in scores)
    unjudged = sum(s.unjudged for s in scores)
    return {
        f"precision@{depth}": (sum(s.precision for s in showing) / len(showing)
                               if showing else 0.0),
        f"pooled_precision@{depth}": sum(s.relevant for s in scores) / shown if shown else 0.0,
        "lists": len(scores), "shown": shown, "relevant": sum(s.relevant for s in scores),
        "judged": shown - unjudged, "unjudged": unjudged,
        f"fewer_than_{depth}": sum(1 for s in scores if s.shown < depth),
        "none_shown": len(scores) - len(showing),
    }


def summary_lines(label, figures):
    return [f"judged.{label}.{name} {value:.4f}" if isinstance(value, float)
            else f"judged.{label}.{name} {value}" for name, value in figures.items()]


def list_lines(label, scores):
    lines = []
    for s in scores:
        precision = "n/a" if s.precision is None else f"{s.precision:.4f}"
        lines.append(f"judged.{label}.list {s.key} shown={s.shown} relevant={s.relevant} "
                     f"unjudged={s.unjudged} precision={precision} # {s.name}")
    return lines


# --- building the demo and reading what the pages show -----------------------------------------

def build_demo(progress):
    """Load the demo data as `flask seed demo` does (its CLI refuses demo data in some
    configurations; a throwaway database is always fine), then refresh stored matches that are
    missing or waiting."""
    organisations_demo.load_demo(progress=progress)
    for package in DEMO_PACKAGES:
        importlib.import_module(f"portal.{package}.demo").load_demo(progress=progress)
    entries, kept, _seconds, suppliers = services.refresh_matches(stale_only=True)
    progress(f"refresh: {entries} entries, {kept} matches kept, {suppliers} suppliers again")


def profile_key(organisation):
    return organisation.source_ref or organisation.name


def entry_key(opportunity):
    return opportunity.ocid or f"{opportunity.organisation.name}: {opportunity.title}"


def _find(found, wanted, progress, kind):
    """The judged subjects present in this build, in the judged order."""
    present = []
    for key, name in wanted:
        if key in found:
            present.append(found[key])
        else:
            progress(f"judged {kind} missing from the demo data: {key} ({name})")
    return present


def dashboard_lists(profiles):
    """Each judged supplier's recommendations as its dashboard shows them."""
    lists = {}
    for org in profiles:
        rows = services.top_recommendations(org)[:RECOMMEND_DEPTH]
        lists[profile_key(org)] = [
            Shown("recommend", profile_key(org), org.name, entry_key(r.opportunity),
                  r.opportunity.title, rank) for rank, r in enumerate(rows, 1)]
    return lists


def matches_page_lists(entries):
    """Each judged entry's first suppliers as its matches page shows them to the buyer with no
    filter chosen."""
    filters, lists = services.build_filters(), {}
    for opp in entries:
        rows = services.find_matches(opp, opp.organisation, filters)[:MATCH_DEPTH]
        lists[entry_key(opp)] = [
            Shown("match", profile_key(r.organisation), r.organisation.name, entry_key(opp),
                  opp.title, r.rank) for r in rows]
    return lists


# --- the TF-IDF pool-maker ---------------------------------------------------------------------

TOKEN_RE = re.compile(r"[a-z][a-z']+")
STOP_WORDS = frozenset("""
a about after all also an and any are as at be been being but by can could do does for from
had has have how i if in into is it its may more most no not of on or other our out over per
shall should so some such than that the their them then there these they this those through
to under up upon was we were what when where which while who will with within would you your
""".split())


def tokens(text):
    return [w.strip("'") for w in TOKEN_RE.findall((text or "").lower())
            if w.strip("'") not in STOP_WORDS]


class TfIdf:
    """Plain TF-IDF vectors (log term frequency, smoothed IDF, unit length)."""

    def __init__(self, texts):
        counts = [set(tokens(t)) for t in texts]
        frequency = Counter(word for words in counts for word in words)
        total = len(counts)
        self.idf = {w: math.log((1 + total) / (1 + n)) + 1 for w, n in frequency.items()}

    def vector(self, text):
        weights = {w: (1 + math.log(n)) * self.idf.get(w, 0.0)
                   for w, n in Counter(tokens(text)).items()}
        norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
        return {w: v / norm for w, v in weights.items()}


def cosine(a, b):
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(w, 0.0) for w, v in a.items())


def profile_text(org):
    """A supplier as the pool-maker reads it: name, description, categories, past work."""
    parts = [org.name, org.description or ""]
    parts += [c.description for c in org.cpv_codes] + [t.value for t in org.terms]
    parts += [f"{w.title} {w.description or ''}" for w in org.past_work]
    return "\n".join(p for p in parts if p)


def entry_text(opp):
    return f"{opp.title}\n{opp.description or ''}"


def tfidf_lists(profiles, entries, suppliers, plan):
    """The TF-IDF pool-maker's lists: entries taking interest for each judged supplier, and
    active suppliers for each judged entry; ties go to the smaller key."""
    model = TfIdf([profile_text(o) for o in suppliers] + [entry_text(e) for e in plan])
    supplier_vectors = {profile_key(o): (o, model.vector(profile_text(o))) for o in suppliers}
    live = [(e, model.vector(entry_text(e))) for e in plan if e.status in RECOMMENDABLE_STATUSES]
    recommend, match = {}, {}
    for org in profiles:
        vector = supplier_vectors[profile_key(org)][1]
        best = _best(((cosine(vector, v), entry_key(e), e) for e, v in live), TFIDF_DEPTH)
        recommend[profile_key(org)] = [
            Shown("recommend", profile_key(org), org.name, key, e.title, rank)
            for rank, (key, e) in enumerate(best, 1)]
    for opp in entries:
        vector = model.vector(entry_text(opp))
        best = _best(((cosine(vector, v), key, o) for key, (o, v) in supplier_vectors.items()),
                     TFIDF_DEPTH)
        match[entry_key(opp)] = [Shown("match", key, o.name, entry_key(opp), opp.title, rank)
                                 for rank, (key, o) in enumerate(best, 1)]
    return recommend, match


def _best(scored, depth):
    ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [(key, item) for _score, key, item in ranked[:depth]]


# --- one run ----------------------------------------------------------------------------------

@dataclass
class Views:
    """Everything read from the throwaway portal, as plain values."""

    engine_recommend: dict
    engine_match: dict
    tfidf_recommend: dict
    tfidf_match: dict
    profile_names: dict
    entry_titles: dict
    texts: dict  # ("profile"|"entry", key) -> text; ("buyer", key) -> buyer name


def read_views(progress):
    """What the pages and the pool-maker show for the judged sample."""
    suppliers = db.session.scalars(
        select(Organisation).where(Organisation.org_type.in_(SUPPLIER_TYPES),
                                   Organisation.status == "active")
        .options(selectinload(Organisation.cpv_codes), selectinload(Organisation.terms),
                 selectinload(Organisation.past_work))).all()
    plan = db.session.scalars(select(Opportunity).where(Opportunity.status.in_(PUBLIC_STATUSES))
                              .options(selectinload(Opportunity.organisation))).all()
    profiles = _find({profile_key(o): o for o in suppliers}, JUDGED_PROFILES, progress, "profile")
    entries = _find({entry_key(e): e for e in plan}, JUDGED_ENTRIES, progress, "entry")
    texts = {("profile", profile_key(o)): profile_text(o) for o in suppliers}
    texts.update({("entry", entry_key(e)): (e.description or "") for e in plan})
    texts.update({("buyer", entry_key(e)): e.organisation.name for e in plan})
    return Views(dashboard_lists(profiles), matches_page_lists(entries),
                 *tfidf_lists(profiles, entries, suppliers, plan),
                 {profile_key(o): o.name for o in profiles},
                 {entry_key(e): e.title for e in entries}, texts)


def score_views(views, judgements):
    """ListScores per label, in the judged order. The pool-maker's lists are cut to the depth
    the pages show, so its figures compare with the engine's."""
    def scored(lists, names, depth):
        return [score_list(key, names[key], lists[key][:depth], judgements) for key in names]

    return {
        "recommend": scored(views.engine_recommend, views.profile_names, RECOMMEND_DEPTH),
        "matches": scored(views.engine_match, views.entry_titles, MATCH_DEPTH),
        "tfidf.recommend": scored(views.tfidf_recommend, views.profile_names, RECOMMEND_DEPTH),
        "tfidf.matches": scored(views.tfidf_match, views.entry_titles, MATCH_DEPTH),
    }


def unjudged_pairs(views, judgements):
    """Pairs shown by the engine or the pool-maker that nobody has judged, once each, with
    who showed them and the best rank they had."""
    found = {}
    for source, groups in (("engine", (views.engine_recommend, views.engine_match)),
                           ("tfidf", (views.tfidf_recommend, views.tfidf_match))):
        for lists in groups:
            for pair in (p for pairs in lists.values() for p in pairs):
                if judgements.lookup(pair.direction, pair.profile_key, pair.entry_key):
                    continue
                key = (pair.direction, pair.profile_key, pair.entry_key)
                held = found.get(key)
                if held is None:
                    found[key] = (pair, {source})
                else:
                    found[key] = (min(held[0], pair, key=lambda p: p.rank), held[1] | {source})
    return [(pair, "+".join(sorted(sources))) for pair, sources in found.values()]


def write_unjudged(path, pairs, texts):
    """The unjudged pairs as CSV rows ready to be judged: fill in relevant (0 or 1), reason,
    judged_by and judged_on, then add the first nine columns to the judgements file."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=UNJUDGED_COLUMNS)
        writer.writeheader()
        for pair, shown_by in pairs:
            writer.writerow({
                "direction": pair.direction, "profile_key": pair.profile_key,
                "profile_name": pair.profile_name, "entry_key": pair.entry_key,
                "entry_title": pair.entry_title, "relevant": "", "reason": "",
                "judged_by": "", "judged_on": "", "rank": pair.rank, "shown_by": shown_by,
                "buyer": texts.get(("buyer", pair.entry_key), ""),
                "entry_text": _clip(texts.get(("entry", pair.entry_key), "")),
                "profile_text": _clip(texts.get(("profile", pair.profile_key), "")),
            })


def _clip(text):
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= TEXT_CLIP else text[:TEXT_CLIP - 1] + "…"


def report_lines(scores, unjudged, judged_count):
    """Every figure, each list, the unjudged pairs the engine showed, and a summary line."""
    figures = {label: summarise(scores[label], depth) for label, depth in LABELS}
    lines = [line for label, _depth in LABELS for line in summary_lines(label, figures[label])]
    lines += list_lines("recommend", scores["recommend"]) + list_lines("matches", scores["matches"])
    engine_unjudged = [(p, by) for p, by in unjudged if "engine" in by]
    lines += [f"judged.unjudged {p.direction} {p.profile_key} {p.entry_key} rank={p.rank} "
              f"shown_by={by} # {p.profile_name} / {p.entry_title}" for p, by in engine_unjudged]
    heads = " ".join(f"{label}.precision@{depth}={figures[label][f'precision@{depth}']:.4f}"
                     for label, depth in LABELS)
    lines.append(f"summary judgements={judged_count} {heads} "
                 f"unjudged_shown_by_engine={len(engine_unjudged)}")
    return lines


def run(progress, pairs_path=None, unjudged_path=None):
    """Build the demo, read what is shown, score it; return the output lines. With
    `unjudged_path`, also write the pairs nobody has judged there as CSV."""
    started = time.monotonic()
    judgements = read_judgements(pairs_path or PAIRS_FILE)
    with temporary_portal():
        build_demo(progress)
        built = time.monotonic()
        progress(f"built the demo data ({built - started:.0f} s)")
        views = read_views(progress)
    unjudged = unjudged_pairs(views, judgements)
    if unjudged_path:
        write_unjudged(unjudged_path, unjudged, views.texts)
        progress(f"wrote {len(unjudged)} unjudged pairs to {unjudged_path}")
    lines = report_lines(score_views(views, judgements), unjudged, len(judgements))
    lines += [f"judged.build_seconds {built - started:.0f}",
              f"judged.seconds {time.monotonic() - started:.0f}"]
    return lines


def main(argv=None):
    """`python -m portal.bench.judged [--pairs FILE] [--unjudged FILE]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default=str(PAIRS_FILE), help="the judgements CSV")
    parser.add_argument("--unjudged", help="write the pairs nobody has judged to this CSV")
    args = parser.parse_args(argv)
    try:
        lines = run(lambda message: print(f"  {message}", file=sys.stderr),
                    pairs_path=args.pairs, unjudged_path=args.unjudged)
    except JudgedSetError as error:
        parser.exit(2, f"error: {error}\n")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
