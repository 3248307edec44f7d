"""Every filter form field the console shows has a readable label."""

from importlib import import_module

import django_filters
import pytest
from django.apps import apps


def _filtersets():
    for config in apps.get_app_configs():
        if config.name.startswith("apps."):
            try:
                import_module(f"{config.name}.filters")
            except ModuleNotFoundError:
                continue
    pending = list(django_filters.FilterSet.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("apps."):
            yield cls


@pytest.mark.parametrize("filterset", list(_filtersets()), ids=lambda c: c.__qualname__)
def test_filter_fields_have_readable_labels(filterset):
    labels = {name: str(field.label) for name, field in filterset().form.fields.items()}
    assert not [name for name, label in labels.items() if "invalid name" in label], labels
