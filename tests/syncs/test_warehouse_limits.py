"""A warehouse's free text is bounded: a megabyte of description is a 400, not a stored page
(and an audit record) of that size."""

import pytest

from apps.syncs import services
from apps.syncs.models import Warehouse
from martech.common.errors import ApplicationError


@pytest.mark.django_db
def test_a_description_longer_than_two_thousand_characters_is_refused_by_service_and_api(
    admin, admin_api
):
    with pytest.raises(ApplicationError) as refused:
        services.warehouse_create(
            actor=admin, name="Console", kind="console", description="x" * 2001
        )
    assert refused.value.code == "invalid_description"

    answer = admin_api.post(
        "/api/v1/warehouses/",
        {"name": "Console", "kind": "console", "description": "x" * 1_000_000},
        format="json",
    )

    assert answer.status_code == 400
    assert not Warehouse.objects.exists()
