"""Forms of the dashboard: its filters (a GET form) and a buyer's targets."""
import re

from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Regexp

from portal.consortia.workspace_forms import PercentField
from portal.core.forms import PortalForm
from portal.core.widgets import FastSelect, Radios
from portal.insight.models import SHARE_MEASURES


class FilterForm(PortalForm):
    """Period, category and area, read from the query string."""

    class Meta:
        csrf = False

    year_from = SelectField("From", widget=FastSelect(), choices=[], validate_choice=False)
    year_to = SelectField("To", widget=FastSelect(), choices=[], validate_choice=False)
    category = SelectField("Category", widget=FastSelect(), choices=[], validate_choice=False)
    area = SelectField("Area", widget=FastSelect(), choices=[], validate_choice=False)
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def fill(self, years, categories, areas):
        blank = [("", "Any")]
        self.year_from.choices = blank + [(str(y), str(y)) for y in years]
        self.year_to.choices = blank + [(str(y), str(y)) for y in years]
        self.category.choices = [("", "All categories")] + categories
        self.area.choices = [("", "All areas")] + areas
        return self


class TargetForm(PortalForm):
    measure = RadioField("What does the target measure?", widget=Radios(),
                         choices=list(SHARE_MEASURES.items()),
                         validators=[InputRequired("Choose what the target measures")])
    year = StringField("Year", widget=GovTextInput(),
                       validators=[DataRequired("Enter the year the target is for"),
                                   Regexp(re.compile(r"\s*\d{4}\s*"),
                                          message="Enter a year such as 2027")])
    baseline_percent = PercentField("Baseline (%) (optional)",
                                    message="Enter the baseline as a percentage, like 12.5")
    target_percent = PercentField("Target (%)", validators=[InputRequired("Enter the target")],
                                  message="Enter the target as a percentage, like 20")
    submit = SubmitField("Save target", widget=GovSubmitInput())
