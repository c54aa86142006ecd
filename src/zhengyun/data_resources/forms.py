"""Console forms of the catalog: a record's core metadata and its information items, as
rows of one formset."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.data_resources.catalog import ITEM_FIELDS, RESOURCE_FIELDS
from zhengyun.data_resources.choices import ResourceFormat, ShareMethod, ShareType, UpdateCycle
from zhengyun.data_resources.models import CatalogResource, InformationItem, ResourceDatabase

# Blank rows offered below a record's items, for adding some.
EXTRA_ITEM_ROWS = 3


class ResourceForm(forms.ModelForm):
    share_methods = forms.MultipleChoiceField(
        label=_("share methods"),
        choices=ShareMethod.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    related_codes = forms.CharField(
        label=_("related resource codes"),
        required=False,
        help_text=_("Separated by spaces or commas, such as 101001/000001."),
    )

    class Meta:
        model = CatalogResource
        fields = list(RESOURCE_FIELDS)
        widgets = {
            "abstract": forms.Textarea(attrs={"rows": 3}),
            "share_conditions": forms.Textarea(attrs={"rows": 2}),
            "legal_basis": forms.Textarea(attrs={"rows": 2}),
            "open_conditions": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["related_codes"] = " ".join(self.instance.related_codes)

    def clean_related_codes(self):
        return [code for code in re.split(r"[\s,，]+", self.cleaned_data["related_codes"]) if code]

    def _post_clean(self):
        """The service validates the record with its items; the form only reads fields."""


class ItemForm(forms.ModelForm):
    class Meta:
        model = InformationItem
        fields = list(ITEM_FIELDS)
        widgets = {"legal_basis": forms.TextInput()}

    def _post_clean(self):
        """The service validates the items with their record."""


ItemFormSet = forms.formset_factory(ItemForm, extra=EXTRA_ITEM_ROWS, can_delete=True)


def kept_rows(formset):
    """The rows that stay: the record's items not marked for deletion, and blank rows the
    user filled."""
    return [
        form
        for number, form in enumerate(formset.forms)
        if (number < formset.initial_form_count() or form.has_changed())
        and not form.cleaned_data.get("DELETE")
    ]


def items_of(formset):
    """The kept rows, in order, as the service takes them."""
    return [
        {name: form.cleaned_data.get(name) for name in ITEM_FIELDS} for form in kept_rows(formset)
    ]


def show_errors(form, formset, exc):
    """Put a service's ``ValidationError`` on the fields it names: ``items.N.field`` on the
    field of the Nth kept row, the rest on the record's form."""
    kept = kept_rows(formset)
    for key, messages in exc.message_dict.items():
        match = re.fullmatch(r"items\.(\d+)(?:\.(\w+))?", key)
        if match and int(match.group(1)) <= len(kept):
            row = kept[int(match.group(1)) - 1]
            field = match.group(2)
            row.add_error(field if field in row.fields else None, messages)
        elif key in form.fields:
            form.add_error(key, messages)
        else:
            form.add_error(None, messages)


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("What the provider should mend"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CatalogSearchForm(forms.Form):
    """The catalog page's search box and facet filters, read from the query string."""

    q = forms.CharField(label=_("Name, words or resource code"), max_length=100, required=False)
    provider = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    classification = forms.RegexField(r"^[1-3][0-9]{2}$", required=False)
    share_type = forms.ChoiceField(choices=[("", "")] + ShareType.choices, required=False)
    format = forms.ChoiceField(choices=[("", "")] + ResourceFormat.choices, required=False)
    region = forms.RegexField(r"^[0-9]{6}$", required=False)
    update_cycle = forms.ChoiceField(choices=[("", "")] + UpdateCycle.choices, required=False)
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)

    def filters(self):
        """The facet filters chosen, by facet name."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in ("q", "page") and value not in (None, "")
        }


class ServiceForm(forms.Form):
    description = forms.CharField(
        label=_("OpenAPI description"),
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_(
            "JSON or YAML of your service's OpenAPI 3 description: one GET operation answering "
            "the records, each item a property named after it or titled with its name. "
            "It replaces a loaded file."
        ),
    )
    credential = forms.CharField(
        label=_("credential"),
        required=False,
        max_length=2000,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "The API key or bearer token your service asks for, as its description's security "
            "says. Left empty, the one given before is kept."
        ),
    )


class DatabaseSourceForm(forms.Form):
    protocol = forms.ChoiceField(
        label=_("database protocol"),
        choices=ResourceDatabase.Protocol.choices,
        initial=ResourceDatabase.Protocol.POSTGRESQL,
    )
    host = forms.CharField(label=_("database host"), max_length=253)
    port = forms.IntegerField(
        label=_("port"),
        min_value=1,
        max_value=65535,
        required=False,
        help_text=_("Left empty: 5432 for PostgreSQL, 3306 for MySQL."),
    )
    database = forms.CharField(label=_("database"), max_length=63)
    user = forms.CharField(
        label=_("user"), max_length=63, help_text=_("An account that may only read the table.")
    )
    password = forms.CharField(
        label=_("password"), max_length=200, strip=False, widget=forms.PasswordInput
    )
    table = forms.CharField(
        label=_("table"), max_length=127, help_text=_("A table or view: name or schema.name.")
    )
    columns = forms.CharField(
        label=_("item columns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One item=column a line, for the columns not named after their items, "
            "such as 公民身份号码=sfzh."
        ),
    )

    def clean_columns(self):
        mapped = {}
        for number, line in enumerate(self.cleaned_data["columns"].splitlines(), start=1):
            if not line.strip():
                continue
            item, equals, column = line.partition("=")
            if not equals or not item.strip() or not column.strip():
                raise forms.ValidationError(
                    _("Line %(n)d reads item=column, such as 公民身份号码=sfzh.") % {"n": number}
                )
            mapped[item.strip()] = column.strip()
        return mapped


class DataFileForm(forms.Form):
    file = forms.FileField(
        label=_("data file"),
        max_length=200,
        help_text=_(
            "CSV (UTF-8 or GBK) or Excel (.xlsx); the first row names the items. "
            "It replaces the data the gateway serves."
        ),
    )
