"""The official forms as data: loaded, and refused when they name what the catalogue lacks."""
from __future__ import annotations

from importlib import resources

import pytest

from extractors import forms


def test_packaged_forms() -> None:
    f = forms.FORMS()
    assert [(x.name, len(x.rows)) for x in f.requests.forms] == [("form_2020", 23), ("form_2021", 25)]
    assert len(f.review_order) == 15
    assert f.requests.columns_with(True)[-2:] == ("subtotal", "total")


def test_unknown_id_is_refused() -> None:
    text = resources.files("extractors").joinpath("data/forms.toml").read_text(encoding="utf-8")
    with pytest.raises(forms.FormDataError, match="requests.nosuchrow"):
        forms.load(text.replace('"requests.partial",', '"requests.nosuchrow",', 1))
