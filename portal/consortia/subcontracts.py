"""Use cases of sub-contracting and fairness after award: packages a prime offers, the
responses it shortlists and selects, the sub-contracts it records (which join the
sub-contractor's track record), payment reports from its supply chain, and concerns raised
with the buyer."""
from datetime import date

from sqlalchemy import and_, func, or_, select

from portal.core import audit
from portal.core.exceptions import DomainError, NotFound
from portal.core.mail import send_email
from portal.consortia.models import (
    Concern, ConsortiumMember, Consortium, PackageResponse, PaymentReport, Subcontract,
    SubcontractPackage,
)
from portal.consortia import suggestions
from portal.consortia.services import _require_supplier, supplier_of
from portal.extensions import db
from portal.matching import services as matching
from portal.organisations.services import EarnedWork, record_past_work_from
from portal.organisations.models import Organisation
from portal.pipeline.models import Opportunity
from portal.search.services import search_opportunity_ids

PACKAGES_PER_PAGE = 20
POSTABLE_STATUSES = ("planned", "market_engagement", "open", "evaluation", "awarded")


# --- Packages -----------------------------------------------------------------------------------

def create_package(opportunity, user, **fields):
    """A prime or consortium lead offers part of an entry's (or awarded contract's) work."""
    organisation = _require_supplier(user)
    if opportunity.status not in POSTABLE_STATUSES:
        raise DomainError("Sub-contract packages can be posted for published entries and "
                          "awarded contracts only")
    package = SubcontractPackage(opportunity_id=opportunity.id, organisation_id=organisation.id,
                                 created_by_id=user.id, **fields)
    db.session.add(package)
    db.session.flush()
    _store_fits(package)
    audit.record("consortia.package_posted", package, actor_id=user.id,
                 opportunity=opportunity.id)
    db.session.commit()
    return package


def _store_fits(package):
    suggestions.store_fits(suggestions.package_query(package), {package.organisation_id},
                           package_id=package.id)


def get_package(package_id):
    """A package on a published entry, as anyone signed in may read it."""
    package = db.session.get(SubcontractPackage, package_id)
    if package is None or not package.opportunity.is_public:
        raise NotFound("Sub-contract package not found")
    return package


def get_own_package(package_id, user):
    package = get_package(package_id)
    if supplier_of(user) is None or package.organisation_id != user.organisation_id:
        raise NotFound("Sub-contract package not found")
    return package


def edit_package(package, user, **fields):
    if package.status != "open":
        raise DomainError("Only an open package can be changed")
    package.describe(**fields)
    _store_fits(package)
    audit.record("consortia.package_edited", package, actor_id=user.id)
    db.session.commit()
    return package


def withdraw_package(package, user):
    package.withdraw()
    audit.record("consortia.package_withdrawn", package, actor_id=user.id)
    db.session.commit()
    return package


def packages_for_entry(opportunity):
    return db.session.scalars(select(SubcontractPackage).where(
        SubcontractPackage.opportunity_id == opportunity.id,
        SubcontractPackage.status != "withdrawn").order_by(
        SubcontractPackage.closes_on, SubcontractPackage.id)).all()


def open_packages(q=None, page=1, per_page=PACKAGES_PER_PAGE, today=None):
    """Open packages across the portal, closing soonest first; `q` looks in their words and
    their entry's title."""
    query = select(SubcontractPackage).join(SubcontractPackage.opportunity).where(
        SubcontractPackage.status == "open",
        SubcontractPackage.closes_on >= (today or date.today()))
    if (q or "").strip():
        query = query.where(or_(
            SubcontractPackage.opportunity_id.in_(search_opportunity_ids(q)),
            and_(*[or_(func.lower(SubcontractPackage.title).like(f"%{word.lower()}%"),
                       func.lower(SubcontractPackage.description).like(f"%{word.lower()}%"))
                   for word in q.split()[:8]])))
    query = query.order_by(SubcontractPackage.closes_on, SubcontractPackage.id)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def own_packages(organisation):
    return db.session.scalars(select(SubcontractPackage).where(
        SubcontractPackage.organisation_id == organisation.id).order_by(
        SubcontractPackage.created_at.desc())).all()


# --- Responses ----------------------------------------------------------------------------------

