"""What each searchable model looks like in the index."""
import hashlib
import json

from whoosh import fields

from portal.reference.services import cpv_descendant_prefix
from portal.search.analysis import preanalysed, terms, text_analyzer

ANALYZER = text_analyzer()
# Profile text is analysed once, by `terms()`, and given to the index as terms: analysing the
# same words again for every field was most of the cost of indexing. No positions are kept (no
# phrase search): matching and keyword search score words, not phrases.
PREANALYSED = preanalysed()
# Field weights for the match score (BM25F): a word in the name or the services an organisation
# describes says more than the same word somewhere in its track record.
FIELD_BOOSTS = {"name": 2.0, "services": 1.2, "track": 1.0}
# Keyword search in the directory weighs a name match highest.
KEYWORD_BOOSTS = {"name": 3.0, "text": 1.0}

ORGANISATION_SCHEMA = fields.Schema(
    # Also kept as a column, so a search reads ids without unpickling whole documents.
    id=fields.ID(stored=True, unique=True, sortable=True),
    # Names, other names and the initials they give, so "MRCF" finds its forum.
    name=fields.TEXT(analyzer=PREANALYSED, phrase=False),
    # What the organisation says it does: description, categories, client groups.
    services=fields.TEXT(analyzer=PREANALYSED, phrase=False),
    # Past grants and contracts: titles and descriptions.
    track=fields.TEXT(analyzer=PREANALYSED, phrase=False),
    # Everything above in one field, for keyword search and the fast candidate stage.
    text=fields.TEXT(analyzer=PREANALYSED, phrase=False),
    org_type=fields.ID(stored=True),
    # Area codes served, with the county, region and nation of each, so a search in a local
    # authority also finds suppliers that cover it through a wider area.
    areas=fields.KEYWORD(),
    # The area codes as given (and the home authority): a county-wide supplier serves each
    # authority in the county.
    served=fields.KEYWORD(),
    # CPV codes with every ancestor's prefix: a search for a class finds its sub-codes.
    cpv=fields.KEYWORD(),
    funders=fields.KEYWORD(),
    tier=fields.NUMERIC(stored=True),
    # The last day the tier's accreditation runs to (YYYYMMDD): once it has passed, the tier
    # stops counting, before the lapse is recorded and the profile indexed again.
    tier_until=fields.NUMERIC(),
    income_band=fields.ID(),
    status=fields.ID(),
    features=fields.STORED(),
    version=fields.STORED(),
)


def organisation_document(org):
    """Flatten an organisation into index fields.

    `version` is a hash of everything else, so a check spots a stale document whatever
    changed, including rows that do not touch the organisation's own timestamp.
    """
    from portal.matching.features import supplier_features

    features = supplier_features(org, terms)
    names = [org.name, org.other_names or "", " ".join(features["acronyms"])]
    services = [org.description or ""] + [c.description for c in org.cpv_codes]
    services += [t.value for t in org.terms]
    track = [f"{w.title}\n{w.description or ''}" for w in org.past_work]
    analysed = {field: " ".join(terms("\n".join(parts))) for field, parts in
                (("name", names), ("services", services), ("track", track))}
    document = {
        "id": str(org.id),
        **analysed,
        "text": " ".join(part for part in analysed.values() if part),
        "org_type": org.org_type,
        "areas": " ".join(area_tokens(org.areas, features["home"])),
        "served": " ".join(sorted({a.code for a in org.areas} | (
            {features["home"]} if features["home"] else set()))),
        "cpv": " ".join(cpv_tokens(c.code for c in org.cpv_codes)),
        "funders": " ".join(features["funders"]),
        "tier": features["tier"] or 0,
        # Left out (None) when not accredited.
        "tier_until": int(features["tier_until"].replace("-", "")) if features["tier_until"]
        else None,
        "income_band": org.income_band or "",
        "status": org.status,
        "features": features,
    }
    document["version"] = _version(document)
    return document


def area_tokens(areas, home=None):
    """Each area's code with the codes of the county, region and nation around it."""
    from portal.matching.places import gazetteer

    gaz = gazetteer()
    codes = {a.code for a in areas} | ({home} if home else set())
    return sorted(codes | {parent for code in codes for parent in gaz.parents(code)})


def cpv_tokens(codes):
    """Every prefix from the division down: "85311000" -> 85, 853, 8531, 85311."""
    tokens = set()
    for code in codes:
        significant = cpv_descendant_prefix(code)
        tokens |= {significant[:n] for n in range(2, len(significant) + 1)}
    return sorted(tokens)


def _version(document):
    payload = json.dumps({k: v for k, v in document.items() if k != "version"},
                         sort_keys=True, default=str)
    return hashlib.sha1(payload.encode()).hexdigest()
