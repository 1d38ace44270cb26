"""Forms for applying, assessing, deciding and running schemes."""
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput, GovFileInput, GovSubmitInput, GovTextArea, GovTextInput,
)
from wtforms import (
    BooleanField, IntegerField, RadioField, SelectChoice, SelectField, SelectMultipleField,
    StringField, SubmitField, TextAreaField,
)
from wtforms.widgets import HiddenInput
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.accreditation.models import ANSWER_STATUSES, OUTCOMES, VERDICTS
from portal.accreditation.register import SORTS, TIERS
from portal.core.forms import PortalForm
from portal.core.widgets import Checkboxes, FastSelect, Radios
from portal.organisations.forms import attach_error  # noqa: F401  (re-exported for views)


def _max(length, what):
    return Length(max=length, message=f"{what} must be {length:,} characters or fewer")


def _choices(mapping):
    return [SelectChoice(key, label) for key, label in mapping.items()]


class OfferedChoices(SelectMultipleField):
    """Checkboxes whose values must be among those offered."""

    def pre_validate(self, form):
        offered = {choice.value for choice in self.choices}
        if any(value not in offered for value in self.data or []):
            raise ValidationError(f"Choose {self.label.text.lower()} from the list")


# --- applying -------------------------------------------------------------------------------

class SchemeChoiceForm(PortalForm):
    scheme = RadioField("Which scheme do you want to apply for?", widget=Radios(), choices=[],
                        validators=[InputRequired("Choose a scheme")])
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def __init__(self, schemes, **kwargs):
        super().__init__(**kwargs)
        self.scheme.choices = [SelectChoice(s.slug, s.name) for s in schemes]


class LevelChoiceForm(PortalForm):
    level = RadioField("Which level are you applying for?", widget=Radios(), coerce=int,
                       choices=[], validators=[InputRequired("Choose a level")])
    submit = SubmitField("Start application", widget=GovSubmitInput())

    def __init__(self, version, suggested, **kwargs):
        super().__init__(**kwargs)
        self.level.choices = [SelectChoice(lv.id, lv.name) for lv in version.levels]
        if not self.is_submitted():
            self.level.data = suggested.id


class AnswerForm(PortalForm):
    status = RadioField("Does your organisation meet this standard?", widget=Radios(),
                        choices=_choices(ANSWER_STATUSES),
                        validators=[InputRequired("Choose met, partly met or not yet met")])
    narrative = TextAreaField(
        "Explain briefly how you meet it, or what you still need to do", widget=GovTextArea(),
        validators=[InputRequired("Enter a short explanation"), _max(5000, "Your explanation")])
    mark_id = SelectField("Do you hold a recognised mark that covers this standard?",
                          widget=FastSelect(), coerce=int, choices=[], validators=[Optional()])
    mark_reference = StringField("Certificate or registration number (optional)",
                                 widget=GovTextInput(),
                                 validators=[Optional(), _max(120, "The reference")])
    file = FileField("Upload evidence (optional)", widget=GovFileInput())
    save = SubmitField("Save and continue", widget=GovSubmitInput())
    save_later = SubmitField("Save and come back later", widget=GovSubmitInput())

    def __init__(self, answer, marks, **kwargs):
        super().__init__(obj=answer, **kwargs)
        self.mark_id.choices = [SelectChoice(0, "No")] + [SelectChoice(m.id, m.name)
                                                           for m in marks]
        if not self.is_submitted() and answer is not None:
            self.mark_id.data = answer.mark_id or 0
        self.has_marks = bool(marks)

    def answer_data(self):
        return {"status": self.status.data, "narrative": self.narrative.data,
                "mark_id": self.mark_id.data or None, "mark_reference": self.mark_reference.data}

    def upload(self):
        """(filename, bytes) read from the file input, or None when no file was chosen."""
        storage = self.file.data
        if storage is None or not getattr(storage, "filename", ""):
            return None
        from portal.accreditation.evidence import max_bytes
        # Read one byte past the limit: enough to know a file is too large without keeping it.
        return storage.filename, storage.stream.read(max_bytes() + 1)


class UseCertificateForm(PortalForm):
    """The button under a certificate on the profile: which credential to give as evidence."""
    credential = IntegerField(widget=HiddenInput(),
                              validators=[InputRequired("Choose a certificate")])


class SubmitForm(PortalForm):
    response = TextAreaField("What have you changed or added?", widget=GovTextArea(),
                             validators=[Optional(), _max(5000, "Your reply")])
    confirm = BooleanField("I confirm that the information given is true and complete",
                           widget=GovCheckboxInput(),
                           validators=[InputRequired("Confirm the information is true and "
                                                     "complete")])
    submit = SubmitField("Submit application", widget=GovSubmitInput())


# --- the body -------------------------------------------------------------------------------

class AssignForm(PortalForm):
    assessors = OfferedChoices("Assessors", coerce=int, widget=Checkboxes(), choices=[],
                               validators=[InputRequired("Choose at least one assessor")])
    submit = SubmitField("Assign", widget=GovSubmitInput())

    def __init__(self, people, **kwargs):
        super().__init__(**kwargs)
        self.assessors.choices = [SelectChoice(u.id, f"{u.name} ({u.email})") for u in people]


class ConflictForm(PortalForm):
    has_conflict = RadioField(
        "Do you have a conflict of interest with this organisation?", widget=Radios(),
        choices=[SelectChoice("no", "No"), SelectChoice("yes", "Yes")],
        validators=[InputRequired("Say whether you have a conflict of interest")])
    details = TextAreaField("If yes, describe it", widget=GovTextArea(),
                            validators=[Optional(), _max(2000, "The description")])
    submit = SubmitField("Confirm declaration", widget=GovSubmitInput())


