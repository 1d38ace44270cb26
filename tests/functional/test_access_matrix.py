"""Access control over every route: what each kind of person gets from each URL rule of the app.

The table below holds, for every endpoint, the answer each principal should get, with real
objects of every kind in the database (tests/functional/access_world.py):

    anon           nobody signed in
    other_member   a member of another organisation of the same standing as the owner
    other_admin    an administrator of that other organisation
    member         a member of the owning organisation without the admin role
    assessor       an assessor of the accreditation body who declared a conflict on the
                   application under assessment
    board          a board member (an administrator) of the accreditation body, who has
                   declared nothing on that application
    unverified     the administrator of a commissioner still waiting to be verified
    site_admin     a site administrator
    owner          the administrator of the owning organisation

Who owns a route (and so who "owner", "member" and "other_*" are) is the first item of each
entry: "buyer" (commissioner A; the other is commissioner C), "vcse" (VCSE 1; the other is
VCSE 2), "prime" (the prime contractor leading the consortium; the other is VCSE 2), "body"
(the accreditation body; the other is VCSE 2) or "site" (the site administrator).

Answers: a status code, LOGIN for a redirect to the sign-in page, or OK for a POST-only action
the person may take (not performed, so the world stays as it is). GET is used wherever a rule
allows it. A POST-only rule is sent, with a plausible form, by everyone the table refuses, and
nothing may change. A route missing from the table fails `test_every_route_is_in_the_table`
naming it; add it with the answers it should give.

Run with -s to see the size of the matrix.
"""
import io
import re
from datetime import date, timedelta

import pytest

from tests.functional import access_matrix as matrix
from tests.functional.access_matrix import PRINCIPALS
from tests.functional.access_world import PDF, build_world

LOGIN = "login"
OK = "ok"


def row(default, **cells):
    """Every principal gets `default` except those named."""
    unknown = set(cells) - set(PRINCIPALS)
    assert not unknown, f"not principals: {unknown}"
    return {principal: cells.get(principal, default) for principal in PRINCIPALS}


PUBLIC = row(200)
SIGNED_IN = row(200, anon=LOGIN)
API_SIGNED_IN = row(200, anon=401)
# One organisation's object: its people see it, everyone else is told it does not exist.
OWN = row(404, anon=LOGIN, member=200, owner=200)
# ... and a site administrator may see it too.
OWN_OR_SITE_ADMIN = row(404, anon=LOGIN, member=200, site_admin=200, owner=200)
# One organisation's object that only its administrators may change; a member is told whom
# to ask.
ADMINS_ONLY = row(404, anon=LOGIN, member=403, owner=200)
# The organisation's profile: its administrators and site administrators change it.
PROFILE = row(404, anon=LOGIN, member=403, site_admin=200, owner=200)
# A page every organisation's administrator has for their own organisation.
ADMIN_PAGE = row(200, anon=LOGIN, other_member=403, member=403, assessor=403, site_admin=404)
# A buyer's own pages: every commissioner has them, a new one before it is verified too.
BUYER_PAGE = row(404, anon=LOGIN, other_member=200, other_admin=200, member=200,
                 unverified=200, owner=200)
# A supplier's own pages: every VCSE and prime contractor has them.
SUPPLIER_PAGE = row(404, anon=LOGIN, other_member=200, other_admin=200, member=200, owner=200)
# The accreditation body's pages: its people and site administrators.
BODY_PAGE = row(200, anon=LOGIN, other_member=404, other_admin=404, unverified=404)
SITE_ADMIN_PAGE = row(404, anon=LOGIN, site_admin=200, owner=200)
ADMIN_AREA = row(404, site_admin=200, owner=200)  # /admin answers 404 to everyone else
# POST-only actions on an object: its people may, anyone else is refused.
OWN_ACTION = row(404, anon=LOGIN, member=OK, owner=OK)
ADMINS_ACTION = row(404, anon=LOGIN, member=403, owner=OK)
PROFILE_ACTION = row(404, anon=LOGIN, member=403, site_admin=OK, owner=OK)

