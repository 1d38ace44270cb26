"""What each searchable model looks like in the index."""
from whoosh import fields
from whoosh.analysis import StemmingAnalyzer

ORGANISATION_SCHEMA = fields.Schema(
    id=fields.ID(stored=True, unique=True),
    name=fields.TEXT(stored=True, field_boost=3.0, analyzer=StemmingAnalyzer()),
    text=fields.TEXT(analyzer=StemmingAnalyzer()),
    org_type=fields.ID(stored=True),
    areas=fields.KEYWORD(commas=True),
    cpv=fields.KEYWORD(commas=True),
    income_band=fields.ID(),
    status=fields.ID(),
    version=fields.STORED(),
)


def organisation_document(org):
    """Flatten an organisation into index fields; `version` lets a check spot stale documents."""
    text_parts = [org.other_names or "", org.description or ""]
    text_parts += [c.description for c in org.cpv_codes]
    text_parts += [t.value for t in org.terms]
    text_parts += [w.title + " " + (w.description or "") for w in org.past_work]
    return {
        "id": str(org.id),
        "name": org.name,
        "text": "\n".join(text_parts),
        "org_type": org.org_type,
        "areas": ",".join(a.code for a in org.areas),
        "cpv": ",".join(c.code for c in org.cpv_codes),
        "income_band": org.income_band or "",
        "status": org.status,
        "version": org.updated_at.isoformat() if org.updated_at else "",
    }
