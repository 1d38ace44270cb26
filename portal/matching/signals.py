"""The signals a commissioner weighs, each a score from 0 to 1 with a reason in plain words.

Every signal takes the query (`MatchQuery`) and a supplier's stored features (a dict made by
`portal.matching.features.supplier_features`), never the database, so the same functions can
rank suppliers for an opportunity or opportunities for a supplier.
"""
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from portal.matching.evidence import not_evidence
from portal.matching.features import held_tier
from portal.reference.places import gazetteer
from portal.reference.loaders import read_seed_csv
from portal.reference.services import cpv_descendant_prefix
from portal.search.services import terms


@dataclass(frozen=True)
class Signal:
    score: float
    reason: str | None = None


NONE = Signal(0.0)


# --- where -------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _coverage(served):
    """Authorities an organisation serves, and how focused that is (1 for one authority)."""
    gaz = gazetteer()
    codes = frozenset(gaz.expand(served))
    return codes, gaz.specificity(codes)


def area(query, supplier):
    """Does the organisation work where the work is? Closer and more local counts for more.

    Each place named by the query is weighed by how specific it is (a district more than a
    region, the whole country hardly at all); the supplier's evidence is being based there,
    serving it, or having done work there before.
    """
    places = query.places
    if not places:
        return NONE
    served, served_focus = _coverage(tuple(supplier.get("served") or ()))
    home = supplier.get("home")
    mentioned = set(supplier.get("mentioned") or ())
    near = _neighbourhood(home)
    anywhere = served | mentioned | near | {home}
    best = NONE
    for place, weight in query.weighted_places:
        if not anywhere & place.codes:
            continue
        # A programme's patch is named after the programme: say where the organisation is too.
        programme = place.kind == "programme"
        where = f"in {place.name}" if programme else "where this service will be delivered"
        for strength, reason in (
            (1.0, home in place.codes and f"Based in {_area_name(home)}, {where}"),
            (0.4 + 0.6 * served_focus, served & place.codes
             and (f"Works in {place.name}" if programme else f"Works in {place.name}, {where}")),
            (0.7, mentioned & place.codes and f"Has worked in {place.name} before"),
            (NEARBY, near & place.codes and f"Based nearby, in {_area_name(home)}"),
        ):
            if reason and weight * strength > best.score:
                best = Signal(weight * strength, reason)
    return best if best.score > 0 else _elsewhere(query, places, served, home)


def _elsewhere(query, places, served, home):
    """Say so when an entry with areas of its own is delivered where the supplier does not
    work (a supplier with no areas and no postcode is not known to work anywhere)."""
    if not query.area_codes or not (served or home):
        return NONE
    where = places[0].name + (f" and {len(places) - 1} more areas" if len(places) > 1 else "")
    return Signal(0.0, f"Delivered in {where}, outside the areas it works in")


# Being based in the same county (or, without one, the same region) as the work.
NEARBY = 0.4


@lru_cache(maxsize=1024)
def _neighbourhood(home):
    if not home:
        return frozenset()
    gaz = gazetteer()
    parents = gaz.parents(home)
    return frozenset(gaz.expand(parents[:1])) if parents else frozenset()


def _area_name(code):
    row = gazetteer().areas.get(code)
    return row["name"] if row else code


# --- who ---------------------------------------------------------------------------------------

def buyer_history(query, supplier, informativeness=1.0):
    """Has the organisation been funded by, or worked for, this buyer before?

    `informativeness` scales the score down when most suppliers compared share this history.
    """
    key = query.buyer_key
    if not key or key not in (supplier.get("funders") or ()):
        return NONE
    count = sum(1 for item in supplier.get("past") or () if item.get("funder") == key)
    if count > 1:
        return Signal(informativeness, f"Has had {count} awards from {query.buyer_name}")
    return Signal(informativeness, f"Has worked for {query.buyer_name} before")


def name(query, supplier):
    """The opportunity names the organisation by an acronym or another name it uses."""
    known = set(supplier.get("acronyms") or ())
    hits = [a for a in query.acronyms if a in known]
    if hits:
        known_as = supplier.get("name")
        return Signal(1.0, f"This entry mentions '{hits[0]}', a name {known_as} is known by")
    return NONE


# --- what --------------------------------------------------------------------------------------

def text(query, supplier, raw_score, best_score, matched, telling=None):
    """How well the words fit (BM25F), relative to the best-fitting candidate. The reason
    quotes the entry's phrases that hold a `telling` word ("older people", not "people")."""
    if raw_score <= 0 or best_score <= 0:
        return NONE
    phrases = matched_phrases(query, matched, telling)
    reason = f"Its profile mentions {_listed(phrases[:4])}, as this {query.noun} does" \
        if phrases else None
    return Signal(raw_score / best_score, reason)


def _listed(phrases):
    phrases = [p.lower() for p in phrases]
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]


def matched_phrases(query, matched, telling=None):
    """The query's own words behind the matched index terms, in text order; words that stand
    next to each other in the query join into one phrase ("older people"). With `telling`,
    only the phrases holding one of those terms."""
    spans = sorted(query.surface[t][1:] + (query.surface[t][0].lower(), t)
                   for t in matched if t in query.surface)
    phrases, last_end = [], None
    for start, end, word, term in spans:
        if last_end is not None and not query.text[last_end:start].strip():
            phrases[-1][0] += " " + word
            phrases[-1][1].add(term)
            phrases[-1][2] = end
        else:
            phrases.append([word, {term}, end])
        last_end = end
    kept = [_with_tail(query.text, phrase, end) for phrase, terms, end in phrases
            if telling is None or terms & telling]
    return list(dict.fromkeys(kept))


