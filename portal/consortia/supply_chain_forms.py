"""Forms for the supply chain: sub-contract packages and the responses to them, recording a
sub-contract, payment reports and concerns raised with the buyer."""
from govuk_frontend_wtf.wtforms_widgets import (
    GovSubmitInput, GovTextArea, GovTextInput,
)
from wtforms import (
    HiddenField, RadioField, SelectChoice, SelectField, StringField,
    SubmitField, TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.consortia.models import MAX_TEXT
from portal.core.forms import PortalForm
from portal.core.widgets import Checkboxes, FastSelect, Radios
from portal.organisations.forms import DateField, PoundsField, TermChoicesField
from portal.pipeline.models import ACCREDITATION_TIERS

PACKAGE_FIELDS = ("title", "description", "cpv_codes", "area_codes", "value", "starts_on",
                  "ends_on", "closes_on", "recommended_tier", "how_to_respond")
PAID = {"yes": "Paid within the agreed terms", "no": "Paid late"}
LONG_TEXT = 4000


def _max(length, what):
    return Length(max=length, message=f"{what} must be {length:,} characters or fewer")


class DatesInOrder:
    """A start and an end date, the end on or after the start. Checked here as well as by the
    services, so that a refused date never reaches them half-applied."""

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("The end date must be on or after the start date")


class PackageFilterForm(PortalForm):
    """The keyword filter over open packages (GET: reading needs no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search packages", widget=GovTextInput(),
                    validators=[Optional(), _max(200, "Search")])

    def args(self):
        """The filter in use, for links to other pages of results."""
        q = (self.q.data or "").strip()
        return {"q": q} if q else {}


class TierField(SelectField):
    """No level or tier 1 to 3; anything else is refused in plain words."""

    def __init__(self, label, **kwargs):
        super().__init__(label, widget=FastSelect(), default="", choices=[
            SelectChoice("", "No level recommended")] + [
            SelectChoice(str(k), v) for k, v in ACCREDITATION_TIERS.items()], **kwargs)

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError("Choose tier 1, 2 or 3, or no level")


class PackageForm(DatesInOrder, PortalForm):
    """Part of an entry's work offered as a sub-contract. Categories and areas are offered
    from the entry's own."""

    title = StringField("Title", widget=GovTextInput(),
                        description="For example, Carers' peer support groups in south Leeds",
                        validators=[DataRequired("Enter a title"), _max(200, "Title")])
    description = TextAreaField(
        "What is needed", widget=GovTextArea(),
        description="The services, for whom, where and how much of the work",
        validators=[DataRequired("Enter what is needed"), _max(MAX_TEXT, "What is needed")])
    cpv_codes = TermChoicesField("Categories", widget=Checkboxes(), choices=[],
                                 description="The entry's categories this package covers. "
                                             "Select all that apply.")
    area_codes = TermChoicesField("Areas", widget=Checkboxes(), choices=[],
                                  description="Where the work is. Leave them all unticked for "
                                              "the whole entry.")
    value = PoundsField("Value (optional)", description="In whole pounds, for example £80,000",
                        message="Enter the value in pounds, like £80,000")
    starts_on = DateField("Start date (optional)", noun="start date",
                          description="For example, 1 4 2027")
    ends_on = DateField("End date (optional)", noun="end date",
                        description="For example, 31 3 2029")
    closes_on = DateField("Closing date for responses", noun="closing date",
                          description="Today or later. For example, 27 3 2027")
    recommended_tier = TierField("Accreditation level recommended")
    how_to_respond = TextAreaField(
        "How to respond (optional)", widget=GovTextArea(),
        description="What you would like organisations to tell you, and any deadline for "
                    "questions",
        validators=[Optional(), _max(MAX_TEXT, "How to respond")])
    submit = SubmitField("Post package", widget=GovSubmitInput())

    def __init__(self, categories, areas, package=None, **kwargs):
        super().__init__(**kwargs)
        self.cpv_codes.choices = [SelectChoice(c.code, c.label) for c in categories]
        self.area_codes.choices = [SelectChoice(a.code, a.name) for a in areas]
        if package is not None:
            self.submit.label.text = "Save changes"
            if not self.is_submitted():
                self.load(package)

    def load(self, package):
        for name in PACKAGE_FIELDS:
            getattr(self, name).data = getattr(package, name)
        self.recommended_tier.data = str(package.recommended_tier or "")

    def validate_closes_on(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the closing date for responses")

    def package_data(self):
        """The package's fields, as the services take them."""
        data = {name: getattr(self, name).data for name in PACKAGE_FIELDS}
        data["cpv_codes"] = list(self.cpv_codes.data or [])
        data["area_codes"] = list(self.area_codes.data or [])
        data["recommended_tier"] = int(self.recommended_tier.data) \
            if self.recommended_tier.data else None
        return data


class RespondForm(PortalForm):
    note = TextAreaField("What you would offer", widget=GovTextArea(),
                         description="What your organisation could deliver, where, and who to "
                                     "contact. The organisation that posted the package sees it.",
                         validators=[DataRequired("Enter what you would offer"),
                                     _max(MAX_TEXT, "What you would offer")])
    submit = SubmitField("Respond", widget=GovSubmitInput())


class SelectForm(DatesInOrder, PortalForm):
    """The sub-contract recorded when a shortlisted response is selected. The first press
    shows the answers to check; `confirmed` then says "yes" (record) or "change"."""

    value = PoundsField("Value of the sub-contract (optional)",
                        description="In whole pounds, for example £78,000",
                        message="Enter the value in pounds, like £78,000")
    starts_on = DateField("Start date (optional)", noun="start date",
                          description="For example, 1 4 2027")
    ends_on = DateField("End date (optional)", noun="end date",
                        description="For example, 31 3 2029")
    confirmed = HiddenField()
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def contract_data(self):
        return {"value": self.value.data, "starts_on": self.starts_on.data,
                "ends_on": self.ends_on.data}


class PaymentForm(PortalForm):
    """One invoice: its dates, or simply whether it was paid within the agreed terms."""

    invoiced_on = DateField("Invoice date", noun="invoice date",
                            description="The date on the invoice. For example, 5 1 2026")
    paid_on = DateField("Payment date (optional)", noun="payment date",
                        description="When the money reached you. Leave it blank if the invoice "
                                    "has not been paid yet.")
    within_terms = RadioField(
        "Was the invoice paid within the agreed terms?",
        widget=Radios(), choices=[SelectChoice(k, v) for k, v in PAID.items()],
        validators=[Optional()])
    submit = SubmitField("Send report", widget=GovSubmitInput())

    def validate_invoiced_on(self, field):
        if field.data is None and not field.errors and self.paid_on.data is not None:
            raise ValidationError("Enter the invoice date as well as the payment date")

    def payment_data(self):
        answer = self.within_terms.data
        return {"invoiced_on": self.invoiced_on.data, "paid_on": self.paid_on.data,
                "within_terms": {"yes": True, "no": False}.get(answer)}


class ConcernForm(PortalForm):
    body = TextAreaField(
        "What has happened", widget=GovTextArea(),
        description="For example, how late invoices are paid, or terms that changed after the "
                    "bid. The buyer's commissioning team reads it.",
        validators=[DataRequired("Enter what has happened"),
                    _max(LONG_TEXT, "What has happened")])
    withhold = TermChoicesField("Your organisation's name", widget=Checkboxes(), choices=[],
                                   description="The buyer always sees who raised the concern")
    submit = SubmitField("Send to the buyer", widget=GovSubmitInput())

    def __init__(self, prime, **kwargs):
        super().__init__(**kwargs)
        self.withhold.choices = [SelectChoice(
            "yes", f"Do not tell {prime.name} that this came from us")]

    def concern_data(self):
        return {"body": self.body.data, "withhold_name": "yes" in (self.withhold.data or [])}


class AnswerForm(PortalForm):
    response = TextAreaField("Your response", widget=GovTextArea(),
                             description="The organisation that raised the concern sees it",
                             validators=[DataRequired("Enter your response"),
                                         _max(LONG_TEXT, "Your response")])
    outcome = TextAreaField("Outcome", widget=GovTextArea(),
                            description="What was done, for example payment terms agreed with "
                                        "the prime",
                            validators=[DataRequired("Enter the outcome"),
                                        _max(MAX_TEXT, "The outcome")])
    submit = SubmitField("Send answer", widget=GovSubmitInput())