def respond_to_package(package, user, note):
    """An organisation expresses interest in a package; the prime is emailed."""
    organisation = _require_supplier(user)
    if not package.is_open:
        raise DomainError("This package is no longer taking responses", field="note")
    if package.organisation_id == organisation.id:
        raise DomainError("This is your own package", field="note")
    if package.response_from(organisation.id) is not None:
        raise DomainError("Your organisation has already responded to this package",
                          field="note")
    # By id, so that a refused note never joins the package's responses in memory.
    response = PackageResponse(package_id=package.id, organisation_id=organisation.id,
                               user_id=user.id, note=note)
    db.session.add(response)
    db.session.flush()
    audit.record("consortia.package_response", response, actor_id=user.id, package=package.id)
    for email in matching.member_emails(package.organisation_id):
        send_email(email, f"{organisation.name} responded to: {package.title}"[:200],
                   "email/subcontract_response.txt", package=package, organisation=organisation)
    db.session.commit()
    return response


def _require_package_open(package):
    """Shortlisting and selecting are for a package still open (its closing date may have
    passed: choosing from the responses comes after it)."""
    if package.status != "open":
        raise DomainError(f"This package is {package.status_label.lower()}: its responses "
                          "can no longer be changed")


def get_own_response(package, response_id):
    response = db.session.get(PackageResponse, response_id)
    if response is None or response.package_id != package.id:
        raise NotFound("Response not found")
    return response


def move_response(package, response, user, status):
    """The prime shortlists a response or turns it down."""
    if status == "selected":
        raise DomainError("Record the sub-contract to select an organisation")
    _require_package_open(package)
    response.move_to(status)
    audit.record("consortia.package_response_moved", response, actor_id=user.id,
                 organisation_id=package.organisation_id, status=status)
    db.session.commit()
    return response


def select_response(package, response, user, value, starts_on, ends_on):
    """The prime selects a shortlisted response and records the sub-contract, which joins the
    sub-contractor's track record. Other responses still waiting are told they were not
    selected."""
    _require_package_open(package)
    contract = Subcontract(opportunity_id=package.opportunity_id, package_id=package.id,
                           prime_organisation_id=package.organisation_id,
                           organisation_id=response.organisation_id, title=package.title,
                           value=value, starts_on=starts_on, ends_on=ends_on)
    response.move_to("selected")
    db.session.add(contract)
    package.status = "awarded"
    for other in package.responses:
        if other.status in ("submitted", "shortlisted"):
            other.status = "not_selected"
    db.session.flush()
    _record_track(contract, user)
    audit.record("consortia.subcontract_recorded", contract, actor_id=user.id,
                 organisation_id=package.organisation_id, package=package.id, value=value)
    db.session.commit()
    return contract


def _record_track(contract, user):
    scope = f"subcontract:{contract.id}"
    record_past_work_from(scope, [EarnedWork(
        organisation=contract.organisation, source=scope, title=contract.title,
        description=f"Sub-contract from {contract.prime.name} for "
                    f"'{contract.opportunity.title}'",
        funder_name=contract.prime.name, amount=contract.value,
        awarded_on=contract.starts_on or date.today(), kind="contract")], actor=user)


# --- Fairness after award -----------------------------------------------------------------------

def supply_chain_of(organisation):
    """(opportunity, prime) pairs where the organisation is a sub-contractor or a consortium
    partner (not the lead): whom it may report payments and raise concerns about."""
    pairs = {}
    for contract in db.session.scalars(select(Subcontract).where(
            Subcontract.organisation_id == organisation.id)):
        pairs[(contract.opportunity_id, contract.prime_organisation_id)] = (
            contract.opportunity, contract.prime)
    for team in db.session.scalars(select(Consortium).join(Consortium.all_members).where(
            ConsortiumMember.organisation_id == organisation.id,
            ConsortiumMember.left_at.is_(None),
            Consortium.lead_organisation_id != organisation.id)):
        pairs[(team.opportunity_id, team.lead_organisation_id)] = (team.opportunity, team.lead)
    return list(pairs.values())


def _require_in_chain(user, opportunity_id, prime_id):
    organisation = _require_supplier(user)
    if not any(o.id == opportunity_id and p.id == prime_id
               for o, p in supply_chain_of(organisation)):
        raise NotFound("Contract not found")
    return organisation


def can_report_payments(organisation, opportunity, prime):
    """Payments are reported on work under way: a recorded sub-contract, or a consortium
    whose entry has been awarded."""
    return opportunity.status == "awarded" or db.session.scalar(select(Subcontract.id).where(
        Subcontract.opportunity_id == opportunity.id, Subcontract.organisation_id ==
        organisation.id, Subcontract.prime_organisation_id == prime.id).limit(1)) is not None


def subcontracts_held(organisation):
    """The sub-contracts recorded with the organisation, newest first."""
    return db.session.scalars(select(Subcontract).where(
        Subcontract.organisation_id == organisation.id).order_by(
        Subcontract.created_at.desc())).all()


def subcontracts_given(organisation):
    """The sub-contracts the organisation has recorded as prime, newest first."""
    return db.session.scalars(select(Subcontract).where(
        Subcontract.prime_organisation_id == organisation.id).order_by(
        Subcontract.created_at.desc())).all()