EXPECTED = {
    # --- accounts: registration, sign-in, the account and the team
    "accounts.accept_invitation": ("vcse", PUBLIC),  # anyone holding the emailed link
    "accounts.account": ("vcse", SIGNED_IN),
    "accounts.api_tokens": ("vcse", ADMIN_PAGE),
    "accounts.change_role": ("vcse", ADMINS_ONLY),
    "accounts.delete_account": ("vcse", SIGNED_IN),
    "accounts.export_data": ("vcse", SIGNED_IN),
    "accounts.forgot_password": ("vcse", PUBLIC),
    "accounts.invite": ("vcse", ADMIN_PAGE),
    # The journey's later pages send anyone without a draft back to its start.
    "accounts.register_check": ("vcse", row(302)),
    "accounts.register_done": ("vcse", row(302)),
    "accounts.register_organisation": ("vcse", row(302)),
    "accounts.register_password": ("vcse", row(302)),
    "accounts.register_start": ("vcse", PUBLIC),
    "accounts.register_you": ("vcse", row(302)),
    "accounts.remove_member": ("vcse", ADMINS_ONLY),
    "accounts.resend_verification": ("vcse", PUBLIC),
    "accounts.reset_password": ("vcse", PUBLIC),
    "accounts.revoke_api_token": ("vcse", ADMINS_ACTION),
    "accounts.revoke_invitation": ("vcse", ADMINS_ACTION),
    "accounts.sign_in": ("vcse", row(302, anon=200)),  # signed in: off to their home page
    "accounts.sign_out": ("vcse", row(OK, anon=LOGIN)),
    "accounts.team": ("vcse", row(200, anon=LOGIN, site_admin=404)),
    "accounts.verify_email": ("vcse", row(LOGIN)),  # confirmed, then asked to sign in
    # Two-step sign-in: its own pages for whoever is signed in; the code pages only mid sign-in.
    "accounts.mfa_new_recovery_codes": ("vcse", row(302, anon=LOGIN)),
    "accounts.mfa_recovery_codes": ("vcse", row(302, anon=LOGIN)),
    "accounts.mfa_settings": ("vcse", row(302, anon=LOGIN)),
    "accounts.mfa_setup": ("vcse", SIGNED_IN),
    "accounts.mfa_turn_off": ("vcse", row(302, anon=LOGIN)),
    "accounts.reset_member_mfa": ("vcse", ADMINS_ONLY),
    "accounts.sign_in_code": ("vcse", row(LOGIN)),  # no password given yet: back to sign in
    "accounts.sign_in_recovery": ("vcse", row(LOGIN)),

    # --- accreditation: the register, applying, assessing and the schemes
    "accreditation.admin_edit_scheme": ("site", SITE_ADMIN_PAGE),
    "accreditation.admin_new_scheme": ("site", SITE_ADMIN_PAGE),
    "accreditation.admin_schemes": ("site", SITE_ADMIN_PAGE),
    "accreditation.answer": ("vcse", OWN),
    "accreditation.application": ("vcse", OWN),
    "accreditation.apply": ("vcse", row(404, anon=LOGIN, other_member=403, other_admin=200,
                                        member=403, owner=200)),
    "accreditation.apply_level": ("vcse", row(404, anon=LOGIN, other_member=403,
                                              other_admin=200, member=403, owner=200)),
    # The board sees who assesses before it declares; the file itself only afterwards.
    "accreditation.assess": ("body", row(404, anon=LOGIN, board=200, site_admin=200,
                                         owner=200)),
    "accreditation.assign": ("body", row(404, anon=LOGIN, board=200, site_admin=200,
                                         owner=200)),
    "accreditation.check": ("vcse", OWN),
    # Board members who have not declared are sent to declare first.
    "accreditation.complete": ("body", row(404, anon=LOGIN, board=302, site_admin=302,
                                           owner=OK)),
    "accreditation.dashboard": ("vcse", row(200, anon=LOGIN, assessor=302, board=302,
                                            site_admin=302)),
    "accreditation.decide": ("body", row(404, anon=LOGIN, board=302, site_admin=302,
                                         owner=200)),
    "accreditation.declare": ("body", row(404, anon=LOGIN, board=200, site_admin=200,
                                          owner=302)),
    "accreditation.download": ("vcse", OWN),
    "accreditation.queue": ("body", BODY_PAGE),
    "accreditation.record": ("body", row(404, anon=LOGIN, board=200, site_admin=200,
                                         owner=200)),
    "accreditation.records": ("body", BODY_PAGE),
    "accreditation.register_csv": ("vcse", PUBLIC),
    "accreditation.register_list": ("vcse", PUBLIC),
    # The application is with the assessors, so even its own people may not take evidence out.
    "accreditation.remove_evidence": ("vcse", row(404, anon=LOGIN, member=400, owner=400)),
    # With the assessors already: its own people are sent back to the answer with the reason.
    "accreditation.use_certificate": ("vcse", row(404, anon=LOGIN, member=302, owner=302)),
    "accreditation.renew": ("vcse", ADMINS_ACTION),
    "accreditation.report": ("body", BODY_PAGE),
    "accreditation.review": ("body", row(404, anon=LOGIN, board=302, site_admin=302,
                                         owner=200)),
    "accreditation.scheme_detail": ("vcse", PUBLIC),
    "accreditation.scheme_list": ("vcse", PUBLIC),
    "accreditation.send_back": ("body", row(404, anon=LOGIN, board=302, site_admin=302,
                                            owner=200)),
    "accreditation.submitted": ("vcse", OWN),

    # --- site administration
    "admin.audit": ("site", ADMIN_AREA),
    "admin.index": ("site", ADMIN_AREA),
    "admin.organisations": ("site", ADMIN_AREA),
    "admin.outbox": ("site", ADMIN_AREA),
    "admin.outbox_message": ("site", ADMIN_AREA),
    "admin.set_organisation_status": ("site", row(404, site_admin=OK, owner=OK)),
    "admin.set_user_status": ("site", row(404, site_admin=OK, owner=OK)),
    "admin.users": ("site", ADMIN_AREA),
    "admin.reset_user_mfa": ("site", ADMIN_AREA),
    "admin.verification": ("site", ADMIN_AREA),
    "admin.verify_organisation": ("site", ADMIN_AREA),

    # --- alerts: each person's own
    "alerts.delete": ("vcse", row(404, anon=LOGIN, owner=200)),
    "alerts.edit": ("vcse", row(404, anon=LOGIN, owner=200)),
    "alerts.index": ("vcse", SIGNED_IN),
    "alerts.new": ("vcse", SIGNED_IN),
    "alerts.unsubscribe": ("vcse", PUBLIC),  # the signed link is the proof

    # --- the JSON API
    "api.commissioner_contracts": ("buyer", PUBLIC),
    # A buyer waiting for verification publishes nothing, its contracts register included.
    "api.commissioner_contracts#unverified": ("buyer", row(404)),
    "api.commissioner_insight": ("buyer", PUBLIC),
    "api.consortia": ("prime", API_SIGNED_IN),
    "api.consortium": ("prime", row(404, anon=401, member=200, owner=200)),
    "api.me": ("vcse", API_SIGNED_IN),
    "api.openapi": ("vcse", PUBLIC),
    "api.opportunities": ("vcse", PUBLIC),
    "api.opportunity": ("vcse", PUBLIC),
    "api.opportunity#draft": ("buyer", row(404)),
    "api.opportunity_matches": ("buyer", row(404, anon=401, member=200, site_admin=200,
                                             owner=200)),
    "api.opportunity_matches#draft": ("buyer", row(404, anon=401, member=200, owner=200)),
    "api.opportunity_ocds": ("vcse", PUBLIC),
    "api.opportunity_ocds#draft": ("buyer", row(404)),
    "api.organisation": ("vcse", PUBLIC),
    "api.organisations": ("vcse", PUBLIC),
    "api.plan_ocds": ("vcse", PUBLIC),
    "api.subcontract_packages": ("vcse", API_SIGNED_IN),
    "api.supplier_recommendations": ("vcse", row(404, anon=401, member=200, site_admin=200,
                                                 owner=200)),
    "api.suppliers": ("vcse", PUBLIC),
    "api.teaming_posts": ("vcse", API_SIGNED_IN),

    # --- consortia: the teaming board, partner invitations, teams and the supply chain
    "consortia.accept_invitation": ("vcse", OWN_ACTION),  # VCSE 1 was invited
    "consortia.board": ("prime", PUBLIC),
    "consortia.charter": ("prime", OWN),
    "consortia.choose_bid": ("prime", SUPPLIER_PAGE),
    "consortia.concern": ("buyer", OWN),  # raised with commissioner A
    "consortia.confirm_charter": ("prime", OWN_ACTION),
    "consortia.decline_invitation": ("vcse", OWN_ACTION),
    "consortia.download_file": ("prime", OWN),
    "consortia.edit_package": ("prime", OWN),
    "consortia.edit_post": ("prime", OWN),
    "consortia.edit_role": ("prime", OWN),
    "consortia.express_interest": ("prime", OWN),
    "consortia.hand_over": ("prime", OWN),
    "consortia.invitation": ("prime", OWN),
    "consortia.invitations": ("prime", SUPPLIER_PAGE),
    "consortia.invite": ("prime", SUPPLIER_PAGE),
    "consortia.leave": ("prime", OWN),
    "consortia.move_response": ("prime", OWN_ACTION),
    "consortia.new_package": ("prime", SUPPLIER_PAGE),
    # The prime already has a post on this board, so it is sent to that instead.
    "consortia.new_post": ("prime", row(404, anon=LOGIN, other_member=200, other_admin=200,
                                        member=302, owner=302)),
    "consortia.new_role": ("prime", OWN),
    "consortia.new_team": ("prime", SUPPLIER_PAGE),
    "consortia.pack": ("prime", OWN),
    "consortia.package": ("prime", SIGNED_IN),
    "consortia.packages": ("prime", SIGNED_IN),
    "consortia.post": ("prime", SIGNED_IN),
    "consortia.post_message": ("prime", OWN_ACTION),
    "consortia.raise_concern": ("vcse", OWN),  # VCSE 1 is in the prime's supply chain
    "consortia.remove_file": ("prime", OWN_ACTION),
    "consortia.remove_role": ("prime", OWN_ACTION),
    "consortia.reply_invitation": ("vcse", OWN_ACTION),
    "consortia.report_payment": ("vcse", OWN),
    # Any other supplier may respond; VCSE 1 already has, and those who are not suppliers
    # are sent back to the package's page, which tells them so.
    "consortia.respond_package": ("vcse", row(302, anon=LOGIN, other_member=OK,
                                              other_admin=OK)),
    "consortia.role_suggestions": ("prime", OWN),
    "consortia.select_response": ("prime", OWN),
    "consortia.share_file": ("prime", OWN_ACTION),
    "consortia.shares": ("prime", OWN),
    # A buyer sees the supply chains of its contracts.
    "consortia.supply_chain": ("prime", row(404, anon=LOGIN, other_member=200,
                                            other_admin=200, member=200, unverified=200,
                                            owner=200)),
    "consortia.teams": ("prime", SUPPLIER_PAGE),
    "consortia.withdraw_invitation": ("prime", OWN_ACTION),
    "consortia.withdraw_package": ("prime", OWN),
    "consortia.withdraw_post": ("prime", OWN),
    "consortia.workspace": ("prime", OWN),

    # --- commissioner insight (site administrators choose a buyer with ?organisation=)
    "insight.commit": ("vcse", SUPPLIER_PAGE),
    "insight.contract_detail": ("buyer", OWN_OR_SITE_ADMIN),
    "insight.contract_new": ("buyer", BUYER_PAGE),
    "insight.contract_register_csv": ("buyer", BUYER_PAGE),
    "insight.contract_reprocure": ("buyer", OWN_ACTION),
    "insight.contracts": ("buyer", BUYER_PAGE),
    "insight.dashboard_page": ("buyer", BUYER_PAGE),
    "insight.entry_commitments": ("vcse", SUPPLIER_PAGE),
    "insight.market_map": ("buyer", PUBLIC),
    "insight.remove_target": ("buyer", OWN_ACTION),
    "insight.report_delivery": ("vcse", OWN),
    "insight.report_page": ("buyer", BUYER_PAGE),
    "insight.self_assessment": ("buyer", BUYER_PAGE),
    "insight.self_assessment_history": ("buyer", BUYER_PAGE),
    "insight.self_assessment_rate": ("buyer", BUYER_PAGE),
    "insight.self_assessment_suggestion": ("buyer", BUYER_PAGE),
    "insight.social_value": ("buyer", BUYER_PAGE),
    "insight.social_value_contract": ("buyer", OWN_OR_SITE_ADMIN),
    "insight.social_value_contracts": ("buyer", BUYER_PAGE),
    "insight.social_value_csv": ("buyer", BUYER_PAGE),
    "insight.table_csv": ("buyer", BUYER_PAGE),
    "insight.targets_page": ("buyer", BUYER_PAGE),
    "insight.transparency_page": ("buyer", PUBLIC),
    "insight.withdraw_commitment": ("vcse", OWN_ACTION),

    # --- landing pages
    "main.about_data": ("vcse", PUBLIC),
    "main.accessibility": ("vcse", PUBLIC),
    "main.healthz": ("vcse", PUBLIC),
    "main.home": ("vcse", PUBLIC),

    # --- matching
    # Everyone who is not a supplier is sent to their own starting page.
    "matching.dashboard": ("vcse", row(302, anon=LOGIN, other_member=200, other_admin=200,
                                       member=200, owner=200)),
    # Dismissing is each supplier's own choice about a published entry.
    "matching.dismiss": ("vcse", row(404, anon=LOGIN, other_member=OK, other_admin=OK,
                                     member=OK, owner=OK)),
    "matching.dismissed": ("vcse", SUPPLIER_PAGE),
    "matching.invite": ("buyer", OWN),
    "matching.matches": ("buyer", OWN_OR_SITE_ADMIN),
    "matching.recommendations": ("vcse", SUPPLIER_PAGE),
    "matching.restore": ("vcse", row(404, anon=LOGIN, other_member=OK, other_admin=OK,
                                     member=OK, owner=OK)),

    # --- organisation profiles
    "organisations.add_area": ("vcse", PROFILE_ACTION),
    "organisations.add_category": ("vcse", PROFILE_ACTION),
    "organisations.areas": ("vcse", PROFILE),
    "organisations.categories": ("vcse", PROFILE),
    "organisations.client_groups": ("vcse", PROFILE),
    "organisations.credentials": ("vcse", PROFILE),
    "organisations.credential_document": ("vcse", PROFILE),
    "organisations.download_credential_document": ("vcse", row(404, anon=LOGIN)),
    "organisations.remove_credential_document": ("vcse", PROFILE_ACTION),
    "organisations.directory": ("vcse", PUBLIC),
    "organisations.edit": ("vcse", PROFILE),
    "organisations.remove_all_areas": ("vcse", PROFILE_ACTION),
    "organisations.remove_area": ("vcse", PROFILE_ACTION),
    "organisations.remove_category": ("vcse", PROFILE_ACTION),
    "organisations.remove_credential": ("vcse", PROFILE),
    "organisations.show": ("vcse", PUBLIC),
    "organisations.ways_of_working": ("vcse", PROFILE),

    # --- the forward plan
    "pipeline.answer": ("buyer", OWN),
    "pipeline.ask": ("vcse", SUPPLIER_PAGE),
    "pipeline.award": ("buyer", OWN),
    "pipeline.category_matches": ("buyer", BUYER_PAGE),
    # A draft's document is the buyer's alone; anyone may download a published entry's.
    "pipeline.document": ("buyer", row(404, member=200, owner=200)),
    "pipeline.document#published": ("buyer", PUBLIC),
    "pipeline.document_remove": ("buyer", OWN_ACTION),
    "pipeline.documents": ("buyer", OWN),
    "pipeline.edit": ("buyer", row(404, anon=LOGIN, member=302, owner=302)),  # old address
    "pipeline.entry_check": ("buyer", OWN),
    "pipeline.entry_page": ("buyer", OWN),
    "pipeline.entry_start": ("buyer", BUYER_PAGE),
    "pipeline.export": ("buyer", BUYER_PAGE),
    "pipeline.feed": ("buyer", PUBLIC),
    # Confirming someone else's import is refused with a message and changes nothing.
    "pipeline.import_confirm": ("buyer", row(404, anon=LOGIN, other_member=302,
                                             other_admin=302, member=OK, unverified=302,
                                             owner=OK)),
    # Commissioner B, waiting for verification, asks to publish its own import: refused.
    "pipeline.import_confirm#unverified-publishes": ("buyer", row(
        404, anon=LOGIN, other_member=302, other_admin=302, member=302, unverified=302,
        owner=302)),
    "pipeline.import_report": ("buyer", OWN),
    "pipeline.import_start": ("buyer", BUYER_PAGE),
    "pipeline.import_template": ("buyer", BUYER_PAGE),
    "pipeline.index": ("buyer", PUBLIC),
    "pipeline.interest": ("vcse", SUPPLIER_PAGE),
    "pipeline.interests": ("buyer", OWN),
    "pipeline.lot_edit": ("buyer", OWN),
    "pipeline.lot_new": ("buyer", OWN),
    "pipeline.lot_remove": ("buyer", OWN_ACTION),
    "pipeline.manage": ("buyer", BUYER_PAGE),
    "pipeline.manage_entry": ("buyer", OWN),
    "pipeline.move": ("buyer", OWN),
    "pipeline.my_interests": ("vcse", SUPPLIER_PAGE),
    "pipeline.new": ("buyer", row(404, anon=LOGIN, other_member=302, other_admin=302,
                                  member=302, unverified=302, owner=302)),  # old address
    "pipeline.questions": ("buyer", OWN),
    "pipeline.show": ("buyer", PUBLIC),
    "pipeline.show#draft": ("buyer", row(404, member=200, owner=200)),
    "pipeline.timeline": ("buyer", PUBLIC),
    # Another supplier has no interest to withdraw: told so, nothing changes.
    "pipeline.withdraw_interest": ("vcse", row(404, anon=LOGIN, other_member=302,
                                               other_admin=302, member=OK, owner=OK)),
}

