"""The source list is a shared list page: searched, filtered and sorted from its headers."""

from django.urls import reverse

from apps.events import services


def _names(response) -> list[str]:
    return [s.name for s in response.context["object_list"]]


def test_the_source_list_searches_filters_and_sorts_by_its_headers(admin, client):
    # given
    client.force_login(admin)
    services.source_create(actor=admin, name="Alpha web", kind="website")
    services.source_create(actor=admin, name="Beta app", kind="ios", environment="sandbox")
    services.source_create(actor=admin, name="Gamma backend", kind="server")
    url = reverse("events:source_list")

    # when
    searched = client.get(url, {"q": "backend"})
    by_kind = client.get(url, {"kind": "ios"})
    sandbox = client.get(url, {"environment": "sandbox"})
    by_name_down = client.get(url, {"sort": "-name"})

    # then
    assert _names(searched) == ["Gamma backend"]
    assert _names(by_kind) == ["Beta app"]
    assert _names(sandbox) == ["Beta app"]
    assert _names(by_name_down) == ["Gamma backend", "Beta app", "Alpha web"]
    html = by_name_down.content.decode()
    assert 'id="list-filter"' in html
    assert 'aria-sort="descending"' in html


def test_a_tracking_plan_is_a_link_only_for_those_who_may_open_it(admin, client):
    from apps.schemas import services as schemas
    from tests.factories import person_with

    plan = schemas.plan_create(actor=admin, name="Web plan", versions=[])
    source, _ = services.source_create(actor=admin, name="Shop web", kind="website")
    services.source_update(actor=admin, source=source, plan=plan)
    plan_url = reverse("schemas:plan_detail", args=[plan.pk])
    viewer = person_with(admin, "events.view", name="Chloe Growth")
    reader = person_with(admin, "events.view", "schemas.view", name="Marcus Data")
    pages = [reverse("events:source_list"), reverse("events:source_detail", args=[source.pk])]

    for person, linked in ((viewer, False), (reader, True)):
        client.force_login(person)
        for page in pages:
            html = client.get(page).content.decode()
            assert "Web plan" in html
            assert (f'href="{plan_url}"' in html) is linked, (person, page)
