"""GOV.UK widgets with the fixes our forms need on top of govuk-frontend-wtf."""
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSelect
from markupsafe import Markup, escape


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


def _triple(item):
    return item if isinstance(item, tuple) else (item.value, item.text, item.selected)


def option_markup(items):
    """`<option>` elements for (value, text, selected) triples (or objects with those three
    attributes, as the filters' facet options are), as govukSelect writes them.
    Built in Python: the macro takes about 40 µs an option, and the area, category and buyer
    lists hold hundreds."""
    return Markup("".join(
        f'<option value="{escape(value)}"{" selected" if selected else ""}>{escape(text)}</option>'
        for value, text, selected in map(_triple, items)))


def with_options(select_html, items):
    """A select rendered by govukSelect with no items, given its options (label, hint, error
    and aria-describedby stay the macro's own)."""
    head, tail = str(select_html).rsplit("</select>", 1)
    return Markup("".join((head, str(option_markup(items)), "</select>", tail)))


class FastSelect(GovSelect):
    """GovSelect with the same markup, its options written without the template macro."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", []):
            kwargs["required"] = True
        kwargs["items"] = []
        html = self.render(self.map_gov_params(field, **kwargs))
        return with_options(html, ((value, label, selected)
                                   for value, label, selected, _ in field.iter_choices()))
