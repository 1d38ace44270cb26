"""Forms for organisation profiles, the pickers and the directory filters."""
import re
from datetime import date
from decimal import Decimal

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput, GovFileInput, GovSubmitInput, GovTextArea, GovTextInput,
)
from wtforms import (
    Field, HiddenField, IntegerField, RadioField, SelectChoice, SelectField, SelectMultipleField,
    StringField, SubmitField, TextAreaField,
)
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from portal.core import files
from portal.core.exceptions import DomainError
from portal.core.forms import PortalForm
from portal.core.widgets import Checkboxes, FastSelect, Radios
from portal.organisations.models import (
    CREDENTIAL_KINDS, INCOME_BANDS, LEGAL_FORMS, normalise_charity_number,
    normalise_company_number, normalise_postcode, normalise_website,
)

POUNDS_RE = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")
MAX_POUNDS = 10**12
MAX_PEOPLE = 10_000_000


def parse_pounds(text):
    """Turn '£12,500', '12500' or '12,500.00' into whole pounds; None when blank."""
    cleaned = re.sub(r"[£,\s]", "", text or "")
    if not cleaned:
        return None
    if not POUNDS_RE.match(cleaned) or Decimal(cleaned) >= MAX_POUNDS:
        raise ValueError(text)
    return int(Decimal(cleaned))


def attach_error(form, error):
    """Show a DomainError from a service next to the field it names (or the first field)."""
    target = form._fields.get(error.field) if error.field else None
    if target is None:
        target = next(f for f in form if f.type not in ("CSRFTokenField", "HiddenField"))
    target.errors = list(target.errors) + [error.message]
    form._errors = None


def _max(length, what):
    return Length(max=length, message=f"{what} must be {length:,} characters or fewer")


def _choices(mapping, blank=None):
    choices = [SelectChoice("", blank)] if blank else []
    return choices + [SelectChoice(key, label) for key, label in mapping.items()]


class PoundsField(Field):
    """An amount in whole pounds that accepts '£12,500' and keeps what was typed on error."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message or "Enter an amount in pounds, like £12,500"

    def process_formdata(self, valuelist):
        try:
            self.data = parse_pounds(valuelist[0] if valuelist else "")
        except ValueError:
            self.data = None
            raise ValueError(self.message) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return f"{self.data:,}" if self.data is not None else ""


class CountField(IntegerField):
    """A whole number of people, 0 or more; commas allowed."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        text = re.sub(r"[,\s]", "", valuelist[0] if valuelist else "")
        if not text:
            self.data = None
            return
        if not re.fullmatch(r"[0-9]+", text) or int(text) > MAX_PEOPLE:
            self.data = None
            raise ValueError(self.message)
        self.data = int(text)


class PaddedDateInput(GovDateInput):
    """GovDateInput unpacks exactly three values; a crafted POST may send fewer or more."""

    def map_gov_params(self, field, **kwargs):
        if field.raw_data is not None:
            field.raw_data = (list(field.raw_data) + ["", "", ""])[:3]
        return super().map_gov_params(field, **kwargs)


