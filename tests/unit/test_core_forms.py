"""The shared form base: which fields get the text checks, and what each check refuses."""
import pytest
from werkzeug.datastructures import MultiDict
from wtforms import EmailField, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.core.forms import PortalForm
from portal.core.text import has_bidi_controls, has_control_characters


class Sample(PortalForm):
    class Meta:   # a form's own Meta must not lose the base form's checks
        csrf = False

    name = StringField("Name (optional)", validators=[Optional()])
    notes = TextAreaField("Notes")
    email = EmailField("Email address")
    code = HiddenField()
    password = PasswordField("Password")


@pytest.fixture
def submit(app):
    def _submit(**values):
        with app.test_request_context(method="POST"):
            form = Sample(formdata=MultiDict(values))
            form.validate()
            return form.errors
    return _submit


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x9f",
                                  "\t", "\n", "\r"])
def test_one_line_fields_refuse_every_control_character(submit, char):
    errors = submit(name=f"a{char}b", email=f"a{char}@example.org", code=char)
    assert errors["name"] == ["Name must not contain control characters"]
    assert errors["email"] == ["Email address must not contain control characters"]
    assert errors["code"] == ["Code must not contain control characters"]


def test_a_control_character_alone_is_refused_even_where_blank_is_allowed(submit):
    # Python counts "\x1f" as whitespace, so Optional() alone would have let it through.
    assert submit(name="\x1f")["name"] == ["Name must not contain control characters"]


def test_text_areas_keep_line_breaks_and_tabs_but_refuse_other_controls(submit):
    assert "notes" not in submit(notes="Line one\r\n\tLine two\n")
    assert submit(notes="Line one\x00")["notes"] == ["Notes must not contain control characters"]


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066",
                                  "\u2067", "\u2068", "\u2069"])
def test_one_line_fields_refuse_direction_overrides_but_text_areas_keep_them(submit, char):
    errors = submit(name=f"Trust{char}", notes=f"نص{char} mixed")
    assert errors["name"] == ["Name must not contain characters that change the direction "
                              "of text"]
    assert "notes" not in errors


@pytest.mark.parametrize("text", ["Café", "Llanŵ", "🎉👍🏽", "جمعية الخير", "‏שלום‎", "年度报告",
                                  "a\u200db", "Mrs O’Brien – “quoted”"])
def test_ordinary_unicode_is_accepted(submit, text):
    assert submit(name=text, notes=text) == {}


def test_passwords_are_left_alone(submit):
    assert "password" not in submit(password="correct\x00horse\u202e")


def test_the_checks_stand_alone():
    assert has_control_characters("a\nb") and not has_control_characters("a\nb", True)
    assert has_control_characters("a\x00b", True) and not has_control_characters("")
    assert has_bidi_controls("a\u2066b") and not has_bidi_controls("a\u200fb")
