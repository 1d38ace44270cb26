"""Forms of the consortium workspace: naming a team, its shares, the fair-terms charter, handing
over the lead, the message thread and telling the buyer the team will bid."""
import re
from decimal import Decimal

from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput, GovSubmitInput, GovTextArea, GovTextInput,
)
from wtforms import Field, RadioField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.consortia.models import FAIR_PAYMENT_DAYS, MAX_TEXT
from portal.core.forms import PortalForm
from portal.core.widgets import Radios

# Up to 100 with at most two decimal places, as the shares and the fee are stored.
PERCENT_RE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,2})?")
DAYS_RE = re.compile(r"[0-9]{1,4}")


def _max(length, what):
    return Length(max=length, message=f"{what} must be {length:,} characters or fewer")


class TypedField(Field):
    """A text box whose value is parsed; what was typed is shown again when it is refused."""

    widget = GovTextInput()
    pattern = None

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message

    def parse(self, text):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        if not self.pattern.fullmatch(text):
            raise ValueError(self.message)
        self.data = self.parse(text)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.show(self.data)

    def show(self, value):
        return str(value)


class PercentField(TypedField):
    """A percentage such as 25 or 33.34 (a trailing % is allowed); blank is no answer."""

    pattern = PERCENT_RE

    def process_formdata(self, valuelist):
        super().process_formdata([(valuelist[0] if valuelist else "").strip().rstrip("%")])

    def parse(self, text):
        return Decimal(text)

    def show(self, value):
        # 60.00 from the database reads as 60, and 33.40 as 33.4.
        return f"{Decimal(value).normalize():f}"


class DaysField(TypedField):
    """A whole number of days; blank is no answer."""

    pattern = DAYS_RE

    def parse(self, text):
        return int(text)


