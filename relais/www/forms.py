from django import forms
from dsfr.forms import DsfrBaseForm


class DsfrModelForm(DsfrBaseForm, forms.ModelForm):  # type: ignore[misc]
    """A ModelForm rendered with the State design system's field templates."""
