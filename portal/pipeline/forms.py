"""Forms for forward-plan entries, their stages, lots, documents, questions, interest, awards,
imports and the public filters."""
import re
from datetime import time, timedelta

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput, GovFileInput, GovSubmitInput, GovTextArea, GovTextInput,
)
from wtforms import (
    BooleanField, Field, HiddenField, RadioField, SelectChoice, SelectField, SelectMultipleField,
    StringField, SubmitField, TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.core.forms import ConfirmForm, PortalForm
from portal.core.widgets import Checkboxes, FastSelect, Radios
from portal.organisations.forms import (  # noqa: F401
    CountField, DateField, PoundsField, attach_error, show_sorts,
)
from portal.pipeline.models import (
    ACCREDITATION_REQUIREMENTS, ACCREDITATION_TIERS, INTEREST_KINDS, RESERVATIONS, ROUTES,
    SOCIAL_VALUE_THEMES, STATUSES, VALUE_BASES, combine, uk_now,
)
from portal.pipeline.queries import CLOSING_WITHIN, LIST_SORTS, VALUE_BANDS

TIME_RE = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?$", re.I)
FLAGS = {
    "suitable_vcse": "Suitable for VCSEs",
    "suitable_sme": "Suitable for small and medium-sized enterprises (SMEs)",
    "consortium_welcome": "Consortium bids welcome",
    "subcontracting_expected": "Sub-contracting expected",
}
ACCREDITATION_HINT = (
    "You can make a tier a requirement only for grant funding, which is outside procurement "
    "law. In a procurement under the Procurement Act 2023 or the NHS Provider Selection Regime, "
    "conditions of participation must be proportionate and suppliers must be able to show they "
    "meet them in other ways, so the tier can only be recommended.")


def _max(length, what):
    return Length(max=length, message=f"{what} must be {length:,} characters or fewer")


def _choices(mapping, blank=None):
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [SelectChoice(str(key), label) for key, label in mapping.items()]


def parse_time(text):
    """'12:00', '9.30am', '2pm' or '1430' as a time; None when blank; ValueError otherwise."""
    text = (text or "").strip().replace(" ", "")
    if not text:
        return None
    if re.fullmatch(r"\d{4}", text):
        text = f"{text[:2]}:{text[2:]}"
    match = TIME_RE.match(text)
    if not match:
        raise ValueError(text)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower()
    if suffix:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return time(hour, minute)


class TimeField(Field):
    """A time of day typed as text, like 12:00 or 2pm; keeps what was typed on error."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        try:
            self.data = parse_time(valuelist[0] if valuelist else "")
        except ValueError:
            self.data = None
            raise ValueError("Enter a time, like 12:00 or 2pm") from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if self.data else ""


class WholeNumberField(CountField):
    pass


class PercentField(Field):
    """A whole percentage from 1 to 100, or blank."""

    widget = GovTextInput()

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        self.data = None
        if not text:
            return
        if not (text.isascii() and text.isdigit() and 0 < int(text) <= 100):
            raise ValueError("Enter a whole percentage from 1 to 100, or leave it blank")
        self.data = int(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data is not None else ""


class ClosingFields:
    """Closing and question deadlines, each a date and a time."""

    def load_closing(self, opportunity):
        if opportunity.closing_at:
            self.closing_date.data = opportunity.closing_at.date()
            self.closing_time.data = opportunity.closing_at.time()
        if opportunity.question_deadline:
            self.question_date.data = opportunity.question_deadline.date()
            self.question_time.data = opportunity.question_deadline.time()

    def closing_values(self):
        values = {}
        if hasattr(self, "closing_date"):
            values["closing_at"] = combine(self.closing_date.data, self.closing_time.data)
        if hasattr(self, "question_date"):
            values["question_deadline"] = combine(self.question_date.data, self.question_time.data)
        return values


def example_date(days=0):
    """A date `days` from today, written as the three date boxes take it."""
    day = uk_now().date() + timedelta(days=days)
    return f"{day.day} {day.month} {day.year}"


class DateExamples:
    """Date hints whose example is worked out from today, so each example is a date the form
    accepts (a fixed example would one day fall in the past and be refused)."""

    EXAMPLES = {}  # field name: (words before the example, days from today)

    def set_examples(self):
        for name, (words, days) in self.EXAMPLES.items():
            getattr(self, name).description = f"{words}For example, {example_date(days)}"


def _closing_date():
    return DateField("Closing date", noun="closing date")


def _closing_time():
    return TimeField("Closing time (optional)", description="For example, 12:00 or 2pm. "
                     "Leave blank for 12:00 noon")


def _question_date():
    return DateField("Deadline for clarification questions (optional)",
                     noun="question deadline")


def _question_time():
    return TimeField("Time of the question deadline (optional)",
                     description="Leave blank for 12:00 noon")


# --- The entry, one page of questions at a time ---------------------------------------------------

class EntryPage(DateExamples, PortalForm):
    """One page of questions about an entry: it shows the entry's answers and gives back what
    it saves, keyed as the services expect."""

    SLUG = ""
    TITLE = ""
    FIELDS = ()  # answers copied to and from the entry as they are
    submit = SubmitField("Save and continue", widget=GovSubmitInput())
    later = SubmitField("Save and come back later", widget=GovSubmitInput())

    def __init__(self, opportunity=None, **kwargs):
        super().__init__(**kwargs)
        self.set_examples()
        if opportunity is not None and not self.is_submitted():
            self.load(opportunity)

    def load(self, opportunity):
        for name in self.FIELDS:
            getattr(self, name).data = getattr(opportunity, name)

    def page_data(self):
        return {name: getattr(self, name).data for name in self.FIELDS}


class AboutPage(EntryPage):
    SLUG, TITLE = "about", "What are you buying?"
    FIELDS = ("title", "reference", "description", "outcomes")
    title = StringField("Title", widget=GovTextInput(), validators=[
        InputRequired("Enter a title"), _max(300, "Title")],
        description="A short name suppliers will recognise, for example Young carers support")
    reference = StringField(
        "Your reference (optional)", widget=GovTextInput(), validators=[
            Optional(), _max(60, "Reference")],
        description="Leave blank and we will make one. Spreadsheet imports use it to update "
                    "the right entry.")
    description = TextAreaField(
        "Describe what you need", widget=GovTextArea(), validators=[_max(20000, "Description")],
        description="In plain English: the people the service is for, what it should do and "
                    "where. Needed before you publish.")
    outcomes = TextAreaField("Outcomes you want (optional)", widget=GovTextArea(),
                             validators=[_max(20000, "Outcomes")],
                             description="The difference the service should make for people")


class CategoriesPage(EntryPage):
    """The main category is chosen from search matches (the picker), not typed as a code."""

    SLUG, TITLE = "categories", "What kind of service is it?"
    FIELDS = ("main_cpv_code", "additional_cpv", "client_groups")
    cpv_q = StringField("Search for the main category", widget=GovTextInput(),
                        validators=[_max(200, "Your search")])
    search = SubmitField("Search", widget=GovSubmitInput())
    # Drawn by the picker macro as radios of the matches; the service checks the code.
    main_cpv_code = StringField("Main category", validators=[_max(60, "Main category")])
    additional_cpv = TextAreaField(
        "Other categories (optional)", widget=GovTextArea(),
        validators=[_max(2000, "Other categories")],
        description="More CPV codes, separated by commas, for example 85312400, 85320000")
    client_groups = SelectMultipleField(
        "Who the service is for (optional)", coerce=str, widget=Checkboxes(), choices=[],
        description="Select all that apply")

    def __init__(self, opportunity=None, client_groups=(), **kwargs):
        super().__init__(opportunity, **kwargs)
        self.client_groups.choices = [SelectChoice(str(t.id), t.value) for t in client_groups]

    @property
    def searching(self):
        return self.is_submitted() and bool(self.search.data)

    def load(self, opportunity):
        self.main_cpv_code.data = opportunity.main_cpv_code or ""
        self.additional_cpv.data = ", ".join(c.code for c in opportunity.additional_cpv)
        self.client_groups.data = [str(t.id) for t in opportunity.client_groups]

    def validate_main_cpv_code(self, field):
        # Words left in the search box with nothing chosen: the person meant to pick one.
        if not (field.data or "").strip() and (self.cpv_q.data or "").strip() \
                and not typed_code(self.cpv_q.data):
            raise ValidationError("Choose the main category from the matches, or clear the "
                                  "search box")

    def page_data(self):
        data = super().page_data()
        data["main_cpv_code"] = (self.main_cpv_code.data or "").strip() \
            or typed_code(self.cpv_q.data) or ""
        return data


def typed_code(text):
    """An 8-digit CPV code typed into the search box, like 85312000 or 85312000-9."""
    match = re.fullmatch(r"\s*(\d{8})(?:-\d)?\s*", text or "")
    return match.group(1) if match else None


class AreasPage(EntryPage):
    SLUG, TITLE = "areas", "Where will the service be delivered?"
    areas = TextAreaField(
        "Councils, counties, regions or nations", widget=GovTextArea(),
        validators=[_max(4000, "Areas")],
        description="Names or codes, separated by commas, for example Leeds, Bradford or North "
                    "East. A region or county includes every council in it. Needed before you "
                    "publish.")

    def load(self, opportunity):
        from portal.organisations.services import area_labels
        self.areas.data = ", ".join(area_labels(opportunity.areas))

    def page_data(self):
        return {"areas": self.areas.data}


class ValuePage(EntryPage):
    SLUG, TITLE = "value", "How much is it worth, and for how long?"
    FIELDS = ("value_min", "value_max", "value_basis", "contract_months", "extension_months")
    value_min = PoundsField("Estimated value (optional)",
                            description="A single figure, or the lower end of a range. "
                                        "For example, £250,000",
                            message="Enter the estimated value in pounds, like £250,000")
    value_max = PoundsField("Upper end of the range (optional)",
                            description="Only if you are giving a range",
                            message="Enter the upper value in pounds, like £300,000")
    value_basis = RadioField("The value is", widget=Radios(), choices=_choices(VALUE_BASES),
                             default="whole_life")
    contract_months = WholeNumberField(
        "Contract length in months (optional)", description="For example, 36",
        message="Enter the contract length as a whole number of months, like 36")
    extension_months = WholeNumberField(
        "Possible extensions in months (optional)",
        description="The total of any extension options, for example 24 for two one-year options",
        message="Enter the extensions as a whole number of months, like 24")


class TimetablePage(ClosingFields, EntryPage):
    SLUG, TITLE = "timetable", "When will it happen?"
    FIELDS = ("market_engagement_on", "engagement_details", "tender_publish_on",
              "contract_start_on")
    EXAMPLES = {"market_engagement_on": ("", 60),
                "tender_publish_on": ("On or after the market engagement date. ", 120),
                "question_date": ("Before the closing date. ", 140),
                "closing_date": ("When tenders must be in: on or after the tender publication "
                                 "date. ", 150),
                "contract_start_on": ("After the closing date. ", 270)}
    market_engagement_on = DateField("Market engagement date (optional)",
                                     noun="market engagement date")
    engagement_details = TextAreaField(
        "Market engagement event details (optional)", widget=GovTextArea(),
        validators=[_max(20000, "Event details")],
        description="Where and how suppliers can join, for example an online briefing")
    tender_publish_on = DateField("Expected tender publication date (optional)",
                                  noun="tender publication date")
    question_date = _question_date()
    question_time = _question_time()
    closing_date = DateField("Closing date (optional)", noun="closing date")
    closing_time = _closing_time()
    contract_start_on = DateField("Expected contract start date (optional)",
                                  noun="contract start date")

    def load(self, opportunity):
        super().load(opportunity)
        self.load_closing(opportunity)

    def validate_closing_date(self, field):
        # Said here as well as by the entry, so it shows with any other mistake on the page.
        published = self.tender_publish_on.data
        if field.data and published and field.data < published:
            raise ValidationError("The closing date must be on or after the tender "
                                  "publication date")

    def page_data(self):
        return {**super().page_data(), **self.closing_values()}


class RoutePage(EntryPage):
    SLUG, TITLE = "route", "How will it be bought, and who can bid?"
    procurement_route = SelectField("Procurement route", widget=FastSelect(),
                                    choices=_choices(
                                        {k: r.label for k, r in ROUTES.items()},
                                        blank="Not decided yet"), default="")
    flags = SelectMultipleField("Who can take part", coerce=str, widget=Checkboxes(),
                                choices=_choices(FLAGS), description="Select all that apply")
    reservation = RadioField(
        "Reserved participation", widget=Radios(),
        choices=[SelectChoice("", "Open to all suppliers")] + _choices(RESERVATIONS),
        default="", validators=[Optional()],
        description="Only for below-threshold procurements, where the Procurement Act 2023 "
                    "allows a contract to be reserved")
    reservation_area = StringField(
        "Area suppliers must be based in", widget=GovTextInput(),
        validators=[_max(120, "Area")],
        description="Only if reserved by location. A council, county or region name")
    accreditation_tier = SelectField(
        "Recommended accreditation tier", widget=FastSelect(),
        choices=_choices(ACCREDITATION_TIERS, blank="No tier"), default="")
    accreditation_requirement = RadioField(
        "Is the tier advisory or required?", widget=Radios(),
        choices=_choices(ACCREDITATION_REQUIREMENTS), default="advisory",
        description=ACCREDITATION_HINT)

    def load(self, opportunity):
        self.procurement_route.data = opportunity.procurement_route or ""
        self.flags.data = [name for name in FLAGS if getattr(opportunity, name)]
        self.reservation.data = opportunity.reservation or ""
        self.reservation_area.data = (opportunity.reservation_area.name
                                      if opportunity.reservation_area else "")
        self.accreditation_tier.data = str(opportunity.accreditation_tier or "")
        self.accreditation_requirement.data = opportunity.accreditation_requirement

    def page_data(self):
        data = {name: getattr(self, name).data for name in (
            "procurement_route", "reservation", "reservation_area", "accreditation_requirement")}
        data["accreditation_tier"] = int(self.accreditation_tier.data) \
            if self.accreditation_tier.data else None
        for name in FLAGS:
            data[name] = name in (self.flags.data or [])
        return data


class SocialValuePage(EntryPage):
    SLUG, TITLE = "social-value", "What are your social value priorities?"

    def load(self, opportunity):
        weights = {p.theme: p.weighting for p in opportunity.social_value}
        for theme in SOCIAL_VALUE_THEMES:
            getattr(self, f"sv_{theme}").data = weights.get(theme)

    def page_data(self):
        return {"social_value": {theme: getattr(self, f"sv_{theme}").data
                                 for theme in SOCIAL_VALUE_THEMES}}


for _theme, _label in SOCIAL_VALUE_THEMES.items():
    setattr(SocialValuePage, f"sv_{_theme}", PercentField(f"{_label} (optional)"))


class ContactPage(EntryPage):
    SLUG, TITLE = "contact", "Who should suppliers contact?"
    FIELDS = ("contact_role",)
    contact_role = StringField(
        "Contact role (optional)", widget=GovTextInput(), validators=[_max(120, "Contact role")],
        description="A job title or team rather than a person's name, for example "
                    "Commissioning team")


ENTRY_PAGES = {page.SLUG: page for page in (
    AboutPage, CategoriesPage, AreasPage, ValuePage, TimetablePage, RoutePage, SocialValuePage,
    ContactPage)}


class StageForm(DateExamples, PortalForm):
    """A form asked when an entry moves to another stage."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_examples()


class MarketEngagementForm(StageForm):
    EXAMPLES = {"market_engagement_on": ("", 30)}
    market_engagement_on = DateField("Date of the market engagement event",
                                     noun="market engagement date",
                                     validators=[InputRequired("Enter the date of the event")])
    engagement_details = TextAreaField(
        "Event details", widget=GovTextArea(), validators=[
            InputRequired("Give the details of the event"), _max(20000, "Event details")],
        description="Where and how suppliers can join, and how to book")
    submit = SubmitField("Start market engagement", widget=GovSubmitInput())

    def stage_data(self):
        return {"market_engagement_on": self.market_engagement_on.data,
                "engagement_details": self.engagement_details.data}


class OpenForm(ClosingFields, StageForm):
    EXAMPLES = {"closing_date": ("When tenders must be in: a date still to come, and not before "
                                 "the tender publication date. ", 30),
                "question_date": ("Before the closing date. ", 20),
                "contract_start_on": ("After the closing date. ", 120)}
    closing_date = _closing_date()
    closing_time = _closing_time()
    question_date = _question_date()
    question_time = _question_time()
    contract_start_on = DateField("Expected contract start date (optional)",
                                  noun="contract start date")
    submit = SubmitField("Open for tenders", widget=GovSubmitInput())

    def validate_closing_date(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the closing date")

    def stage_data(self):
        return {**self.closing_values(), "contract_start_on": self.contract_start_on.data}


class ReasonForm(PortalForm):
    reason = TextAreaField("Reason", widget=GovTextArea(), validators=[
        InputRequired("Give a reason, which is shown publicly"), _max(2000, "Reason")],
        description="This is shown on the public page")
    submit = SubmitField("Confirm", widget=GovSubmitInput())

    def stage_data(self):
        return {"reason": self.reason.data}


class NoDetailsForm(ConfirmForm):
    """A move to a stage that asks for nothing more than the button."""

    def stage_data(self):
        return {}


class LotForm(PortalForm):
    title = StringField("Lot title", widget=GovTextInput(), validators=[
        InputRequired("Enter a title for the lot"), _max(300, "Title")])
    description = TextAreaField("Description (optional)", widget=GovTextArea(),
                                validators=[_max(20000, "Description")])
    value_min = PoundsField("Estimated value (optional)", description="For example, £80,000",
                            message="Enter the value in pounds, like £80,000")
    value_max = PoundsField("Upper end of the range (optional)",
                            message="Enter the upper value in pounds, like £100,000")
    cpv_codes = StringField("CPV codes (optional)", widget=GovTextInput(),
                            validators=[_max(2000, "CPV codes")],
                            description="8-digit codes separated by commas")
    areas = TextAreaField("Areas (optional)", widget=GovTextArea(),
                          validators=[_max(4000, "Areas")],
                          description="Council, county or region names, separated by commas")
    submit = SubmitField("Save lot", widget=GovSubmitInput())

    def load(self, lot):
        from portal.organisations.services import area_labels
        for name in ("title", "description", "value_min", "value_max"):
            getattr(self, name).data = getattr(lot, name)
        self.cpv_codes.data = ", ".join(c.code for c in lot.cpv_codes)
        self.areas.data = ", ".join(area_labels(lot.areas))

    def lot_data(self):
        return {name: getattr(self, name).data
                for name in ("title", "description", "value_min", "value_max", "cpv_codes",
                             "areas")}


class DocumentForm(PortalForm):
    title = StringField("Title (optional)", widget=GovTextInput(), validators=[
        _max(200, "Title")], description="For example, Service specification")
    file = FileField("File", widget=GovFileInput(),
                     description="PDF, Word, Excel, OpenDocument, RTF, CSV or text, up to 10 MB")
    submit = SubmitField("Upload", widget=GovSubmitInput())


class QuestionForm(PortalForm):
    question = TextAreaField(
        "Your question", widget=GovTextArea(), validators=[
            InputRequired("Enter your question"), _max(5000, "Your question")],
        description="Only the buyer sees who asked. If they publish an answer, everyone sees "
                    "the question without your organisation's name.")
    submit = SubmitField("Send question", widget=GovSubmitInput())


class AnswerForm(PortalForm):
    published_question = TextAreaField(
        "Question as it will be published", widget=GovTextArea(), validators=[
            InputRequired("Enter the question as it will be published"),
            _max(5000, "The question")],
        description="Remove anything that would identify who asked")
    answer = TextAreaField("Answer", widget=GovTextArea(), validators=[
        InputRequired("Enter the answer"), _max(20000, "The answer")])
    submit = SubmitField("Publish answer", widget=GovSubmitInput())


class InterestForm(PortalForm):
    kind = RadioField("How might your organisation take part?", widget=Radios(),
                      choices=_choices(INTEREST_KINDS),
                      validators=[InputRequired("Choose how you might take part")])
    note = TextAreaField("Anything the buyer should know (optional)", widget=GovTextArea(),
                         validators=[_max(2000, "Your note")])
    submit = SubmitField("Register interest", widget=GovSubmitInput())


WINNER_SLOTS = 3
WINNER_FLAGS = {"is_vcse": "VCSE", "is_sme": "Small or medium-sized enterprise (SME)"}


class AwardForm(StageForm):
    # Today is always accepted: an award is recorded once tenders have closed.
    EXAMPLES = {"awarded_on": ("The day the contract was awarded: not in the future, and not "
                               "before tenders closed. ", 0)}
    awarded_on = DateField("Date of award", noun="award date",
                           validators=[InputRequired("Enter the date of the award")])
    value = PoundsField("Contract value (optional)", description="For example, £240,000",
                        message="Enter the contract value in pounds, like £240,000")
    notes = TextAreaField("Notes (optional)", widget=GovTextArea(),
                          validators=[_max(5000, "Notes")])
    submit = SubmitField("Record award", widget=GovSubmitInput())

    def award_data(self):
        winners = []
        for i in range(1, WINNER_SLOTS + 1):
            flags = getattr(self, f"winner_{i}_flags").data or []
            winners.append({"name": getattr(self, f"winner_{i}_name").data,
                            "is_vcse": "is_vcse" in flags, "is_sme": "is_sme" in flags})
        return {"awarded_on": self.awarded_on.data, "value": self.value.data,
                "notes": self.notes.data, "winners": winners}

    def validate_winner_1_name(self, field):
        if not any((getattr(self, f"winner_{i}_name").data or "").strip()
                   for i in range(1, WINNER_SLOTS + 1)):
            raise ValidationError("Enter the name of at least one winning organisation")


for _slot in range(1, WINNER_SLOTS + 1):
    setattr(AwardForm, f"winner_{_slot}_name", StringField(
        f"Winner {_slot}" + (" (optional)" if _slot > 1 else ""), widget=GovTextInput(),
        validators=[_max(300, "The name")],
        description="The organisation's name. If it is in the directory we will link to it."
        if _slot == 1 else None))
    setattr(AwardForm, f"winner_{_slot}_flags", SelectMultipleField(
        f"Winner {_slot} is a", coerce=str, widget=Checkboxes(), choices=_choices(WINNER_FLAGS)))


class ImportForm(PortalForm):
    file = FileField("Spreadsheet", widget=GovFileInput(),
                     description="A CSV file or an Excel workbook (.xlsx), up to 5 MB")
    publish = RadioField("After importing, should new entries be published?", widget=Radios(),
                         choices=[SelectChoice("no", "No, keep them as drafts so I can check them"),
                                  SelectChoice("yes", "Yes, publish them in the forward plan")],
                         default="no", validators=[InputRequired("Choose whether to publish")])
    submit = SubmitField("Upload and preview", widget=GovSubmitInput())


class FlagField(BooleanField):
    """A checkbox sent as `name=1` when ticked, as the filters' flags are spelled."""

    def _value(self):
        return "1"


class PlanFilterForm(PortalForm):
    """The forward plan's filters (GET; reading public data needs no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search", widget=GovTextInput())
    every_word = FlagField("Only show entries containing every word", widget=GovCheckboxInput())
    status = SelectField("Stage", widget=FastSelect(), choices=_choices(
        {k: v for k, v in STATUSES.items() if k != "draft"}, blank="Any current stage"))
    cpv = SelectField("Category", widget=FastSelect(), choices=[])
    area = SelectField("Area", widget=FastSelect(), choices=[])
    value_band = SelectField("Value", widget=FastSelect(), choices=_choices(
        {k: v[0] for k, v in VALUE_BANDS.items()}, blank="Any value"))
    buyer = SelectField("Buyer", widget=FastSelect(), choices=[])
    route = SelectField("Procurement route", widget=FastSelect(), choices=_choices(
        {k: r.label for k, r in ROUTES.items()}, blank="Any route"))
    closing_within = SelectField("Closing within", widget=FastSelect(), choices=_choices(
        {str(n): f"{n} days" for n in CLOSING_WITHIN}, blank="Any time"))
    options = SelectMultipleField("Show only", coerce=str, widget=Checkboxes(), choices=_choices(
        {"vcse": "Suitable for VCSEs", "consortium": "Consortium bids welcome"}))
    sort = SelectField("Sort by", widget=FastSelect(), choices=[])
    # What the list showed (see portal.organisations.directory.submitted_filters).
    shown_q = HiddenField()
    shown_sort = HiddenField()

    def __init__(self, formdata, options, shown_sort="updated", **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.area.choices = [SelectChoice("", "Anywhere")] + [
            SelectChoice(a.code, a.name if a.kind == "authority" else f"{a.name} ({a.kind_label})")
            for a in options["areas"]]
        self.cpv.choices = [SelectChoice("", "Any category")] + [
            SelectChoice(c.code, f"{c.code} {c.description}") for c in options["categories"]]
        self.buyer.choices = [SelectChoice("", "Any buyer")] + [
            SelectChoice(str(o.id), o.name) for o in options["buyers"]]
        self.options.data = [name for name in ("vcse", "consortium")
                             if formdata and formdata.get(name)]
        show_sorts(self, LIST_SORTS, shown_sort)
