"""Forms for registration, signing in, passwords and team membership."""
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput, GovCheckboxesInput, GovPasswordInput, GovSubmitInput, GovTextInput,
)
from wtforms import (
    BooleanField, EmailField, SelectChoice, PasswordField, RadioField, StringField, SubmitField,
)
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional, ValidationError

from portal.accounts.passwords import password_problem
from portal.core.forms import PortalForm
from portal.core.widgets import Radios
from portal.organisations.models import LEGAL_FORMS, ORG_TYPES


def _choices(mapping):
    return [SelectChoice(value, label) for value, label in mapping.items()]


class StrongPassword:
    """Validator wrapping the password rules, so forms show one clear message."""

    def __init__(self, email_field=None):
        self.email_field = email_field

    def __call__(self, form, field):
        email = form[self.email_field].data if self.email_field and self.email_field in form else ""
        problem = password_problem(field.data or "", email or "")
        if problem:
            raise ValidationError(problem)


class OrganisationTypeForm(PortalForm):
    org_type = RadioField("What type of organisation are you registering?",
                          choices=_choices(ORG_TYPES), widget=Radios(),
                          validators=[InputRequired("Select the type of organisation")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class OrganisationDetailsForm(PortalForm):
    name = StringField("Organisation name", widget=GovTextInput(),
                       validators=[InputRequired("Enter the name of your organisation"),
                                   Length(max=200, message="Name must be 200 characters or fewer")])
    legal_form = RadioField("Legal form", widget=Radios(), choices=[],
                            validators=[InputRequired("Select the legal form")])
    charity_number = StringField("Charity number (if you have one)", widget=GovTextInput(),
                                 description="For example, 1234567, SC012345 or NIC100002",
                                 validators=[Optional(), Length(max=12)])
    company_number = StringField("Company number (if you have one)", widget=GovTextInput(),
                                 description="8 characters, for example 01234567 or SC123456",
                                 validators=[Optional(), Length(max=10)])
    postcode = StringField("Postcode of your main office", widget=GovTextInput(),
                           validators=[InputRequired("Enter a postcode"), Length(max=10)])
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def for_type(self, org_type):
        self.legal_form.choices = _choices(LEGAL_FORMS[org_type])
        return self


class YourDetailsForm(PortalForm):
    name = StringField("Full name", widget=GovTextInput(),
                       validators=[InputRequired("Enter your full name"), Length(max=120)])
    email = EmailField("Email address", widget=GovTextInput(),
                       description="We will send you a link to confirm it",
                       validators=[InputRequired("Enter your email address"),
                                   Email("Enter an email address in the correct format, like name@example.org"),
                                   Length(max=254)])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class NewPasswordForm(PortalForm):
    email = StringField()  # carried for the "not your email" rule; never shown
    password = PasswordField("Create a password", widget=GovPasswordInput(),
                             description="Use 12 characters or more. A few unrelated words work well.",
                             validators=[InputRequired("Enter a password"), StrongPassword("email")])
    confirm = PasswordField("Confirm password", widget=GovPasswordInput(),
                            validators=[InputRequired("Confirm your password"),
                                        EqualTo("password", "Passwords must match")])
    submit = SubmitField("Create account", widget=GovSubmitInput())


class SignInForm(PortalForm):
    email = EmailField("Email address", widget=GovTextInput(),
                       validators=[InputRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=128)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class EmailOnlyForm(PortalForm):
    email = EmailField("Email address", widget=GovTextInput(),
                       validators=[InputRequired("Enter your email address"),
                                   Email("Enter an email address in the correct format, like name@example.org"),
                                   Length(max=254)])
    submit = SubmitField("Send link", widget=GovSubmitInput())


class ChangePasswordForm(PortalForm):
    email = StringField()
    current_password = PasswordField("Current password", widget=GovPasswordInput(),
                                     validators=[InputRequired("Enter your current password")])
    password = PasswordField("New password", widget=GovPasswordInput(),
                             description="Use 12 characters or more.",
                             validators=[InputRequired("Enter a new password"), StrongPassword("email")])
    confirm = PasswordField("Confirm new password", widget=GovPasswordInput(),
                            validators=[InputRequired("Confirm your new password"),
                                        EqualTo("password", "Passwords must match")])
    submit = SubmitField("Change password", widget=GovSubmitInput())


class InviteForm(PortalForm):
    email = EmailField("Colleague's email address", widget=GovTextInput(),
                       validators=[InputRequired("Enter your colleague's email address"),
                                   Email("Enter an email address in the correct format, like name@example.org"),
                                   Length(max=254)])
    role = RadioField("Role", widget=Radios(), default="member",
                      choices=_choices({"member": "Member: can see the organisation's profile and "
                                                  "work on its behalf",
                                        "admin": "Admin: can also change the profile, apply for "
                                                 "accreditation, invite colleagues and change "
                                                 "roles"}),
                      validators=[InputRequired("Select a role")])
    submit = SubmitField("Send invitation", widget=GovSubmitInput())


class RoleForm(PortalForm):
    role = RadioField("Role", widget=Radios(), choices=_choices({"member": "Member", "admin": "Admin"}),
                      validators=[InputRequired("Select a role")])
    submit = SubmitField("Save role", widget=GovSubmitInput())


class AcceptInvitationForm(PortalForm):
    email = StringField()
    name = StringField("Full name", widget=GovTextInput(),
                       validators=[InputRequired("Enter your full name"), Length(max=120)])
    password = PasswordField("Create a password", widget=GovPasswordInput(),
                             description="Use 12 characters or more.",
                             validators=[InputRequired("Enter a password"), StrongPassword("email")])
    confirm = PasswordField("Confirm password", widget=GovPasswordInput(),
                            validators=[InputRequired("Confirm your password"),
                                        EqualTo("password", "Passwords must match")])
    submit = SubmitField("Join organisation", widget=GovSubmitInput())


class DeleteAccountForm(PortalForm):
    password = PasswordField("Enter your password to confirm", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password")])
    submit = SubmitField("Delete my account", widget=GovSubmitInput())


class ApiTokenForm(PortalForm):
    name = StringField("Name for the token", widget=GovTextInput(),
                       description="What will use it, for example 'CRM integration'",
                       validators=[InputRequired("Enter a name for the token"),
                                   Length(max=80, message="Name must be 80 characters or fewer")])
    submit = SubmitField("Create token", widget=GovSubmitInput())


def _six_digits(form, field):
    code = "".join((field.data or "").split())
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationError("The code must be 6 digits, like 123456")


def _authenticator_code(label="Code from your authenticator app"):
    return StringField(label, widget=GovTextInput(),
                       description="The 6-digit code the app shows now, for example 123456",
                       validators=[InputRequired("Enter the 6-digit code from your authenticator "
                                                 "app"), Length(max=20), _six_digits])


class AuthenticatorCodeForm(PortalForm):
    code = _authenticator_code()
    submit = SubmitField("Continue", widget=GovSubmitInput())


class RecoveryCodeForm(PortalForm):
    code = StringField("Recovery code", widget=GovTextInput(),
                       description="One of the codes you saved when you set up two-step sign-in, "
                                   "for example abcde-fgh23",
                       validators=[InputRequired("Enter a recovery code"),
                                   Length(max=40, message="Recovery codes are 10 characters")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class QuestionCheckbox(GovCheckboxInput):
    """One checkbox inside a fieldset whose legend (from the template) asks the question, with
    no empty hint for aria-describedby to point at."""

    def map_gov_params(self, field, **kwargs):
        params = GovCheckboxesInput.map_gov_params(self, field, **kwargs)
        if not (params.get("hint") or {}).get("text"):
            params.pop("hint", None)
        return params


class SavedCodesForm(PortalForm):
    saved = BooleanField("I have saved these recovery codes somewhere safe",
                         widget=QuestionCheckbox(),
                         validators=[InputRequired("Confirm you have saved your recovery codes")])
    submit = SubmitField("Continue", widget=GovSubmitInput())


class TurnOffMfaForm(PortalForm):
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=128)])
    code = _authenticator_code()
    submit = SubmitField("Turn off two-step sign-in", widget=GovSubmitInput())