class ReviewForm(PortalForm):
    verdict = RadioField("Your verdict", widget=Radios(), choices=_choices(VERDICTS),
                         validators=[InputRequired("Choose met, partly met or not met")])
    feedback = TextAreaField("Feedback for the applicant", widget=GovTextArea(),
                             validators=[Optional(), _max(5000, "Feedback")])
    private_note = TextAreaField("Private note for the board (never shown to the applicant)",
                                 widget=GovTextArea(), validators=[Optional(), _max(5000, "Note")])
    mark_verified = BooleanField("I have checked the recognised mark is current and covers "
                                 "this standard", widget=GovCheckboxInput())
    submit = SubmitField("Save verdict", widget=GovSubmitInput())

    def __init__(self, review, **kwargs):
        super().__init__(obj=review, **kwargs)

    def review_data(self):
        return {name: getattr(self, name).data
                for name in ("verdict", "feedback", "private_note", "mark_verified")}


class SendBackForm(PortalForm):
    message = TextAreaField("What does the applicant need to add or change?",
                            widget=GovTextArea(),
                            validators=[InputRequired("Say what the applicant needs to add or "
                                                      "change"), _max(5000, "Your request")])
    standards = OfferedChoices("Standards this concerns", widget=Checkboxes(), choices=[])
    submit = SubmitField("Send back to the applicant", widget=GovSubmitInput())

    def __init__(self, standards, **kwargs):
        super().__init__(**kwargs)
        self.standards.choices = [SelectChoice(s.code, s.label) for s in standards]


class DecisionForm(PortalForm):
    outcome = RadioField("Decision", widget=Radios(), choices=_choices(OUTCOMES),
                         validators=[InputRequired("Choose a decision")])
    level = SelectField("Level to accredit at (for a lower level)", widget=FastSelect(),
                        coerce=int, choices=[], validators=[Optional()])
    reasons = TextAreaField("Reasons for the decision (shared with the applicant)",
                            widget=GovTextArea(),
                            validators=[InputRequired("Give the reasons for the decision"),
                                        _max(5000, "Reasons")])
    moderation_notes = TextAreaField(
        "How the board resolved differences between assessors (not shared with the applicant)",
        widget=GovTextArea(), validators=[Optional(), _max(5000, "Moderation notes")])
    submit = SubmitField("Record decision", widget=GovSubmitInput())

    def __init__(self, application, **kwargs):
        super().__init__(**kwargs)
        self.level.choices = [SelectChoice(0, "Not applicable")] + [
            SelectChoice(lv.id, lv.name) for lv in application.version.levels
            if lv.rank < application.level.rank]


class RecordStatusForm(PortalForm):
    status = RadioField("What do you want to do?", widget=Radios(), choices=[
        SelectChoice("suspended", "Suspend"), SelectChoice("active", "Reinstate"),
        SelectChoice("revoked", "Revoke permanently")],
        validators=[InputRequired("Choose what to do")])
    reason = TextAreaField("Reason (shared with the organisation)", widget=GovTextArea(),
                           validators=[Optional(), _max(2000, "Reason")])
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class SchemeForm(PortalForm):
    document = TextAreaField("Scheme", widget=GovTextArea(),
                             validators=[InputRequired("Enter the scheme")])
    submit = SubmitField("Publish", widget=GovSubmitInput())


# --- public filters (GET; no CSRF token needed to read public data) --------------------------

class RegisterFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField("Search", widget=GovTextInput())
    scheme = SelectField("Scheme", widget=FastSelect(), choices=[])
    tier = SelectField("Tier", widget=FastSelect(),
                       choices=[SelectChoice("", "Any tier")] + [
                           SelectChoice(str(k), v) for k, v in TIERS.items()])
    area = SelectField("Area served", widget=FastSelect(), choices=[])
    cpv = SelectField("Service category", widget=FastSelect(), choices=[])
    sort = SelectField("Sort by", widget=FastSelect(), choices=_choices(SORTS))

    def __init__(self, formdata, options, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.scheme.choices = [SelectChoice("", "Any scheme")] + [
            SelectChoice(s.slug, s.name) for s in options["schemes"]]
        self.area.choices = [SelectChoice("", "Anywhere")] + [
            SelectChoice(a.code, a.name if a.kind == "authority" else f"{a.name} ({a.kind_label})")
            for a in options["areas"]]
        self.cpv.choices = [SelectChoice("", "Any category")] + [
            SelectChoice(c.code, f"{c.code} {c.description}") for c in options["categories"]]


class ReportFilterForm(PortalForm):
    class Meta:
        csrf = False

    scheme = SelectField("Scheme", widget=FastSelect(), choices=[])
    level = SelectField("Level", widget=FastSelect(), choices=[])
    area = SelectField("Where organisations work", widget=FastSelect(), choices=[])

    def __init__(self, formdata, schemes, version, areas, **kwargs):
        super().__init__(formdata=formdata, **kwargs)
        self.scheme.choices = [SelectChoice(s.slug, s.name) for s in schemes]
        self.level.choices = [SelectChoice("", "All levels")] + [
            SelectChoice(str(lv.rank), lv.name) for lv in version.levels]
        self.area.choices = [SelectChoice("", "Anywhere")] + [
            SelectChoice(a.code, a.name if a.kind == "authority" else f"{a.name} ({a.kind_label})")
            for a in areas]