# Path arguments: world attribute names, or ("=", literal).
ARGS = {
    "app_id": "application", "commitment_id": "commitment", "concern_id": "concern",
    "consortium_id": "consortium", "contract_id": "contract", "credential_id": "credential",
    "document_id": "document", "evidence_id": "evidence", "file_id": "team_file",
    "fmt": ("=", "csv"), "invitation_id": "invitation", "key": ("=", "stages"), "lot_id": "lot",
    "message_id": "outbox_message", "opportunity_id": "entry", "org_id": "vcse1",
    "organisation_id": "vcse3", "package_id": "package", "page": ("=", "about"),
    "post_id": "post", "prime_id": "prime", "question_id": "question", "record_id": "record",
    "response_id": "response", "role_id": "role", "slug": "scheme_slug",
    "standard_id": "standard", "status": ("=", "suspended"), "sub_area": "sub_area",
    "subscription_id": "subscription", "target_id": "target", "token": "invitation_token",
    "token_id": "api_token", "user_id": "vcse1_member",
}
ARGS_BY_ENDPOINT = {
    "accounts.reset_password": {"token": "reset_token"},
    "accounts.revoke_invitation": {"invitation_id": "team_invitation"},
    "accounts.verify_email": {"token": "verify_token"},
    "admin.set_organisation_status": {"org_id": "buyer_b"},
    "admin.verify_organisation": {"org_id": "buyer_b"},
    "alerts.unsubscribe": {"token": "unsubscribe_token"},
    "api.commissioner_contracts": {"organisation_id": "buyer_a"},
    "api.commissioner_contracts#unverified": {"organisation_id": "buyer_b"},
    "api.commissioner_insight": {"org_id": "buyer_a"},
    "api.opportunity#draft": {"opportunity_id": "draft"},
    "api.opportunity_matches#draft": {"opportunity_id": "draft"},
    "api.opportunity_ocds#draft": {"opportunity_id": "draft"},
    "api.supplier_recommendations": {"organisation_id": "vcse1"},
    "consortia.move_response": {"status": ("=", "shortlisted")},
    "insight.commit": {"opportunity_id": "awarded"},
    "insight.entry_commitments": {"opportunity_id": "awarded"},
    "insight.self_assessment_suggestion": {"key": ("=", "short-notice")},
    "insight.social_value_contract": {"opportunity_id": "awarded"},
    "insight.social_value_csv": {"key": ("=", "themes")},
    "insight.transparency_page": {"org_id": "buyer_a"},
    "pipeline.document": {"opportunity_id": "draft", "document_id": "draft_document"},
    "pipeline.import_report": {"token": "import_token"},
    "pipeline.move": {"status": ("=", "cancelled")},
    "pipeline.show#draft": {"opportunity_id": "draft"},
}
# What a POST-only rule is sent: enough for its form to be valid, so the answer comes from the
# checks of who may act rather than from a missing field. World attribute names as in ARGS.
FORM = {"body": ("=", "Can we talk about the north lot?"), "code": ("=", "85312000"),
        "note": ("=", "We run weekly groups for carers"), "publish": ("=", "no"),
        "reason": ("=", "Not this time"), "token": "pending_import"}
