"""The contracts register: contracts that follow from awards (or are entered by hand), when they
end, and the re-procurement entry each one ending soon should have on the forward plan.

A contract "ends" on its final end: the last day of any extension, or its end date when it has
none, since a re-procurement has to be in place by then. A contract ending within
PROMPT_MONTHS is a prompt to add a re-procurement entry, until it has one that is still going
(an entry later withdrawn or cancelled no longer counts).

Dates are inclusive: a 12-month contract starting on 1 April 2025 ends on 31 March 2026, and
its re-procurement starts the day after.
"""
from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import selectinload

from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.core.mixins import utcnow
from portal.extensions import db
from portal.insight import access
from portal.insight.models import Contract
from portal.insight.months import add_months
from portal.insight.tables import Table
from portal.pipeline import services as pipeline
from portal.pipeline.models import MAX_MONTHS, MAX_POUNDS, Award, Opportunity, uk_now

PROMPT_MONTHS = 24
ESTIMATED_MONTHS = 12  # the length assumed when an awarded entry gives none
STOPPED = ("withdrawn", "cancelled")
ENDING = {"current": "Current contracts", "6": "Ending within 6 months",
          "12": "Ending within 12 months", "18": "Ending within 18 months",
          "24": "Ending within 24 months", "ended": "Ended", "all": "All contracts"}
SORTS = {"end": "End date", "value": "Value, highest first"}
SOON_SHOWN = 10
FINAL_END = func.coalesce(Contract.extension_ends_on, Contract.ends_on)
_LISTING = (selectinload(Contract.reprocurement),
            selectinload(Contract.award).selectinload(Award.opportunity))


# --- Dates --------------------------------------------------------------------------------------

def last_day(starts_on, months):
    """The last day of a term of `months` starting on `starts_on`."""
    return add_months(starts_on, months) - timedelta(days=1)


def months_between(starts_on, last):
    """The length of a term from `starts_on` to `last` (inclusive), to the nearest month."""
    after = last + timedelta(days=1)
    months = (after.year - starts_on.year) * 12 + after.month - starts_on.month
    if add_months(starts_on, months) > after:
        months -= 1
    if (after - add_months(starts_on, months)).days >= 15:
        months += 1
    return min(max(months, 1), MAX_MONTHS)


def today_in_uk():
    return uk_now().date()


# --- Contracts from awards ----------------------------------------------------------------------

def terms_from_award(award):
    """The contract an award makes: its fields, as the awarded entry and its winners give them."""
    entry = award.opportunity
    starts_on = entry.contract_start_on or award.awarded_on
    months = entry.contract_months or ESTIMATED_MONTHS
    extension = entry.extension_months
    winners = award.winners
    return {"organisation_id": entry.organisation_id, "award_id": award.id, "source": "award",
            "title": entry.title, "main_cpv_code": entry.main_cpv_code, "value": award.value,
            "supplier_names": "; ".join(w.name for w in winners)[:600] or None,
            "any_vcse": any(w.is_vcse for w in winners),
            "any_sme": any(w.is_sme for w in winners), "starts_on": starts_on,
            "ends_on": last_day(starts_on, months),
            "extension_ends_on": last_day(starts_on, months + extension) if extension else None}


def _new_contract(terms):
    # Both timestamps alike: until the buyer saves the contract, an estimated end shows as such.
    now = utcnow()
    return Contract(created_at=now, updated_at=now, **terms)


def _awards_without_contract():
    has_contract = select(Contract.id).where(Contract.award_id == Award.id).exists()
    return (select(Award).join(Award.opportunity).where(~has_contract)
            .options(selectinload(Award.winners), selectinload(Award.opportunity))
            .order_by(Award.id))


def _add_missing(stmt):
    contracts = [_new_contract(terms_from_award(award))
                 for award in db.session.scalars(stmt).all()]
    db.session.add_all(contracts)
    db.session.flush()
    return contracts


