"""Public representations of organisations. Nothing personal: no user accounts, no user emails."""
from flask import url_for

from portal.accreditation.services import current_standings
from portal.api.formats import day, utc_moment
from portal.organisations import services as organisation_services

PAST_WORK_LIMIT = 50


def _cpv(code):
    return {"code": code.code, "description": code.description,
            "is_social_service": code.is_social_service}


def _credential(credential):
    return {
        "kind": credential.kind, "kind_label": credential.kind_label, "title": credential.title,
        "reference": credential.reference, "cover_amount": credential.cover_amount,
        "expires_on": day(credential.expires_on), "expired": credential.is_expired,
    }


def _past_work(work):
    return {
        "title": work.title, "description": work.description, "funder_name": work.funder_name,
        "amount": work.amount, "awarded_on": day(work.awarded_on), "kind": work.kind,
        "source": work.source,
    }


def _accreditation(record):
    """The strongest current accreditation record as {tier, level, valid_until}, or None."""
    if record is None:
        return None
    return {"tier": record.level.tier, "level": record.level.name,
            "valid_until": day(record.expires_on)}


def _summary(org, standing):
    return {
        "id": org.id,
        "name": org.name,
        "other_names": org.other_names,
        "org_type": org.org_type,
        "org_type_label": org.type_label,
        "legal_form": org.legal_form,
        "legal_form_label": org.legal_form_label or None,
        "charity_number": org.charity_number,
        "company_number": org.company_number,
        "postcode": org.postcode,
        "website": org.website,
        "income_band": org.income_band,
        "income_band_label": org.income_band_label or None,
        "latest_income": org.latest_income,
        "description": org.description,
        "cpv_codes": [_cpv(c) for c in org.cpv_codes],
        "areas_summary": organisation_services.area_labels(org.areas),
        "accreditation": _accreditation(standing),
        "links": {
            "self": url_for("api.organisation", org_id=org.id, _external=True),
            "profile": url_for("organisations.show", org_id=org.id, _external=True),
        },
    }


def _detail(org):
    return {
        "address": org.address,
        "staff_count": org.staff_count,
        "volunteer_count": org.volunteer_count,
        "areas": [{"code": a.code, "name": a.name, "kind": a.kind} for a in org.areas],
        "client_groups": [t.value for t in org.client_groups],
        "ways_of_working": [t.value for t in org.ways_of_working],
        "credentials": [_credential(c) for c in org.credentials],
        "contact": {"role": org.contact_role, "email": org.contact_email},
        "past_work_total": len(org.past_work),
        "past_work": [_past_work(w) for w in org.past_work[:PAST_WORK_LIMIT]],
        "updated_at": utc_moment(org.updated_at),
    }


def serialize_organisation(org, detail=False, standings=None):
    """An organisation as public JSON: the summary used in lists, plus everything else in detail.
    `standings` holds current accreditation records by organisation id when already read."""
    if standings is None:
        standings = current_standings([org.id])
    data = _summary(org, standings.get(org.id))
    if detail:
        data.update(_detail(org))
    return data


def serialize_page(pagination):
    """A page of organisations with the numbers a client needs to fetch the rest."""
    standings = current_standings([org.id for org in pagination.items])
    return {
        "items": [serialize_organisation(org, standings=standings) for org in pagination.items],
        "page": pagination.page,
        "per_page": pagination.per_page,
        "total": pagination.total,
        "pages": pagination.pages,
    }