FORM_BY_ENDPOINT = {
    "organisations.add_area": {"code": ("=", "E08000035")},
    "organisations.remove_area": {"code": ("=", "E08000035")},
    "pipeline.import_confirm#unverified-publishes": {"token": "buyer_b_import",
                                                     "publish": ("=", "yes")},
}
FILES = {"consortia.share_file": {"file": ("minutes.pdf", PDF)}}


def _endpoint(case):
    return case.split("#")[0]


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                  key=lambda r: r.endpoint)


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in _rules(app)}
    covered = {_endpoint(case) for case in EXPECTED}
    missing = sorted(endpoints - covered)
    assert not missing, ("Routes with no expected answers in the access matrix "
                         f"(tests/functional/test_access_matrix.py EXPECTED): {missing}")
    stale = sorted(covered - endpoints)
    assert not stale, f"The access matrix names endpoints the app does not have: {stale}"


@pytest.fixture
def stored_files(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PIPELINE_UPLOAD_DIR", str(tmp_path / "pipeline"))
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path / "evidence"))


@pytest.fixture
def world(app, ctx, stored_files):
    with app.test_request_context():
        return build_world()


def _values(world, chosen):
    return {name: value[1] if isinstance(value, tuple) else matrix.value_of(world, value)
            for name, value in chosen.items()}


