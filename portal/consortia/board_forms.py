"""Forms for the teaming board: the board's filters, posts, roles, invitations and answers."""
import re

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import (
    Field, RadioField, SelectChoice, StringField, SubmitField, TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.consortia.models import MAX_SUMMARY, POST_KINDS
from portal.core.forms import ChoiceField, PortalForm
from portal.core.widgets import Checkboxes, Radios
from portal.organisations.forms import TermChoicesField
from portal.pipeline.models import ACCREDITATION_TIERS

BOARD_KINDS = {"lead": "Looking for partners", "available": "Available as a partner"}
# A CPV code is 8 digits; notices often add a check digit after a hyphen ("85312000-9").
CPV_RE = re.compile(r"^(\d{8})(?:-\d)?$")


def _max(length, what):
    return Length(max=length, message=f"{what} must be {length:,} characters or fewer")


class BoardFilterForm(PortalForm):
    """The board's filters (GET: reading needs no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField("Search the board", widget=GovTextInput(),
                    validators=[Optional(), _max(200, "Search")])
    kind = ChoiceField("Kind of post", "Choose a kind of post from the list", choices=[
        SelectChoice("", "Any kind")] + [SelectChoice(k, v) for k, v in BOARD_KINDS.items()])
    area = ChoiceField("Where the work is", "Choose an area from the list", choices=[])

    def __init__(self, formdata, areas, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.area.choices = [SelectChoice("", "Anywhere")] + [
            SelectChoice(a.code, a.name if a.kind == "authority" else f"{a.name} ({a.kind_label})")
            for a in areas]

    def args(self):
        """The filters in use, for links to other pages of results."""
        return {name: value for name, value in (
            ("q", (self.q.data or "").strip()), ("kind", self.kind.data),
            ("area", self.area.data)) if value}


def _summary_field():
    return TextAreaField(
        "Summary", widget=GovTextArea(),
        description="If you are looking for partners, what you will bid for and the partners "
                    "you need. If you are available, what you can offer and where.",
        validators=[InputRequired("Enter a summary of your post"),
                    _max(MAX_SUMMARY, "Your summary")])


class PostForm(PortalForm):
    kind = RadioField("What are you posting?", widget=Radios(),
                      choices=[SelectChoice(k, v) for k, v in POST_KINDS.items()],
                      validators=[InputRequired("Choose whether you are looking for partners "
                                                "or available as one")])
    summary = _summary_field()
    submit = SubmitField("Post on the teaming board", widget=GovSubmitInput())


class EditPostForm(PortalForm):
    summary = _summary_field()
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class ShareField(Field):
    """A whole percentage from 0 to 100, or blank; what was typed is kept on error."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, noun="share", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.noun = noun

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        self.data = None
        if not text:
            return
        if not (text.isascii() and text.isdigit() and int(text) <= 100):
            raise ValueError(f"Enter the {self.noun} as a whole number from 0 to 100, "
                             "or leave it blank")
        self.data = int(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data is not None else ""


def parse_codes(text):
    """Category codes typed as '85312000, 85311000-2'; ValueError names the first bad one."""
    codes = []
    for part in re.split(r"[,;\s]+", text or ""):
        if not part:
            continue
        match = CPV_RE.match(part)
        if match is None:
            raise ValueError(part)
        codes.append(match.group(1))
    return codes


class RoleForm(PortalForm):
    """A role a lead wants filled. Categories and areas are offered from the entry's own."""

    title = StringField("Name of the role", widget=GovTextInput(),
                        description="For example, Short breaks for carers in east Leeds",
                        validators=[InputRequired("Enter a name for the role"),
                                    _max(200, "The name of the role")])
    delivers = TextAreaField("What the partner will deliver", widget=GovTextArea(),
                             description="The services, for whom and how. Needed unless you "
                                         "choose a category.",
                             validators=[Optional(), _max(2000, "What the role delivers")])
    cpv_codes = TermChoicesField("Categories", widget=Checkboxes(), choices=[],
                                 description="The entry's categories this role covers. "
                                             "Select all that apply.")
    extra_cpv_codes = StringField(
        "Other categories (optional)", widget=GovTextInput(),
        description="8-digit CPV codes separated by commas, for example 85312000",
        validators=[Optional(), _max(300, "Other categories")])
    area_codes = TermChoicesField("Areas", widget=Checkboxes(), choices=[],
                                  description="Where the partner will work. Leave them all "
                                              "unticked for the whole entry.")
    client_group_ids = TermChoicesField("Client groups", coerce=int, widget=Checkboxes(),
                                        choices=[], description="Who the partner will work "
                                                                "with. Select all that apply.")
    recommended_tier = ChoiceField(
        "Accreditation level recommended", "Choose tier 1, 2 or 3, or no level",
        choices=[SelectChoice("", "No level recommended")] + [
            SelectChoice(str(k), v) for k, v in ACCREDITATION_TIERS.items()])
    work_share = ShareField("Share of the work (optional)", noun="share of the work",
                            description="An indicative percentage, for example 30")
    value_share = ShareField("Share of the value (optional)", noun="share of the value",
                             description="An indicative percentage of the contract value")
    submit = SubmitField("Save role", widget=GovSubmitInput())

    def __init__(self, categories, areas, client_groups, role=None, **kwargs):
        super().__init__(**kwargs)
        self.cpv_codes.choices = [SelectChoice(c.code, c.label) for c in categories]
        self.area_codes.choices = [SelectChoice(a.code, a.name) for a in areas]
        self.client_group_ids.choices = [SelectChoice(t.id, t.value) for t in client_groups]
        if role is not None and not self.is_submitted():
            self.load(role)

    def load(self, role):
        offered = {choice.value for choice in self.cpv_codes.choices}
        for name in ("title", "delivers", "area_codes", "client_group_ids", "work_share",
                     "value_share"):
            getattr(self, name).data = getattr(role, name)
        self.cpv_codes.data = [c for c in role.cpv_codes if c in offered]
        self.extra_cpv_codes.data = ", ".join(c for c in role.cpv_codes if c not in offered)
        self.recommended_tier.data = str(role.recommended_tier or "")

    def validate_extra_cpv_codes(self, field):
        try:
            parse_codes(field.data)
        except ValueError as error:
            raise ValidationError(f"'{error}' is not a category code: enter codes of 8 digits, "
                                  "separated by commas, like 85312000") from None

    def role_data(self):
        """The role's fields, as the services take them."""
        return {"title": self.title.data, "delivers": self.delivers.data,
                "cpv_codes": list(self.cpv_codes.data or []) + parse_codes(
                    self.extra_cpv_codes.data),
                "area_codes": list(self.area_codes.data or []),
                "client_group_ids": list(self.client_group_ids.data or []),
                "recommended_tier": int(self.recommended_tier.data)
                if self.recommended_tier.data else None,
                "work_share": self.work_share.data, "value_share": self.value_share.data}

    def error_field(self, error):
        """A refused category is shown by the box it was typed in."""
        if error.field == "cpv_codes" and (self.extra_cpv_codes.data or "").strip():
            error.field = "extra_cpv_codes"
        return error


class InviteForm(PortalForm):
    message = TextAreaField("Message (optional)", widget=GovTextArea(),
                            description="For example, the part of the work you have in mind "
                                        "for them, or who to contact",
                            validators=[Optional(), _max(1000, "Your message")])
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class DeclineForm(PortalForm):
    reason = TextAreaField("Why are you declining?", widget=GovTextArea(),
                           description="Your answer is shared with the organisation that "
                                       "invited you",
                           validators=[InputRequired("Enter why you are declining"),
                                       _max(2000, "Your answer")])
    submit = SubmitField("Decline invitation", widget=GovSubmitInput())


class ReplyForm(PortalForm):
    body = TextAreaField("Your message", widget=GovTextArea(),
                         validators=[InputRequired("Enter your message"),
                                     _max(2000, "Your message")])
    submit = SubmitField("Send message", widget=GovSubmitInput())
