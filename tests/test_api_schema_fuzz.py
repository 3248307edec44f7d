"""Schemathesis over the whole OpenAPI schema: no server errors, no undocumented answers."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from apps.accounts.services import api_token_create
from martech.wsgi import application
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db(transaction=True)


# Generating the schema touches no database, so it can be loaded when the module is.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture
def admin_user(db):
    return AdminFactory()


# What every answer must satisfy: never a server error, only documented status codes,
# content types and headers, and bodies that match their documented schemas.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case, admin_user):
    # A fresh token per example: an example may revoke the token it was given.
    _, raw = api_token_create(user=admin_user, name="schemathesis", days=1)
    case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=CHECKS)
