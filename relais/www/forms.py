from django import forms
from dsfr.forms import DsfrBaseForm


class DsfrModelForm(DsfrBaseForm, forms.ModelForm):  # type: ignore[misc]
    """A ModelForm rendered with the State design system's field templates."""


# No list is read further than this page; a larger number would also overflow the
# database's integers once turned into an offset.
LAST_PAGE = 10_000
_NO_SUCH_PAGE = "Cette page de la liste n'existe pas : revenez à la première page."


def page_field() -> forms.IntegerField:
    """A list's page number, carried in a hidden field or in the query string."""
    return forms.IntegerField(
        required=False,
        min_value=1,
        max_value=LAST_PAGE,
        widget=forms.HiddenInput,
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value"), _NO_SUCH_PAGE),
    )