class MemberRadios(RadioField):
    """Radios of organisations (by id), refusing anything else in plain words."""

    def __init__(self, label, message, **kwargs):
        super().__init__(label, widget=Radios(), choices=[], **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data not in {str(choice.value) for choice in self.choices}:
            raise ValidationError(self.message)


class TeamForm(PortalForm):
    name = StringField("Name of the team", widget=GovTextInput(),
                       description="Partners and the buyer will see this name",
                       validators=[_max(200, "The name")])
    submit = SubmitField("Form the team", widget=GovSubmitInput())


def shares_form(members):
    """A form with a share of the work and a share of the value for every member, each named
    by the member's id (`work_<id>`, `value_<id>`), filled in with the shares recorded."""

    class SharesForm(PortalForm):
        def shares(self):
            """{member id: (work, value)} as the service takes them."""
            return {m.id: (self[f"work_{m.id}"].data, self[f"value_{m.id}"].data)
                    for m in members}

        def roles(self):
            """{member id: partner or sub-contractor} for the members other than the lead."""
            return {m.id: self[f"role_{m.id}"].data for m in members
                    if m.role != "lead" and self[f"role_{m.id}"].data}

        def delivers(self):
            """{member id: what it delivers} as the service takes them."""
            return {m.id: self[f"delivers_{m.id}"].data for m in members}

        def field_for(self, error_field):
            """The box an error is about: a member's description, or the first box of the
            column of shares."""
            if (error_field or "").startswith(("delivers_", "role_")):
                return error_field
            column = "value" if error_field == "value_share" else "work"
            return f"{column}_{members[0].id}" if members else None

    data = {}
    for member in members:
        name = member.organisation.name
        setattr(SharesForm, f"work_{member.id}", PercentField(
            f"{name}: share of the work",
            message=f"Enter {name}'s share of the work as a number, like 25 or 33.34"))
        setattr(SharesForm, f"value_{member.id}", PercentField(
            f"{name}: share of the value",
            message=f"Enter {name}'s share of the value as a number, like 25 or 33.34"))
        setattr(SharesForm, f"delivers_{member.id}", StringField(
            f"What {name} delivers", widget=GovTextInput(),
            validators=[Length(max=500, message="What it delivers must be 500 characters or "
                                                "fewer")]))
        data[f"work_{member.id}"], data[f"value_{member.id}"] = \
            member.work_share, member.value_share
        data[f"delivers_{member.id}"] = member.delivers
        if member.role != "lead":
            setattr(SharesForm, f"role_{member.id}", RadioField(
                f"Is {name} a partner or a sub-contractor?", widget=Radios(),
                choices=[SelectChoice("partner", "Partner: bids with the team and shares its "
                                                 "risks"),
                         SelectChoice("subcontractor", "Sub-contractor: delivers a part for "
                                                       "the lead")],
                validators=[Optional()]))
            data[f"role_{member.id}"] = member.role
    # Made last, so the boxes come first in the form (and in its error summary).
    SharesForm.submit = SubmitField("Save the shares", widget=GovSubmitInput())
    return SharesForm(data=data)


class CharterForm(PortalForm):
    payment_days = DaysField(
        "Days within which the lead pays members",
        description=f"Counted from the day the buyer pays the lead. Members should be paid "
                    f"within {FAIR_PAYMENT_DAYS} days.",
        message="Enter the number of days as a whole number, like 30")
    management_fee = PercentField(
        "Management fee the lead keeps (%)",
        description="The share of the contract's value the lead keeps to run the contract. "
                    "Enter 0 if none.",
        message="Enter the management fee as a number, like 5 or 2.5")
    risk_sharing = TextAreaField(
        "How are risk and penalties shared?", widget=GovTextArea(),
        description="For example, who carries the cost if a service credit or penalty is "
                    "applied to one member's part of the work",
        validators=[_max(MAX_TEXT, "How risk and penalties are shared")])
    disputes = TextAreaField(
        "How are disagreements between members settled?", widget=GovTextArea(),
        description="For example, a meeting of all members, then mediation",
        validators=[_max(MAX_TEXT, "How disputes are handled")])
    submit = SubmitField("Save and ask members to confirm", widget=GovSubmitInput())

    def terms(self):
        """The charter's terms as the service takes them."""
        return {name: self[name].data
                for name in ("payment_days", "management_fee", "risk_sharing", "disputes")}


class HandOverForm(PortalForm):
    member = MemberRadios("Who should lead the team?",
                          "Choose the member who should lead the team")
    submit = SubmitField("Hand over the lead", widget=GovSubmitInput())

    def __init__(self, members, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.member.choices = [SelectChoice(str(m.organisation_id), m.organisation.name)
                               for m in members]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MessageForm(PortalForm):
    body = TextAreaField("Your message", widget=GovTextArea(), filters=[_strip],
                         description="Every member of the team can read it, and we email them",
                         validators=[DataRequired("Enter your message"),
                                     _max(MAX_TEXT, "Your message")])
    submit = SubmitField("Send message", widget=GovSubmitInput())


class FileForm(PortalForm):
    file = FileField("Share a file with the team", widget=GovFileInput(),
                     description="A PDF, Word, Excel, OpenDocument text, PNG or JPEG file, "
                                 "up to 10MB. Every member can download it.")
    submit = SubmitField("Share the file", widget=GovSubmitInput())

    def upload(self):
        """(filename, bytes) from the file input, or None when no file was chosen."""
        from portal.accreditation.evidence import max_bytes

        storage = self.file.data
        if storage is None or not getattr(storage, "filename", ""):
            return None
        # One byte past the limit is enough to know a file is too large without keeping it.
        return storage.filename, storage.stream.read(max_bytes() + 1)


class TeamInterestForm(PortalForm):
    note = TextAreaField("Anything the buyer should know (optional)", widget=GovTextArea(),
                         validators=[_max(2000, "Your note")])
    submit = SubmitField("Tell the buyer", widget=GovSubmitInput())