def contracts_for_awards(award_ids, actor=None):
    """Create the contract of each of these awards that has none yet (called after the commit
    that recorded them). Returns the contracts created."""
    stmt = _awards_without_contract().where(Award.id.in_(sorted(award_ids)))
    created = _add_missing(stmt)
    if not created:
        return created
    for contract in created:
        audit.record("contract.created", contract, actor_id=getattr(actor, "id", None),
                     source="award", award=contract.award_id)
    db.session.commit()
    return created


def sync_contracts(org=None):
    """Create the contract of every award (of `org`, or of every buyer) that has none: awards
    recorded before the register existed, or loaded as demo data. Safe to run again; returns
    how many were created."""
    stmt = _awards_without_contract()
    if org is not None:
        stmt = stmt.where(Opportunity.organisation_id == org.id)
    created = _add_missing(stmt)
    if created:
        audit.record("contracts.synced", organisation_id=getattr(org, "id", None),
                     created=len(created))
    db.session.commit()
    return len(created)


# --- Reading the register -----------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterQuery:
    ending: str = "current"
    sort: str = "end"

    def as_args(self):
        """The choices that differ from the defaults, for links to other pages and the CSV."""
        defaults = asdict(RegisterQuery())
        return {key: value for key, value in asdict(self).items() if value != defaults[key]}

    @property
    def label(self):
        return ENDING[self.ending]


def parse_register_query(args, default_ending="current"):
    """The filter and order from query-string `args`; anything unknown falls back to the
    default."""
    ending, sort = args.get("ending") or default_ending, args.get("sort")
    return RegisterQuery(ending=ending if ending in ENDING else default_ending,
                         sort=sort if sort in SORTS else "end")


def _live_reprocurements():
    return select(Opportunity.id).where(Opportunity.status.not_in(STOPPED))


def _covered():
    # Spelled with IS NOT NULL so that its negation is true, not NULL, for a contract with none.
    return and_(Contract.reprocurement_id.is_not(None),
                Contract.reprocurement_id.in_(_live_reprocurements()))


def is_covered(contract):
    """Whether the contract has a re-procurement entry that is still going."""
    entry = contract.reprocurement
    return entry is not None and entry.status not in STOPPED


def reprocurement_state(contract, today=None):
    """Where the contract stands for re-procurement: "covered" (an entry is going), "due"
    (it ends within PROMPT_MONTHS without one), "later" or "ended"."""
    today = today or today_in_uk()
    if is_covered(contract):
        return "covered"
    if contract.final_end < today:
        return "ended"
    return "due" if contract.final_end <= add_months(today, PROMPT_MONTHS) else "later"


def is_end_estimated(contract):
    """An end worked out from an award whose entry gave no contract length, which the buyer
    has not saved since."""
    entry = contract.award.opportunity if contract.award is not None else None
    return (contract.source == "award" and entry is not None and not entry.contract_months
            and contract.updated_at == contract.created_at)


def _ending(stmt, ending, today):
    if ending == "ended":
        return stmt.where(FINAL_END < today)
    if ending == "all":
        return stmt
    stmt = stmt.where(FINAL_END >= today)
    if ending.isdigit():
        stmt = stmt.where(FINAL_END <= add_months(today, int(ending)))
    return stmt


def _ordered(stmt, query):
    by_end = FINAL_END.desc() if query.ending == "ended" else FINAL_END
    if query.sort == "value":
        return stmt.order_by(Contract.value.is_(None), Contract.value.desc(), by_end,
                             Contract.id)
    return stmt.order_by(by_end, Contract.id)


def _register_stmt(org, query, today):
    stmt = select(Contract).where(Contract.organisation_id == org.id).options(*_LISTING)
    return _ordered(_ending(stmt, query.ending, today), query)


def register(org, query, page=1, today=None, per_page=20):
    """One page of the buyer's contracts, filtered and ordered as `query` says."""
    stmt = _register_stmt(org, query, today or today_in_uk())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=None)


def _within_prompt(org, today):
    return select(Contract).where(Contract.organisation_id == org.id, FINAL_END >= today,
                                  FINAL_END <= add_months(today, PROMPT_MONTHS))


