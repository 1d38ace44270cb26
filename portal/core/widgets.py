"""GOV.UK widgets with the fixes our forms need on top of govuk-frontend-wtf."""
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput


def _drop_empty_hint(params):
    # An empty hint still gets an id that aria-describedby points at; leave it out instead.
    hint = params.get("hint")
    if not hint or not hint.get("text") and not hint.get("html"):
        params.pop("hint", None)
    return params


class Radios(GovRadioInput):
    def map_gov_params(self, field, **kwargs):
        return _drop_empty_hint(super().map_gov_params(field, **kwargs))


class Checkboxes(GovCheckboxesInput):
    def map_gov_params(self, field, **kwargs):
        return _drop_empty_hint(super().map_gov_params(field, **kwargs))
