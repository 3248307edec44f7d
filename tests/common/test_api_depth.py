"""Any API endpoint answers a body nested too deep with a 400 and a code, never a 500."""

import pytest
from rest_framework.test import APIClient

from apps.accounts.services import api_token_create
from martech.common.parsers import MAX_DEPTH, depth_exceeds

pytestmark = pytest.mark.django_db


def _api(person):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=person, name='t')[1]}")
    return client


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 5_000])
def test_a_body_nested_too_deep_is_a_400_parse_error(admin, levels):
    body = '{"name": "x", "notes": ' + "[" * levels + "]" * levels + "}"
    answer = _api(admin).post("/api/v1/tools/", body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "parse_error"
    assert "nests too deep" in answer.json()["message"]


def test_the_depth_check_counts_levels_without_recursion():
    deep: list = []
    for _ in range(50_000):
        deep = [deep]
    assert depth_exceeds(deep, MAX_DEPTH)
    assert not depth_exceeds({"a": [{"b": [1, 2]}]}, 4)
    assert depth_exceeds({"a": [{"b": [1, 2]}]}, 3)


def test_a_body_over_the_size_limit_is_a_400_and_a_warning_without_a_traceback(
    admin, settings, caplog
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"name": "' + "x" * 4096 + '"}'
    answer = _api(admin).post("/api/v1/tools/", body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "payload_too_large"
    logged = [r for r in caplog.records if r.name == "django.security.RequestDataTooBig"]
    assert logged
    assert all(r.exc_info is None for r in logged)
    assert all(r.levelname == "WARNING" for r in logged)


@pytest.mark.parametrize("body", ["[null, null]", "[]", '"tool"', "42"])
def test_a_tool_body_that_is_not_an_object_is_a_400(admin, body):
    answer = _api(admin).post("/api/v1/tools/", body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["code"]