def _count(stmt):
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def ending_soon(org, today=None, limit=SOON_SHOWN):
    """Contracts ending within PROMPT_MONTHS with no re-procurement entry, soonest first:
    (the first `limit`, how many there are)."""
    stmt = _within_prompt(org, today or today_in_uk()).where(~_covered())
    rows = db.session.scalars(stmt.options(*_LISTING).order_by(FINAL_END, Contract.id)
                              .limit(limit)).all()
    return rows, _count(stmt)


def expiring_summary(org, today=None):
    """For the dashboard: how many contracts end within PROMPT_MONTHS and how many of them
    already have a re-procurement entry."""
    stmt = _within_prompt(org, today or today_in_uk())
    expiring, covered = _count(stmt), _count(stmt.where(_covered()))
    return {"months": PROMPT_MONTHS, "expiring": expiring, "with_reprocurement": covered,
            "without_reprocurement": expiring - covered}


@dataclass
class RegisterPage:
    buyer: object
    query: RegisterQuery
    results: object
    soon: list
    soon_total: int
    summary: dict


def register_page(buyer, query, page=1, today=None):
    """Everything the register page shows: one page of the register, the contracts ending
    soon without a re-procurement entry, and the counts."""
    today = today or today_in_uk()
    soon, soon_total = ending_soon(buyer, today)
    return RegisterPage(buyer, query, register(buyer, query, page, today), soon, soon_total,
                        expiring_summary(buyer, today))


CSV_HEADINGS = ("Title", "Suppliers", "VCSE", "SME", "Value (£)", "Start", "End",
                "Extension end", "End estimated", "Re-procurement entry",
                "Re-procurement stage", "Source")


def _csv_row(contract):
    entry = contract.reprocurement

    def day(value):
        return value.isoformat() if value else ""
    return (contract.title, contract.supplier_names or "", _yes(contract.any_vcse),
            _yes(contract.any_sme), contract.value, day(contract.starts_on),
            day(contract.ends_on), day(contract.extension_ends_on),
            _yes(is_end_estimated(contract)), entry.reference if entry else "",
            entry.status_label if entry else "", contract.source)


def _yes(flag):
    return "Yes" if flag else "No"


def register_table(org, query, today=None):
    """The whole filtered register (every page) as a Table, for the CSV download."""
    contracts = db.session.scalars(_register_stmt(org, query, today or today_in_uk())).all()
    return Table("contracts", f"Contracts of {org.name}", query.label, CSV_HEADINGS,
                 [_csv_row(contract) for contract in contracts])


def public_register(organisation_id, query, page, per_page):
    """One page of a commissioner's contracts for the API; anyone may read a verified
    buyer's."""
    buyer = access.verified_buyer(organisation_id)
    return register(buyer, query, page, per_page=per_page)


# --- One contract -------------------------------------------------------------------------------

def get_contract(contract_id, user):
    """A contract the user may see: its buyer's own, or any for a site administrator."""
    contract = db.session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("Contract not found")
    access.buyer_for(user, contract.organisation_id)
    return contract


def get_own_contract(contract_id, user):
    """A contract of the user's own organisation, to change; anything else is missing."""
    org = access.own_buyer(user)
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.organisation_id != org.id:
        raise NotFound("Contract not found")
    return contract


def can_change(user, contract):
    """Whether the user works for the contract's buyer (a site administrator only reads)."""
    return pipeline.is_commissioner(user) and user.organisation_id == contract.organisation_id


def _terms(contract):
    return {"starts_on": contract.starts_on, "ends_on": contract.ends_on,
            "extension_ends_on": contract.extension_ends_on, "value": contract.value}


def _apply_terms(contract, data):
    for field, noun in (("starts_on", "start date"), ("ends_on", "end date")):
        if data.get(field) is None:
            raise DomainError(f"Enter the {noun}", field=field)
    value = data.get("value")
    if value is not None and value >= MAX_POUNDS:
        raise DomainError("Enter a value below £1,000,000,000,000", field="value")
    contract.set_dates(data["starts_on"], data["ends_on"], data.get("extension_ends_on"))
    contract.set_value(value)


