from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from portal.alerts.models import FREQUENCIES
from portal.core.forms import PortalForm
from portal.core.widgets import Radios

FREQUENCY_CHOICES = [SelectChoice(key, label) for key, (label, _gap) in FREQUENCIES.items()]


class SubscribeForm(PortalForm):
    name = StringField("Name for this alert", widget=GovTextInput(),
                       description="For example: Mental health services in Kent",
                       validators=[InputRequired("Enter a name for the alert"),
                                   Length(max=120, message="Name must be 120 characters or fewer")])
    frequency = RadioField("How often should we email you?", widget=Radios(), default="daily",
                           choices=FREQUENCY_CHOICES,
                           validators=[InputRequired("Choose how often you want emails")])
    submit = SubmitField("Save alert", widget=GovSubmitInput())


class FrequencyForm(PortalForm):
    frequency = RadioField("How often should we email you?", widget=Radios(), choices=FREQUENCY_CHOICES,
                           validators=[InputRequired("Choose how often you want emails")])
    submit = SubmitField("Save", widget=GovSubmitInput())
