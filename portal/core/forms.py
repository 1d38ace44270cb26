"""The base of every form in the portal: text that cannot be stored safely is refused here,
once, for every text field, rather than field by field.

- No text field may hold a control character (NUL, escape, C1 controls…): PostgreSQL refuses
  NUL, and the others are invisible. A multi-line text area may hold tab, newline and CR.
- A single-line field (a name, a title, a reference) may not hold the characters that override
  or isolate the direction of text, which can make one name look like another. Multi-line text
  keeps them, because mixed right-to-left and left-to-right prose can need them.

Passwords are left alone: they are only ever hashed, and refusing a character now could lock
out someone whose password already holds it.
"""
import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.main import wtforms_errors
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovSubmitInput
from wtforms import PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import StopValidation, ValidationError

from portal.core.text import has_bidi_controls, has_control_characters
from portal.core.widgets import FastSelect

# Labels that are questions or instructions read badly before "must not contain…".
_PHRASE_STARTS = ("what ", "where ", "how ", "why ", "if ", "explain ", "describe ",
                  "anything ", "give ")


def field_noun(field):
    """What to call a field in an error message: its label without "(optional)" and the like."""
    label = re.sub(r"\s*\([^)]*\)\s*$", "", field.label.text or "").strip()
    if not label or label.endswith("?") or label.lower().startswith(_PHRASE_STARTS):
        return "Your answer"
    return label


def plain_text(form, field):
    """Refuse control characters, and direction overrides in single-line fields."""
    value = field.data if isinstance(field.data, str) else ""
    multi_line = isinstance(field, TextAreaField)
    if has_control_characters(value, allow_line_breaks=multi_line):
        raise StopValidation(f"{field_noun(field)} must not contain control characters")
    if not multi_line and has_bidi_controls(value):
        raise StopValidation(f"{field_noun(field)} must not contain characters that change "
                             "the direction of text")


def _checks_text(field):
    return isinstance(field, StringField) and not isinstance(
        field, (PasswordField, CSRFTokenField))


class PortalForm(FlaskForm):
    """A FlaskForm whose text fields all refuse what cannot be stored or shown safely."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            if _checks_text(field):
                # First in the chain, so Optional() cannot stop it for a value such as
                # "\x1f", which Python counts as whitespace.
                field.validators = [plain_text, *field.validators]
            if isinstance(field.widget, GovDateInput):
                _link_to_day(field)
            return field


def _link_to_day(field):
    """Point a date's error-summary link at its day box, where typing starts.

    The summary links to each field's id, and a date's three boxes sit in a group whose id is
    the field's name; that group cannot take focus, so the link would lead nowhere. The group
    keeps the name as its id (its hint and error message are named after it)."""
    field.render_kw = {"id": field.name, **(field.render_kw or {})}
    field.id = field.label.field_id = f"{field.name}-day"


class ConfirmForm(PortalForm):
    """A form that is only a button, so that an action taken by one click carries a CSRF token.

    A page may draw the button from the form (`{{ form.submit }}`), named by `submit_label`, or
    draw its own and use the form for the token alone.
    """

    submit = SubmitField("Continue", widget=GovSubmitInput())

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if submit_label:
            self.submit.label.text = submit_label


class ChoiceField(SelectField):
    """A select whose refusal of an unknown value says which list to choose from."""

    def __init__(self, label, message, **kwargs):
        super().__init__(label, widget=FastSelect(), default="", **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data not in {str(choice.value) for choice in self.choices}:
            raise ValidationError(self.message)


def error_summary(form, params=None):
    """The GOV.UK error summary of a form (the `wtforms_errors` of templates). An error about
    the form as a whole, which names no field, is shown as text: as a link it would point at
    nothing ("#" or "#None") and take a screen reader user nowhere."""
    summary = wtforms_errors(form, params or {})
    fields = {getattr(field, "id", None) for field in form}
    for error in summary["errorList"]:
        if error.get("href", "#")[1:] not in fields:
            error.pop("href", None)
    return summary


def first_error(form):
    """The first message among a form's errors: what to flash when the page the form was
    posted from no longer shows it (already answered, closed, withdrawn), so the message
    cannot sit next to a field."""
    for messages in form.errors.values():
        for message in messages if isinstance(messages, list) else [messages]:
            if isinstance(message, str):
                return message
    return "That could not be done"