class DateField(Field):
    """A GOV.UK date (three boxes sharing one name); blank means no date."""

    widget = PaddedDateInput()

    def __init__(self, label=None, validators=None, noun="date", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.noun = noun

    def process_formdata(self, valuelist):
        parts = ([str(v).strip() for v in valuelist] + ["", "", ""])[:3]
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        if not all(parts):
            raise ValueError(f"The {self.noun} must include a day, month and year")
        try:
            day, month, year = (int(p) for p in parts)
            if year < 1900 or year > 2200:
                raise ValueError
            self.data = date(year, month, day)
        except ValueError:
            raise ValueError(f"The {self.noun} must be a real date") from None

    def _value(self):
        return self.data.strftime("%d %m %Y") if self.data else ""


def _model_rule(normaliser):
    """A validator that runs one of the model's normalise_* functions."""
    def check(form, field):
        try:
            normaliser(field.data)
        except DomainError as error:
            raise ValidationError(error.message) from None
    return check


class ProfileForm(PortalForm):
    name = StringField("Name of the organisation", widget=GovTextInput(), validators=[
        InputRequired("Enter the name of the organisation"),
        _max(200, "Name")])
    other_names = StringField(
        "Other names (optional)", widget=GovTextInput(),
        description="Names the organisation is also known by, separated by commas",
        validators=[Optional(), _max(400, "Other names")])
    legal_form = SelectField("Legal form", widget=FastSelect(), choices=[])
    charity_number = StringField(
        "Charity number (optional)", widget=GovTextInput(),
        description="For example 1234567, SC012345 or NIC100002",
        validators=[_model_rule(normalise_charity_number)])
    company_number = StringField(
        "Company number (optional)", widget=GovTextInput(),
        description="Companies House number, for example 01234567 or SC123456",
        validators=[_model_rule(normalise_company_number)])
    address = TextAreaField("Address (optional)", widget=GovTextArea(), validators=[
        Optional(), _max(400, "Address")])
    postcode = StringField("Postcode (optional)", widget=GovTextInput(),
                           validators=[_model_rule(normalise_postcode)])
    website = StringField("Website (optional)", widget=GovTextInput(),
                          validators=[_max(300, "Website"),
                                      _model_rule(normalise_website)])
    income_band = SelectField(
        "Income band", widget=FastSelect(), choices=_choices(
            {k: v[0] for k, v in INCOME_BANDS.items()}, blank="Not given"),
        description="If you give your latest annual income, the band is worked out from it")
    latest_income = PoundsField(
        "Latest annual income (optional)", description="In pounds, for example £12,500",
        message="Enter latest annual income as an amount in pounds, like £12,500")
    staff_count = CountField("Number of paid staff (optional)",
                             message="Enter the number of paid staff as a whole number, like 12")
    volunteer_count = CountField("Number of volunteers (optional)",
                                 message="Enter the number of volunteers as a whole number, like 40")
    description = TextAreaField(
        "Description of services (optional)", widget=GovTextArea(),
        description="What the organisation does, for whom, and where",
        validators=[Optional(), _max(5000, "Description")])
    contact_role = StringField(
        "Public contact role (optional)", widget=GovTextInput(),
        description="A job title rather than a person's name, for example Contracts manager",
        validators=[Optional(), _max(120, "Contact role")])
    contact_email = StringField(
        "Organisation contact email (optional)", widget=GovTextInput(),
        description="A shared address such as info@ or contracts@, shown on your public profile",
        validators=[Optional(), _max(254, "Email address"),
                    Email("Enter an email address in the correct format, like name@example.org")])
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def __init__(self, org, **kwargs):
        super().__init__(obj=org, **kwargs)
        self.legal_form.choices = _choices(LEGAL_FORMS[org.org_type], blank="Not given")

    def profile_data(self):
        """The submitted values, keyed like the organisation's fields."""
        return {name: f.data for name, f in self._fields.items()
                if name not in ("submit", "csrf_token")}


class CodeForm(PortalForm):
    """One code posted from a picker, and where to go back to afterwards."""

    code = HiddenField(validators=[InputRequired(), Length(max=12)])
    q = HiddenField(validators=[Optional(), Length(max=200)])
    parent = HiddenField(validators=[Optional(), Length(max=8)])
    social = HiddenField(validators=[Optional(), Length(max=1)])

    def return_args(self):
        """Picker arguments to send the user back to the same list."""
        args = {"q": self.q.data, "parent": self.parent.data, "social": self.social.data}
        return {key: value for key, value in args.items() if value}


def _term_choices(terms):
    return [SelectChoice(term.id, term.value) for term in terms]


class TermChoicesField(SelectMultipleField):
    """Checkboxes over a vocabulary; anything not offered gets a plain-English error."""

    def pre_validate(self, form):
        offered = {choice.value for choice in self.choices}
        if any(value not in offered for value in self.data or []):
            raise ValidationError(f"Choose {self.label.text.lower()} from the list")


class TermsForm(PortalForm):
    client_groups = TermChoicesField(
        "Client groups", coerce=int, widget=Checkboxes(), choices=[],
        description="Who the organisation works with. Select all that apply.")
    ways_of_working = TermChoicesField(
        "Ways of working", coerce=int, widget=Checkboxes(), choices=[],
        description="How the organisation works. Select all that apply.")
    submit = SubmitField("Save", widget=GovSubmitInput())

    def __init__(self, org, vocabularies, **kwargs):
        super().__init__(**kwargs)
        self.client_groups.choices = _term_choices(vocabularies["client_group"])
        self.ways_of_working.choices = _term_choices(vocabularies["way_of_working"])
        if not self.is_submitted():
            self.client_groups.data = [t.id for t in org.client_groups]
            self.ways_of_working.data = [t.id for t in org.ways_of_working]

    def term_ids(self):
        return list(self.client_groups.data or []) + list(self.ways_of_working.data or [])


class CredentialForm(PortalForm):
    kind = RadioField("What is it?", widget=Radios(), choices=_choices(CREDENTIAL_KINDS),
                      validators=[InputRequired("Choose what kind of policy or certificate this is")])
    title = StringField("Name of the policy or certificate", widget=GovTextInput(), validators=[
        InputRequired("Enter the name of the policy or certificate"),
        _max(200, "Name")])
    reference = StringField(
        "Reference or policy number (optional)", widget=GovTextInput(),
        validators=[Optional(), _max(120, "Reference")])
    cover_amount = PoundsField(
        "Amount of cover (needed for insurance)", description="In pounds, for example £5,000,000",
        message="Enter the amount of cover in pounds, like £5,000,000")
    expires_on = DateField("Expiry date (optional)", noun="expiry date",
                           description="For example, 31 3 2027. Leave blank if it does not expire.")
    file = FileField("Upload the document (optional)", widget=GovFileInput())
    submit = SubmitField("Add policy or certificate", widget=GovSubmitInput())

    def validate_cover_amount(self, field):
        # The model refuses this too; checking here shows it alongside any other mistakes.
        if self.kind.data == "insurance" and not field.data and not field.errors:
            raise ValidationError("Enter the amount of cover for insurance")

    def credential_data(self):
        return {name: getattr(self, name).data
                for name in ("kind", "title", "reference", "cover_amount", "expires_on")}

    def upload(self):
        return files.read_upload(self.file.data)


class CredentialFileForm(PortalForm):
    file = FileField("Upload the document", widget=GovFileInput())
    submit = SubmitField("Upload", widget=GovSubmitInput())

    def upload(self):
        return files.read_upload(self.file.data)


class DirectoryForm(PortalForm):
    """The directory's filters (GET; no CSRF token needed to read public data). The type, area,
    category, income and accreditation choices are drawn from the page's facets, with their
    counts."""

    class Meta:
        csrf = False

    q = StringField("Search", widget=GovTextInput())
    type = SelectField("Type of organisation", choices=[])
    area = SelectField("Area served", choices=[])
    cpv = SelectField("Service category", choices=[])
    income_band = SelectField("Income", choices=[])
    tier = SelectField("Accredited at least at", choices=[])
    sort = SelectField("Sort by", widget=FastSelect(), choices=[])
    # What the page showed, so a new search can tell a sort chosen now from one kept from
    # before (see portal.organisations.directory.submitted_filters).
    shown_q = HiddenField()
    shown_sort = HiddenField()

    def __init__(self, formdata, sorts, shown_sort, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        show_sorts(self, sorts, shown_sort)


def show_sorts(form, sorts, shown_sort):
    """Offer the orders in `sorts` ("Best match" only with search text), select the one the
    page is in and remember both it and the search text for the next submission."""
    searched = (form.q.data or "").strip()
    form.sort.choices = [SelectChoice(key, label) for key, label in sorts.items()
                         if searched or key != "relevance"]
    form.sort.data = form.shown_sort.data = shown_sort
    form.shown_q.data = searched