def update_contract(contract, data, actor):
    """Change a contract's dates, extension and value; saving confirms an estimated end.
    Returns the names of the fields that changed."""
    before = _terms(contract)
    try:
        _apply_terms(contract, data)
    except DomainError:
        db.session.rollback()
        raise
    contract.updated_at = utcnow()
    after = _terms(contract)
    changed = sorted(name for name in after if after[name] != before[name])
    audit.record("contract.updated", contract, actor_id=getattr(actor, "id", None),
                 changed=changed)
    db.session.commit()
    return changed


def _manual_details(data):
    title = (data.get("title") or "").strip()
    if not title:
        raise DomainError("Enter the title of the contract", field="title")
    if len(title) > 300:
        raise DomainError("Title must be 300 characters or fewer", field="title")
    suppliers = (data.get("supplier_names") or "").strip() or None
    if suppliers and len(suppliers) > 600:
        raise DomainError("Suppliers must be 600 characters or fewer", field="supplier_names")
    cpv = pipeline.resolve_cpv_code(data.get("main_cpv_code") or "")
    return {"title": title, "supplier_names": suppliers, "main_cpv_code": cpv.code if cpv else None,
            "any_vcse": bool(data.get("any_vcse")), "any_sme": bool(data.get("any_sme"))}


def add_contract(org, data, actor):
    """Add a contract let outside the portal to the buyer's register."""
    try:
        contract = _new_contract({"organisation_id": org.id, "source": "manual",
                                  **_manual_details(data)})
        _apply_terms(contract, data)
    except DomainError:
        db.session.rollback()
        raise
    db.session.add(contract)
    db.session.flush()
    audit.record("contract.created", contract, actor_id=getattr(actor, "id", None),
                 source="manual")
    db.session.commit()
    return contract


# --- Re-procurement -----------------------------------------------------------------------------

def _original_entry(contract):
    return contract.award.opportunity if contract.award is not None else None


def _description(contract):
    suppliers = f", held by {contract.supplier_names}," if contract.supplier_names else ""
    return (f"Re-procurement of {contract.title}{suppliers} which ends on "
            f"{contract.final_end.day} {contract.final_end:%B %Y}.")


def reprocurement_data(contract):
    """A draft entry's fields for re-procuring `contract`, as `create_opportunity` takes them:
    the original entry's description, category, areas and client groups when there is one,
    the contract's length, and a start the day after its final end."""
    entry = _original_entry(contract)
    data = {"title": f"{contract.title[:283]} (re-procurement)",
            "description": (entry.description if entry else None) or _description(contract),
            "contract_months": months_between(contract.starts_on, contract.ends_on),
            "contract_start_on": contract.final_end + timedelta(days=1)}
    if contract.extension_ends_on:
        data["extension_months"] = months_between(contract.ends_on + timedelta(days=1),
                                                  contract.extension_ends_on)
    main_cpv = (entry.main_cpv_code if entry else None) or contract.main_cpv_code
    if main_cpv:
        data["main_cpv_code"] = main_cpv
    if entry is not None:
        data["areas"] = [area.code for area in entry.areas]
        data["client_groups"] = [str(term.id) for term in entry.client_groups]
    return data


def start_reprocurement(contract, actor):
    """Add a draft re-procurement entry for the contract to its buyer's forward plan and link
    the two. Returns the entry."""
    if is_covered(contract):
        raise DomainError("This contract already has a re-procurement entry")
    contract_id = contract.id
    entry = pipeline.create_opportunity(contract.organisation, reprocurement_data(contract),
                                        actor)
    # Linking the entry is not a change to the contract's terms, so `updated_at` is kept and
    # an estimated end still shows as estimated.
    db.session.execute(update(Contract).where(Contract.id == contract_id)
                       .values(reprocurement_id=entry.id, updated_at=Contract.updated_at)
                       .execution_options(synchronize_session=False))
    audit.record("contract.reprocurement_started", contract,
                 actor_id=getattr(actor, "id", None), opportunity=entry.id)
    db.session.commit()
    return entry
