"""A tool owner who holds a manual erasure task but may not see erasure requests opens that
task's own page, sees what they need to erase the person, and confirms it there; nobody
else's task, and nothing else of the request, is shown to them."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Notification
from apps.erasure import alerts, services
from apps.erasure.models import RequestStatus, TaskStatus
from apps.tools.services import tool_create
from tests.factories import UserFactory

from .conftest import verified


def _approved_with_two_manual_tools(admin):
    marcus = UserFactory(full_name="Marcus Lee")
    other = UserFactory(full_name="Olga Other")
    tool_create(
        actor=admin,
        name="Zendesk",
        vendor="Zendesk",
        category="Support",
        data_categories=["contact"],
        technical_owner=marcus,
    )
    tool_create(
        actor=admin,
        name="Typeform",
        vendor="Typeform",
        category="Surveys",
        data_categories=["contact"],
        technical_owner=other,
    )
    request = verified(admin, notes="Asked by phone; mentions her divorce")
    request = services.request_approve(actor=admin, request=request)
    tasks = {t.name: t for t in request.tasks.all()}
    return marcus, request, tasks


def test_the_owner_without_erasure_view_sees_and_confirms_their_own_manual_task(admin, client, ana):
    # given: Marcus owns Zendesk and holds no erasure capability
    marcus, request, tasks = _approved_with_two_manual_tools(admin)
    mine = tasks["Zendesk"]
    client.force_login(marcus)

    # when
    page = client.get(reverse("erasure:task_detail", args=[mine.pk]))

    # then: his task, what to erase by (masked) and the confirm form; not the rest
    assert page.status_code == 200
    html = page.content.decode()
    assert "Erase a person from Zendesk" in html
    assert "email:a***@acme.example" in html
    assert request.reference in html
    assert reverse("erasure:task_confirm", args=[mine.pk]) in html
    assert "Typeform" not in html
    assert "divorce" not in html
    assert "possible match" not in html.lower()
    assert reverse("erasure:request_detail", args=[request.pk]) not in html

    # when: he confirms it
    done = client.post(
        reverse("erasure:task_confirm", args=[mine.pk]), {"note": "Deleted the end-user"}
    )

    # then: back on his task's page, which says so
    assert done.status_code == 302
    assert done.url == reverse("erasure:task_detail", args=[mine.pk])
    mine.refresh_from_db()
    assert (mine.status, mine.confirmed_by, mine.confirmation) == (
        TaskStatus.DONE,
        marcus,
        "Deleted the end-user",
    )
    assert "Deleted the end-user" in client.get(done.url).content.decode()


def test_the_owner_still_gets_404_for_the_request_and_for_other_owners_tasks(admin, client, ana):
    # given
    marcus, request, tasks = _approved_with_two_manual_tools(admin)
    theirs = tasks["Typeform"]
    client.force_login(marcus)

    # when
    answers = [
        client.get(reverse("erasure:request_detail", args=[request.pk])).status_code,
        client.get(reverse("erasure:evidence", args=[request.pk])).status_code,
        client.get(reverse("erasure:task_detail", args=[theirs.pk])).status_code,
        client.post(reverse("erasure:task_confirm", args=[theirs.pk]), {"note": "x"}).status_code,
    ]

    # then
    assert answers == [404, 404, 404, 404]
    theirs.refresh_from_db()
    assert theirs.status == TaskStatus.MANUAL


def test_someone_who_neither_owns_the_task_nor_sees_erasure_gets_404(admin, client, ana):
    _marcus, _request, tasks = _approved_with_two_manual_tools(admin)
    client.force_login(UserFactory(full_name="Nosy Parker"))

    assert client.get(reverse("erasure:task_detail", args=[tasks["Zendesk"].pk])).status_code == 404


def test_the_owners_notices_link_to_their_task_page_they_can_open(admin, client, ana):
    # given
    marcus, request, tasks = _approved_with_two_manual_tools(admin)
    mine_url = reverse("erasure:task_detail", args=[tasks["Zendesk"].pk])

    # when: assigned, then reminded as the deadline nears
    alerts.reminders(today=request.due - dt.timedelta(days=2))

    # then: every notice of his links to his task's page, which opens for him
    urls = set(Notification.objects.filter(user=marcus).values_list("url", flat=True))
    assert urls == {mine_url}
    assert Notification.objects.filter(user=marcus).count() == 3  # assigned, 20 days, near
    client.force_login(marcus)
    assert client.get(mine_url).status_code == 200
    overview = client.get(reverse("dashboard")).content.decode()
    assert f'href="{mine_url}"' in overview


def test_the_request_completes_when_the_owners_confirm_on_their_task_pages(admin, client, ana):
    marcus, request, tasks = _approved_with_two_manual_tools(admin)
    for maybe in request.identifiers.filter(decision="pending"):
        services.identifier_decide(actor=admin, identifier=maybe, include=False)
    services.task_confirm(actor=tasks["Typeform"].assignee, task=tasks["Typeform"], note="Gone")
    client.force_login(marcus)

    client.post(reverse("erasure:task_confirm", args=[tasks["Zendesk"].pk]), {"note": "Gone"})

    request.refresh_from_db()
    assert request.status == RequestStatus.COMPLETED
    assert request.completed_at <= timezone.now()