def _form(world, case):
    data = _values(world, {**FORM, **FORM_BY_ENDPOINT.get(case, {})})
    for name, (filename, content) in FILES.get(case, {}).items():
        data[name] = (io.BytesIO(content), filename)
    return data


def cases(app):
    """(case, rule, owner kind, expected row) for every entry of the table."""
    rules = {rule.endpoint: rule for rule in _rules(app)}
    for case, (kind, expected) in EXPECTED.items():
        yield case, rules[_endpoint(case)], kind, expected


def url_for_case(app, world, case, rule):
    with app.test_request_context():
        return matrix.url_of(rule, world, {**ARGS, **ARGS_BY_ENDPOINT.get(case, {})})


def _check(app, world, clients, case, rule, kind, expected):
    """Ask as every principal; returns (requests made, the mismatches found)."""
    url, method = url_for_case(app, world, case, rule), "GET" if "GET" in rule.methods else "POST"
    made, wrong = 0, []
    for principal in PRINCIPALS:
        want = expected[principal]
        if want == OK:
            assert method == "POST", f"{case}: OK is for POST-only actions"
            continue
        client = clients.for_user(matrix.person(world, kind, principal))
        before = matrix.fingerprint() if method == "POST" else None
        response = client.open(url, method=method, data=_form(world, case)
                               if method == "POST" else None)
        made += 1
        got = matrix.outcome(response)
        if got != want:
            wrong.append(f"{case} {method} {url} as {principal}: expected {want}, got {got}")
        if method == "POST" and matrix.fingerprint() != before:
            wrong.append(f"{case} POST {url} as {principal} changed something")
    return made, wrong


