"""The confirmation step every consequential action shares: the page re-posts exactly what
was sent, keeps its way back on this site, and the JSON answer never acts."""

import pytest
from django.urls import reverse

from apps.identity import services
from apps.identity.models import Merge

pytestmark = pytest.mark.django_db


@pytest.fixture
def merge():
    services.link_record(a=("anonymous_id", "a-1"), b=("email", "a@example.com"), rule="identify")
    return Merge.objects.get()


def test_the_confirmation_page_posts_the_same_fields_again_with_confirmed(admin_client, merge):
    url = reverse("identity:merge_undo", args=[merge.pk])

    page = admin_client.post(
        url, {"note": "wrong person", "ids": ["1", "2"]}, HTTP_REFERER="http://testserver/profiles/"
    )

    text = page.content.decode()
    assert f'action="{url}"' in text
    assert '<input type="hidden" name="note" value="wrong person">' in text
    assert '<input type="hidden" name="ids" value="1">' in text
    assert '<input type="hidden" name="ids" value="2">' in text
    assert '<input type="hidden" name="confirmed" value="1">' in text
    assert 'name="csrfmiddlewaretoken"' in text
    assert '<a href="http://testserver/profiles/" class="btn btn-link">Cancel</a>' in text


def test_the_way_back_never_leaves_the_site(admin_client, merge):
    url = reverse("identity:merge_undo", args=[merge.pk])

    page = admin_client.post(
        url, {"back": "https://evil.example/"}, HTTP_REFERER="https://evil.example/x"
    )

    assert "evil.example" not in page.content.decode()
    assert '<a href="/" class="btn btn-link">Cancel</a>' in page.content.decode()


def test_asking_answers_json_and_does_not_act_even_with_confirmed(admin_client, merge):
    url = reverse("identity:merge_undo", args=[merge.pk])

    answer = admin_client.post(url, {"confirmed": "1"}, HTTP_X_CONSOLE_CONFIRM="ask")

    assert answer["Content-Type"] == "application/json"
    assert answer.json()["confirm"] is True
    assert Merge.objects.get().undone_at is None


def test_asking_an_action_that_needs_no_confirmation_answers_false_and_does_not_act(
    admin_client,
):
    services.identifier_observe(("anonymous_id", "a-1"))
    services.identifier_observe(("anonymous_id", "a-2"))
    link = services.link_record(
        a=("anonymous_id", "a-1"),
        b=("anonymous_id", "a-2"),
        rule="ip_user_agent",
        kind="probabilistic",
        confidence=0.8,
    )
    url = reverse("identity:link_reject", args=[link.pk])

    answer = admin_client.post(url, HTTP_X_CONSOLE_CONFIRM="ask")

    assert answer.json() == {"confirm": False}
    link.refresh_from_db()
    assert link.status == "pending"


def test_asking_about_something_hidden_answers_the_api_error(user_client, merge):
    answer = user_client.post(
        reverse("identity:merge_undo", args=[merge.pk]), HTTP_X_CONSOLE_CONFIRM="ask"
    )

    assert answer.status_code == 404  # a person without identity.view cannot see the merge
    assert answer.json()["code"] == "not_found"
