"""Forms for site administrators."""
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.core.forms import PortalForm
from portal.core.widgets import Radios
from portal.organisations.models import MAX_VERIFICATION_NOTE, VERIFICATION_BASES


class VerifyForm(PortalForm):
    basis = RadioField("What did you check?", widget=Radios(),
                       choices=[SelectChoice(value, label)
                                for value, label in VERIFICATION_BASES.items()],
                       validators=[InputRequired("Choose what you checked")])
    note = TextAreaField(
        "What did you find?", widget=GovTextArea(),
        description="Say what you looked at, so anyone can check it again later: for example, "
                    "‘Email domain camden.gov.uk; listed on the GOV.UK register of local "
                    "authorities’.",
        validators=[InputRequired("Say what you checked and what you found"),
                    Length(max=MAX_VERIFICATION_NOTE,
                           message=f"The note must be {MAX_VERIFICATION_NOTE:,} characters "
                                   "or fewer")])
    submit = SubmitField("Verify organisation", widget=GovSubmitInput())