def own_payment_record(prime):
    """(reports, % within 30 days, % within 60 days) across everything its supply chain has
    reported about paying it: a prime sees its own record as buyers see it."""
    reports = db.session.scalars(select(PaymentReport).where(
        PaymentReport.prime_organisation_id == prime.id)).all()
    return len(reports), _share(reports, 30), _share(reports, 60)


def payment_reports_by(organisation):
    """The payments the organisation has reported, newest first."""
    return db.session.scalars(select(PaymentReport).where(
        PaymentReport.organisation_id == organisation.id).order_by(
        PaymentReport.created_at.desc(), PaymentReport.id.desc())).all()


def report_payment(user, opportunity_id, prime_id, invoiced_on=None, paid_on=None,
                   within_terms=None):
    """A partner or sub-contractor reports how an invoice was paid, on work under way."""
    organisation = _require_in_chain(user, opportunity_id, prime_id)
    opportunity = db.session.get(Opportunity, opportunity_id)
    if not can_report_payments(organisation, opportunity, db.session.get(
            Organisation, prime_id)):
        raise DomainError("Payments can be reported once the contract has been awarded",
                          field="invoiced_on")
    report = PaymentReport(opportunity_id=opportunity_id, prime_organisation_id=prime_id,
                           organisation_id=organisation.id, user_id=user.id,
                           invoiced_on=invoiced_on, paid_on=paid_on, within_terms=within_terms)
    db.session.add(report)
    db.session.flush()
    audit.record("consortia.payment_reported", report, actor_id=user.id, prime=prime_id)
    db.session.commit()
    return report


def payment_performance(buyer):
    """Per prime on the buyer's entries: reports, and the share of invoices paid within 30
    and within 60 days (of those where it can be told)."""
    reports = db.session.scalars(select(PaymentReport).join(PaymentReport.opportunity).where(
        Opportunity.organisation_id == buyer.id)).all()
    by_prime = {}
    for report in reports:
        by_prime.setdefault(report.prime, []).append(report)
    return [(prime, len(rows), _share(rows, 30), _share(rows, 60))
            for prime, rows in sorted(by_prime.items(), key=lambda item: item[0].name)]


def _share(reports, days):
    known = [r.paid_within(days) for r in reports]
    known = [k for k in known if k is not None]
    return round(100 * sum(known) / len(known)) if known else None


def raise_concern(user, opportunity_id, prime_id, body, withhold_name=False):
    """Tell the buyer how a prime has treated the organisation; the buyer's team is emailed."""
    organisation = _require_in_chain(user, opportunity_id, prime_id)
    concern = Concern(opportunity_id=opportunity_id, prime_organisation_id=prime_id,
                      organisation_id=organisation.id, user_id=user.id, body=body,
                      withhold_name=bool(withhold_name))
    db.session.add(concern)
    db.session.flush()
    audit.record("consortia.concern_raised", concern, actor_id=user.id, prime=prime_id,
                 withhold_name=concern.withhold_name)
    buyer_id = db.session.get(Opportunity, opportunity_id).organisation_id
    for email in matching.member_emails(buyer_id):
        send_email(email, "A concern about a prime contractor's supply chain",
                   "email/supply_chain_concern.txt", concern=concern)
    db.session.commit()
    return concern


def concerns_for_buyer(buyer):
    return db.session.scalars(select(Concern).join(Concern.opportunity).where(
        Opportunity.organisation_id == buyer.id).order_by(Concern.created_at.desc())).all()


def concerns_raised_by(organisation):
    return db.session.scalars(select(Concern).where(
        Concern.organisation_id == organisation.id).order_by(Concern.created_at.desc())).all()


def get_concern(concern_id, user):
    """A concern, for the buyer of its entry or the organisation that raised it."""
    concern = db.session.get(Concern, concern_id)
    allowed = concern is not None and user.organisation_id in (
        concern.organisation_id, concern.opportunity.organisation_id)
    if not allowed:
        raise NotFound("Concern not found")
    return concern


def answer_concern(concern, user, response, outcome):
    """The buyer records its response and the outcome; the organisation that raised it is
    emailed."""
    if user.organisation_id != concern.opportunity.organisation_id:
        raise NotFound("Concern not found")
    concern.answer(user.id, response, outcome)
    audit.record("consortia.concern_answered", concern, actor_id=user.id,
                 organisation_id=user.organisation_id)
    for email in matching.member_emails(concern.organisation_id):
        send_email(email, "The buyer has answered your concern",
                   "email/supply_chain_concern_answer.txt", concern=concern)
    db.session.commit()
    return concern
