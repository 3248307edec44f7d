"""Pausing or resuming a sync through the API with a body that cannot be parsed changes nothing."""

from apps.syncs.models import Sync

from .conftest import destination_for, sync_for


def test_a_malformed_body_neither_pauses_nor_resumes_a_sync(
    admin, admin_api, model, tool, webhook_vendor
):
    # given
    sync = sync_for(admin, model, destination_for(admin, tool, webhook_vendor))

    # when
    pausing = admin_api.post(
        f"/api/v1/syncs/{sync.pk}/pause/", data='{"a":', content_type="application/json"
    )

    # then
    assert (pausing.status_code, pausing.json()["code"]) == (400, "parse_error")
    assert Sync.objects.get(pk=sync.pk).is_paused is False

    # given
    assert admin_api.post(f"/api/v1/syncs/{sync.pk}/pause/").status_code == 200

    # when
    resuming = admin_api.post(
        f"/api/v1/syncs/{sync.pk}/resume/", data="[1,", content_type="application/json"
    )

    # then
    assert (resuming.status_code, resuming.json()["code"]) == (400, "parse_error")
    assert Sync.objects.get(pk=sync.pk).is_paused is True