def test_each_principal_gets_what_the_table_says(app, world):
    clients, made, wrong, routes = matrix.Clients(app), 0, [], set()
    for case, rule, kind, expected in cases(app):
        routes.add(rule.endpoint)
        count, found = _check(app, world, clients, case, rule, kind, expected)
        made, wrong = made + count, wrong + found
    cells = len(EXPECTED) * len(PRINCIPALS)
    print(f"\nAccess matrix: {len(routes)} routes ({len(EXPECTED)} cases) x {len(PRINCIPALS)} "
          f"principals = {cells} cells; {made} requests made, {cells - made} POST-only actions "
          "the principal may take left unperformed")
    assert not wrong, "\n".join(wrong)


# --- What the matrix found ----------------------------------------------------------------------

def _plan_csv():
    from portal.pipeline import spreadsheet

    return spreadsheet.to_csv(spreadsheet.template_headers(), spreadsheet.template_rows())


def _import(client, publish):
    return client.post("/forward-plan/manage/import", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(_plan_csv()), "plan.csv"), "publish": publish})


def test_an_unverified_buyer_imports_drafts_but_may_not_publish_them(
        client, login, db, make_org, make_user, stored_files):
    from portal.pipeline.models import Opportunity

    buyer = make_org("Wakefield Council", org_type="commissioner", verified=False)
    login(make_user(buyer))
    refused = _import(client, "yes")
    assert refused.status_code == 200
    assert "has not been verified yet, so you cannot publish" in refused.text
    preview = _import(client, "no")
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    confirm = client.post("/forward-plan/manage/import/confirm",
                          data={"token": token, "publish": "yes"})
    assert confirm.status_code == 302
    assert db.session.scalars(db.select(Opportunity)).all() == []
    done = client.post("/forward-plan/manage/import/confirm", data={"token": token,
                                                                      "publish": "no"})
    assert done.status_code == 200
    assert [entry.status for entry in db.session.scalars(db.select(Opportunity))] == ["draft"]


def test_a_buyer_s_contracts_register_is_public_once_it_is_verified(client, db, make_org,
                                                                    make_user):
    from portal.insight import contracts

    buyer = make_org("Wakefield Council", org_type="commissioner", verified=False)
    today = date.today()
    contracts.add_contract(buyer, {"title": "Meals on wheels", "starts_on": today,
                                   "ends_on": today + timedelta(days=365)}, make_user(buyer))
    url = f"/api/v1/commissioners/{buyer.id}/contracts"
    assert client.get(url).status_code == 404
    buyer.verify(None, "other", "Checked against the council's own website")
    db.session.commit()
    assert [c["title"] for c in client.get(url).get_json()["items"]] == ["Meals on wheels"]
