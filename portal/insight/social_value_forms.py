"""Forms for social value: choosing a measure, committing to an amount of it, and reporting
what was delivered in a period."""
import re
from decimal import Decimal

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import Field, HiddenField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

from portal.core.forms import ChoiceField, PortalForm
from portal.insight.social_value import MAX_NOTE
from portal.organisations.forms import DateField

NUMBER_RE = re.compile(r"[0-9]+(\.[0-9]{1,2})?")
MAX_DIGITS = 12  # before the decimal point: what the amount column holds


class AmountField(Field):
    """An amount of a measure: a number with up to 2 decimal places; commas, spaces and a £
    sign are allowed. What was typed is kept when it is refused."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.message = message or "Enter the amount as a number, like 120"

    def process_formdata(self, valuelist):
        text = re.sub(r"[£,\s]", "", valuelist[0] if valuelist else "")
        self.data, self.unreadable = None, False
        if not text:
            return
        if not NUMBER_RE.fullmatch(text) or len(text.split(".")[0]) > MAX_DIGITS:
            self.unreadable = True
            return
        self.data = Decimal(text)

    def pre_validate(self, form):
        # Refused here rather than while reading the form, so that the message can name the
        # unit the form sets after reading.
        if getattr(self, "unreadable", False):
            raise StopValidation(self.message)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


def _note_field(description):
    return TextAreaField("Note (optional)", widget=GovTextArea(), description=description,
                         validators=[Optional(), Length(max=MAX_NOTE, message=(
                             f"The note must be {MAX_NOTE:,} characters or fewer"))])


def amount_params(measure):
    """The amount box drawn with its unit: "£" before it, any other unit after it."""
    params = {"classes": "govuk-input--width-10", "inputmode": "decimal", "spellcheck": False}
    if measure.is_money:
        params["prefix"] = {"text": "£"}
    else:
        params["suffix"] = {"text": measure.unit}
    return params


class MeasureForm(PortalForm):
    """The first step of a commitment: which measure (a GET form, so it needs no token)."""

    class Meta:
        csrf = False

    measure = ChoiceField("What will you commit to?", "Choose what you will commit to",
                          description="Measures are grouped by social value theme",
                          validators=[InputRequired("Choose what you will commit to")])
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def __init__(self, measures, **kwargs):
        super().__init__(**kwargs)
        self.measure.choices = [SelectChoice("", "Choose a measure")] + [
            SelectChoice(m.key, m.label) for m in measures]


class CommitmentForm(PortalForm):
    """How much of the chosen measure the supplier commits to deliver over the contract."""

    measure = HiddenField()
    amount = AmountField("How much will you deliver over the whole contract?")
    note = _note_field("How you will deliver it, for example the partners or projects "
                       "involved. The buyer sees this note.")
    submit = SubmitField("Add commitment", widget=GovSubmitInput())

    def __init__(self, measure, **kwargs):
        super().__init__(**kwargs)
        self.measure.data = measure.key
        unit = "pounds" if measure.is_money else measure.unit
        self.amount.description = measure.help
        self.amount.message = f"Enter the amount you commit to, in {unit}, as a number like 120"

    def validate_amount(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the amount you commit to")


class ReportForm(PortalForm):
    """What was delivered against one commitment in one period."""

    period_end = DateField("Last day of the period", noun="last day of the period",
                           description="For example, 31 3 2027 for the quarter to the end of "
                                       "March")
    amount = AmountField("Delivered in this period")
    note = _note_field("What was delivered and how you counted it. The buyer sees this note.")
    submit = SubmitField("Send report", widget=GovSubmitInput())

    def __init__(self, measure, **kwargs):
        super().__init__(**kwargs)
        unit = "pounds" if measure.is_money else measure.unit
        self.amount.description = f"Enter 0 if nothing was delivered. {measure.help}"
        self.amount.message = f"Enter the amount delivered, in {unit}, as a number like 40"

    def validate_period_end(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the last day of the period")

    def validate_amount(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the amount delivered, 0 or more")