_NEXT_WORD = re.compile(r"[ \t]+([A-Za-z]+)")


def _with_tail(text, phrase, end):
    """A phrase with the word after it when that word only completes it: "older" and
    "people" read as "older people", "befriending" and "service" as "befriending service"."""
    following = _NEXT_WORD.match(text, end)
    if following and terms(following.group(1)) and \
            set(terms(following.group(1))) <= not_evidence():
        return f"{phrase} {following.group(1).lower()}"
    return phrase


def cpv(query, supplier):
    """Overlap of categories through the CPV hierarchy: the same code scores 1, a code under
    the asked-for one nearly as much, a shared parent by how deep it is."""
    wanted = [c for c in query.cpv_codes if c]
    offered = supplier.get("cpv") or ()
    if not wanted or not offered:
        return NONE
    total, best = 0.0, None
    for code in wanted:
        score, other = max((_cpv_closeness(code, o), o) for o in offered)
        total += score
        if best is None or score > best[0]:
            best = (score, other, code)
    if not best or best[0] <= 0:
        return NONE
    return Signal(total / len(wanted), _cpv_reason(*best, noun=query.noun))


def _cpv_reason(closeness, offered, wanted, noun="entry"):
    label = _cpv_label(offered)
    if closeness >= 1.0:
        return f"Offers {label}, one of this {noun}'s categories"
    if closeness >= SAME_CATEGORY:
        return f"Offers {label}, within this {noun}'s category of {_cpv_label(wanted)}"
    return f"Offers {label}, a category related to this {noun}'s"


# A supplier's category is the entry's own, or one under it.
SAME_CATEGORY = 0.9
# Categories named by fewer significant digits ("85": health and social work) say too
# little about the service to be evidence on their own.
SPECIFIC_CATEGORY_DIGITS = 5


def category_evidence(query, supplier):
    """How close the supplier's nearest category is to one of the entry's specific ones
    (1 the same, 0.9 one under it, less for a shared parent; 0 for none)."""
    wanted = [c for c in query.cpv_codes
              if c and len(cpv_descendant_prefix(c)) >= SPECIFIC_CATEGORY_DIGITS]
    offered = supplier.get("cpv") or ()
    return max((_cpv_closeness(w, o) for w in wanted for o in offered), default=0.0)


def _cpv_closeness(wanted, offered):
    w, o = cpv_descendant_prefix(wanted), cpv_descendant_prefix(offered)
    if o.startswith(w):
        return 1.0 if o == w else 0.9
    common = 0
    while common < min(len(w), len(o)) and w[common] == o[common]:
        common += 1
    return common / len(w) if common >= 2 else 0.0


@lru_cache(maxsize=1)
def _cpv_descriptions():
    return {row["code"]: row["description"] for row in read_seed_csv("reference/cpv_codes.csv.gz")}


def _cpv_label(code):
    return _cpv_descriptions().get(code, code).lower()


# --- can they do it ----------------------------------------------------------------------------

def tier(query, supplier):
    """Accreditation against the tier the commissioner recommends."""
    wanted, held = query.recommended_tier, held_tier(supplier)[0]
    level = supplier.get("level")
    accredited = f"Accredited at Tier {held}" + (f" ({level})" if level else "")
    if not wanted:
        return Signal(0.5 if held else 0.0, accredited if held else None)
    if not held:
        return Signal(0.0, f"Not yet accredited; this {query.noun} recommends Tier {wanted}")
    if held >= wanted:
        return Signal(1.0, f"{accredited}; this {query.noun} recommends Tier {wanted}")
    return Signal(0.5 if held == wanted - 1 else 0.0,
                  f"{accredited}; this {query.noun} recommends Tier {wanted}")


def capacity(query, supplier):
    """Can the organisation carry a contract of this size? Its level's ceiling is a hard
    limit; its income and the size of its past awards say what it is used to."""
    value = query.value
    if not value or value <= 0:
        return NONE
    ceiling = held_tier(supplier)[1]
    income, typical = supplier.get("income"), supplier.get("typical_award")
    if ceiling and value > ceiling:
        return Signal(0.0, f"Above its accreditation ceiling of £{ceiling:,.0f}")
    parts, reason = [], None
    if income:
        parts.append(1.0 if value <= income / 2 else max(0.0, 1 - math.log(2 * value / income)))
    if typical:
        parts.append(math.exp(-abs(math.log(value / typical)) / 1.5))
        if parts[-1] >= 0.5:
            reason = f"Past awards of a similar size (typically £{typical:,.0f})"
    if not parts:
        return NONE
    return Signal(sum(parts) / len(parts), reason)


def track_record(query, supplier, matched):
    """How much relevant work the organisation has done before."""
    past = supplier.get("past") or ()
    count = supplier.get("past_count") or len(past)
    if not count:
        return NONE
    volume = min(1.0, math.log1p(count) / math.log1p(10))
    relevant = [item for item in past if len(matched & set(item.get("terms") or ())) >= 2]
    if not relevant:
        return Signal(volume)
    kinds = _kind_label(relevant, len(relevant))
    from_buyer = [item for item in relevant if query.buyer_key
                  and item.get("funder") == query.buyer_key]
    if from_buyer:
        return Signal(volume, f"Has had {len(from_buyer)} similar "
                              f"{_kind_label(from_buyer, len(from_buyer))} from {query.buyer_name}")
    return Signal(volume, f"Has had {len(relevant)} similar {kinds}, such as "
                          f"'{relevant[0]['title']}'")


def _kind_label(past, count):
    kinds = {item.get("kind") for item in past}
    noun = "contract" if kinds == {"contract"} else "grant" if kinds == {"grant"} else "award"
    return noun if count == 1 else noun + "s"
