"""The self-assessment rating form: where the buyer is now in one sub-area, where it aims to be,
and what the rating rests on."""
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional, StopValidation, ValidationError

from portal.core.exceptions import DomainError
from portal.core.forms import PortalForm
from portal.core.widgets import Radios
from portal.insight.maturity import MAX_EVIDENCE_URL, MAX_NOTES, normalise_evidence_url
from portal.insight.models import MATURITY_LEVELS


class LevelField(RadioField):
    """One of the five levels; a missing or unknown answer gets the field's own message."""

    def __init__(self, label, message, **kwargs):
        super().__init__(label, widget=Radios(), coerce=str,
                         choices=[SelectChoice(str(rank), name)
                                  for rank, name in MATURITY_LEVELS.items()],
                         **kwargs)
        self.message = message

    def pre_validate(self, form):
        if self.data not in {str(rank) for rank in MATURITY_LEVELS}:
            raise StopValidation(self.message)

    @property
    def level(self):
        return int(self.data) if self.data and self.data.isdigit() else None


def _web_address(form, field):
    try:
        normalise_evidence_url(field.data)
    except DomainError as error:
        raise ValidationError(error.message) from None


class RatingForm(PortalForm):
    current_level = LevelField("Which level best describes where you are now?",
                               "Choose the level that best describes where you are now")
    target_level = LevelField(
        "Which level do you aim to reach?", "Choose the level you aim to reach",
        description="Your target cannot be below the level you are at now.")
    notes = TextAreaField(
        "Notes (optional)", widget=GovTextArea(),
        description="What the rating rests on, and what you plan to do next",
        validators=[Optional(), Length(max=MAX_NOTES, message=f"Notes must be {MAX_NOTES:,} "
                                                               "characters or fewer")])
    evidence_url = StringField(
        "Link to evidence (optional)", widget=GovTextInput(),
        description="A web address, for example your published procurement strategy or a "
                    "committee report",
        validators=[Length(max=MAX_EVIDENCE_URL, message=f"The link must be {MAX_EVIDENCE_URL} "
                                                         "characters or fewer"), _web_address])
    submit = SubmitField("Save rating", widget=GovSubmitInput())

    def validate_target_level(self, field):
        # The model refuses it too; checking here shows it beside other mistakes at once.
        current, target = self.current_level.level, field.level
        if current is not None and target is not None and target < current:
            raise ValidationError("The target cannot be below the current level")

    def rating_data(self):
        return {"current_level": self.current_level.level,
                "target_level": self.target_level.level,
                "notes": self.notes.data, "evidence_url": self.evidence_url.data}
