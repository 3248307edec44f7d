"""A service's refusal that no view handled (say, from a page's GET) answers with its own
status and words, as a page or as the API error; never a 500."""

import json

import pytest
from django.test import RequestFactory

from martech.common.errors import ApplicationError, ConflictError
from martech.common.middleware import ApplicationErrorMiddleware
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _refuse(path: str, exception: ApplicationError):
    request = RequestFactory().get(path)
    request.user = UserFactory()
    middleware = ApplicationErrorMiddleware(lambda r: None)
    return middleware.process_exception(request, exception)


def test_a_conflict_raised_on_a_page_shows_its_message_with_a_way_back():
    # when a page's GET raises a 409 no view caught
    page = _refuse("/schemas/1/versions/1/edit/", ConflictError("It is published."))
    # then the page says so with the status, and links to the page above that answers GET
    assert page is not None
    assert page.status_code == 409
    html = page.content.decode()
    assert "It is published." in html
    assert "Not possible now" in html
    assert 'href="/schemas/1/versions/1/"' in html


def test_a_refusal_on_a_plain_api_view_is_the_api_error_shape():
    answer = _refuse("/api/v1/anything/", ApplicationError("Bad value.", code="bad_value"))
    assert answer.status_code == 400
    body = json.loads(answer.content)
    assert (body["code"], body["message"]) == ("bad_value", "Bad value.")
