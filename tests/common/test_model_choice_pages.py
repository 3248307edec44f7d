"""A key beyond the database's integer range is a form error on every form, never a 500."""

import importlib
import pkgutil

import pytest
from django import forms
from django.urls import reverse

import apps
from apps.access import services as svc
from apps.access.models import RoleCapability
from martech.common.forms import ModelMultipleChoiceField

HUGE = "9" * 30


@pytest.mark.django_db
def test_review_create_with_a_huge_role_key_is_a_form_error(admin_client):
    # when
    response = admin_client.post(
        reverse("access:review_create"),
        {
            "name": "Quarterly",
            "roles": [HUGE],
            "deadline": "2999-01-01",
            "unreviewed_policy": "keep",
        },
    )

    # then
    assert response.status_code == 400
    assert HUGE in response.content.decode()
    assert "is not one of the available choices" in response.content.decode()


@pytest.mark.django_db
def test_role_capability_with_a_huge_training_key_is_refused_with_a_message(admin, admin_client):
    # given
    role = svc.role_create(actor=admin, name="Analysts", description="", owner=admin)

    # when
    response = admin_client.post(
        reverse("access:role_capability_set", args=[role.pk]),
        {"capability": "audit.view", "min_tenure_days": "0", "trainings": [HUGE, "-" + HUGE]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
    assert not RoleCapability.objects.filter(role=role).exists()


def _form_classes():
    for module_info in pkgutil.walk_packages(apps.__path__, "apps."):
        if module_info.name.rsplit(".", 1)[-1] != "forms":
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, forms.BaseForm):
                yield value


def test_every_form_uses_the_range_checked_multiple_model_choice():
    offenders = [
        f"{form.__module__}.{form.__name__}.{name}"
        for form in _form_classes()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.ModelMultipleChoiceField)
        and not isinstance(field, ModelMultipleChoiceField)
    ]
    assert offenders == []
