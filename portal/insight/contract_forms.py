"""Forms for the contracts register: its filter, a contract's terms, and a contract added by
hand."""
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import Length, ValidationError

from portal.core.forms import PortalForm
from portal.core.widgets import Checkboxes, FastSelect
from portal.insight.contracts import ENDING, SORTS
from portal.organisations.forms import DateField, PoundsField, TermChoicesField

TERM_FIELDS = ("starts_on", "ends_on", "extension_ends_on", "value")
HOLDERS = {"any_vcse": "A VCSE", "any_sme": "A small or medium-sized enterprise (SME)"}


class RegisterFilterForm(PortalForm):
    """Which contracts the register shows, and in what order (a GET form: no token)."""

    class Meta:
        csrf = False

    ending = SelectField("Show", widget=FastSelect(),
                         choices=[SelectChoice(k, v) for k, v in ENDING.items()])
    sort = SelectField("Sort by", widget=FastSelect(),
                       choices=[SelectChoice(k, v) for k, v in SORTS.items()])

    def __init__(self, query, **kwargs):
        super().__init__(formdata=None, data={"ending": query.ending, "sort": query.sort},
                         **kwargs)


def _starts_on():
    return DateField("Start date", noun="start date", description="For example, 1 4 2025")


def _ends_on():
    return DateField("End date", noun="end date",
                     description="The last day of the contract before any extension. "
                                 "For example, 31 3 2028")


def _extension_ends_on():
    return DateField("End of the extension (optional)", noun="extension end date",
                     description="The last day if every extension is taken up. Leave it blank "
                                 "if the contract cannot be extended.")


def _value():
    return PoundsField("Value (optional)",
                       description="The whole contract, in pounds. For example, £360,000",
                       message="Enter the value in pounds, like £360,000")


class TermChecks:
    """A start and an end are needed; the order of the dates is the contract's own rule."""

    def validate_starts_on(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the start date")

    def validate_ends_on(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("Enter the end date")

    def terms_data(self):
        return {name: getattr(self, name).data for name in TERM_FIELDS}


class ContractForm(TermChecks, PortalForm):
    """A contract's dates, extension and value."""

    starts_on = _starts_on()
    ends_on = _ends_on()
    extension_ends_on = _extension_ends_on()
    value = _value()
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    def __init__(self, contract, **kwargs):
        super().__init__(**kwargs)
        if not self.is_submitted():
            for name in TERM_FIELDS:
                getattr(self, name).data = getattr(contract, name)


class NewContractForm(TermChecks, PortalForm):
    """A contract let outside the portal."""

    title = StringField("Title", widget=GovTextInput(),
                        description="For example, Carers' short breaks service",
                        validators=[Length(max=300, message="Title must be 300 characters or "
                                                            "fewer")])
    supplier_names = StringField(
        "Suppliers (optional)", widget=GovTextInput(),
        description="Who holds the contract. Separate several names with semicolons.",
        validators=[Length(max=600, message="Suppliers must be 600 characters or fewer")])
    holders = TermChoicesField("The suppliers include (optional)", coerce=str,
                               widget=Checkboxes(),
                               choices=[SelectChoice(k, v) for k, v in HOLDERS.items()],
                               description="Select all that apply.")
    main_cpv_code = StringField(
        "Main category (optional)", widget=GovTextInput(),
        description="A CPV code of 8 digits, for example 85312000",
        validators=[Length(max=60, message="Main category must be 60 characters or fewer")])
    starts_on = _starts_on()
    ends_on = _ends_on()
    extension_ends_on = _extension_ends_on()
    value = _value()
    submit = SubmitField("Add contract", widget=GovSubmitInput())

    def validate_title(self, field):
        if not (field.data or "").strip():
            raise ValidationError("Enter the title of the contract")

    def contract_data(self):
        holders = set(self.holders.data or [])
        return {"title": self.title.data, "supplier_names": self.supplier_names.data,
                "main_cpv_code": self.main_cpv_code.data, **self.terms_data(),
                **{name: name in holders for name in HOLDERS}}
