"""GOV.UK widgets with the fixes our forms need on top of govuk-frontend-wtf."""
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput


def _drop_empty_hint(params):
    # An empty hint still gets an id that aria-describedby points at; leave it out instead.
    hint = params.get("hint")
    if not hint or not hint.get("text") and not hint.get("html"):
        params.pop("hint", None)
    return params


def _legend_from_label(params, field):
    # govuk-frontend-wtf puts the label in the legend only when the template passes no
    # fieldset at all; a template that styles the legend left it empty, and a screen reader
    # then never heard the question.
    legend = params.setdefault("fieldset", {}).setdefault("legend", {})
    if not legend.get("text") and not legend.get("html"):
        legend["text"] = field.label.text
    return params


class Radios(GovRadioInput):
    def map_gov_params(self, field, **kwargs):
        params = _drop_empty_hint(super().map_gov_params(field, **kwargs))
        return _legend_from_label(params, field)


class Checkboxes(GovCheckboxesInput):
    def map_gov_params(self, field, **kwargs):
        params = _drop_empty_hint(super().map_gov_params(field, **kwargs))
        return _legend_from_label(params, field)
