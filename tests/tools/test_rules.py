"""The registry's rules: an ISO 4217 currency, no more seats in use than bought, a renewal and
a notice deadline after the contract starts, a unique name. The form and the API name every
broken rule in one answer, in words a marketer reads; a notice deadline already passed is a
warning, not an error. Seat use and status read in the same colours on every page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.tools.models import Tool
from apps.tools.services import tool_create, tool_update
from martech.common.errors import ApplicationError

pytestmark = pytest.mark.django_db

SEATS_MESSAGE = "Seats in use (50) can't be more than seats bought (5)."


def _form(**overrides) -> dict:
    data = {
        "name": "Iterable",
        "vendor": "Iterable",
        "category": "Messaging",
        "status": "active",
        "annual_cost": "12000",
        "currency": "EUR",
        "notice_period_days": "30",
    }
    return {**data, **overrides}


def _braze(admin, **extra) -> Tool:
    return tool_create(actor=admin, name="Braze", vendor="Braze", category="Messaging", **extra)


# --- the form ---------------------------------------------------------------------------


def test_register_form_names_field_errors_dates_seats_currency_and_clash_in_one_submit(
    admin_client, admin
):
    # given
    _braze(admin)

    # when: one submit breaks a field rule, the currency, the seats, the dates and the name
    response = admin_client.post(
        reverse("tools:tool_create"),
        _form(
            name="braze",
            annual_cost="-1",
            currency="ZZZ",
            seats_bought="5",
            seats_used="50",
            contract_start="2027-03-01",
            renewal_date="2027-01-01",
        ),
    )

    # then: every problem is on its field at once, and nothing was saved
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors == {
        "name": ["A tool named Braze is already registered."],
        "annual_cost": ["Annual cost can't be negative."],
        "currency": [
            "“ZZZ” is not a currency code. Use a three-letter code such as USD, EUR or GBP."
        ],
        "seats_used": [SEATS_MESSAGE],
        "renewal_date": [
            "The contract renews on 2027-01-01, before it starts (2027-03-01). Check both dates."
        ],
    }
    assert SEATS_MESSAGE in response.content.decode().replace("&#x27;", "'")
    assert Tool.objects.count() == 1


def test_register_form_checks_the_dates_even_when_another_field_fails(admin_client):
    # when: the name is missing and the renewal comes before the start
    response = admin_client.post(
        reverse("tools:tool_create"),
        _form(name="", contract_start="2027-03-01", renewal_date="2027-01-01"),
    )

    # then: both are reported in the same answer
    errors = response.context["form"].errors
    assert set(errors) == {"name", "renewal_date"}


def test_a_notice_period_longer_than_the_contract_is_refused_on_its_field(admin_client):
    response = admin_client.post(
        reverse("tools:tool_create"),
        _form(contract_start="2027-01-01", renewal_date="2027-03-01", notice_period_days="90"),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["notice_period_days"] == [
        "With 90 days' notice, the last day to give notice would be 2026-12-01, before the "
        "contract starts (2027-01-01). Shorten the notice period or check the dates."
    ]


def test_edit_form_does_not_clash_with_its_own_name_but_checks_the_seats(admin_client, admin):
    # given
    tool = _braze(admin, seats_bought=5, seats_used=3)

    # when: the name is its own in other letters, and one seat too many is in use
    response = admin_client.post(
        reverse("tools:tool_edit", args=[tool.pk]),
        _form(name="BRAZE", vendor="Braze", currency=" gbp ", seats_bought="5", seats_used="6"),
    )

    # then
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "seats_used": ["Seats in use (6) can't be more than seats bought (5)."]
    }
    tool.refresh_from_db()
    assert (tool.name, tool.currency, tool.seats_used) == ("Braze", "USD", 3)


def test_a_passed_notice_deadline_is_saved_with_a_warning_on_the_tool_page(admin_client):
    # given: the renewal is in ten days, the notice period thirty
    today = timezone.localdate()
    renewal = today + dt.timedelta(days=10)

    # when
    response = admin_client.post(
        reverse("tools:tool_create"),
        _form(renewal_date=renewal.isoformat(), notice_period_days="30"),
        follow=True,
    )

    # then: the tool is registered, and its page says notice can no longer be given
    assert response.status_code == 200
    assert Tool.objects.filter(name="Iterable").exists()
    deadline = renewal - dt.timedelta(days=30)
    assert (
        f"The last day to give notice was {deadline:%Y-%m-%d}: the contract renews on "
        f"{renewal:%Y-%m-%d}" in response.content.decode()
    )
    assert 'data-warning="notice_passed"' in response.content.decode()


# --- the services -------------------------------------------------------------------------


def test_service_refuses_more_seats_in_use_than_bought_and_an_unknown_currency(admin):
    with pytest.raises(ApplicationError) as refused:
        _braze(admin, seats_bought=5, seats_used=50, currency="ZZZ")
    assert refused.value.status == 400
    assert refused.value.details["fields"] == {
        "currency": [
            "“ZZZ” is not a currency code. Use a three-letter code such as USD, EUR or GBP."
        ],
        "seats_used": [SEATS_MESSAGE],
    }
    tool = _braze(admin, seats_bought=5, seats_used=5, currency="chf")
    with pytest.raises(ApplicationError) as update:
        tool_update(actor=admin, tool=tool, seats_used=6)
    assert update.value.code == "seats_over_bought"


# --- the API -----------------------------------------------------------------------------


def test_api_names_every_problem_with_a_code_and_words_per_field(admin_api, admin):
    # given
    _braze(admin)

    # when
    response = admin_api.post(
        "/api/v1/tools/",
        {
            "name": "BRAZE",
            "vendor": "Braze",
            "category": "Messaging",
            "annual_cost": "-1",
            "currency": "ZZZ",
            "seats_bought": 5,
            "seats_used": 50,
            "contract_start": "2027-03-01",
            "renewal_date": "2027-01-01",
        },
        format="json",
    )

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    codes = {p["field"]: p["code"] for p in body["details"]["problems"]}
    assert codes == {
        "name": "tool_exists",
        "annual_cost": "min_value",
        "currency": "currency",
        "seats_used": "seats_over_bought",
        "renewal_date": "renewal_before_start",
    }
    assert body["details"]["fields"]["seats_used"] == [SEATS_MESSAGE]
    assert Tool.objects.count() == 1


def test_api_change_is_checked_against_the_facts_it_leaves(admin_api, admin):
    # given
    tool = _braze(admin, seats_bought=5, seats_used=3)

    # when
    response = admin_api.patch(f"/api/v1/tools/{tool.pk}/", {"seats_used": 50}, format="json")

    # then
    assert response.status_code == 400
    assert response.json()["details"]["problems"] == [
        {"field": "seats_used", "code": "seats_over_bought", "message": SEATS_MESSAGE}
    ]
    tool.refresh_from_db()
    assert tool.seats_used == 3


def test_api_tells_a_passed_notice_deadline_as_a_warning(admin_api):
    renewal = timezone.localdate() + dt.timedelta(days=10)
    response = admin_api.post(
        "/api/v1/tools/",
        {
            "name": "Iterable",
            "vendor": "Iterable",
            "category": "Messaging",
            "currency": "eur",
            "renewal_date": renewal.isoformat(),
            "notice_period_days": 30,
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["currency"] == "EUR"
    assert [w["code"] for w in response.json()["warnings"]] == ["notice_passed"]


# --- colours --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bought", "used", "band"),
    [
        (5, 50, "danger"),
        (5, 6, "danger"),
        (25, 9, "warning"),
        (47, 22, "warning"),
        (25, 20, "success"),
        (5, 5, "success"),
    ],
)
def test_seat_use_bands_make_more_in_use_than_bought_the_worst(bought, used, band):
    assert Tool(seats_bought=bought, seats_used=used).seat_band[0] == band


def test_renewals_and_list_colour_seat_use_the_same_way(admin_client, admin):
    # given: one tool over its seats and one using too few, both renewing within a year
    renewal = timezone.localdate() + dt.timedelta(days=200)
    for name, used in (("Over", 5), ("Under", 9)):
        tool = tool_create(
            actor=admin,
            name=name,
            vendor=name,
            category="x",
            renewal_date=renewal,
            annual_cost=Decimal("1000"),
            seats_bought=25 if name == "Under" else 5,
        )
        # A tool that grew past its seats since it was bought (recorded before the rule).
        Tool.objects.filter(pk=tool.pk).update(seats_used=used if name == "Under" else 50)

    # when
    renewals = admin_client.get(reverse("tools:renewals")).content.decode()
    listing = admin_client.get(reverse("tools:tool_list")).content.decode()

    # then
    for page in (renewals, listing):
        assert 'data-seat-band="danger">(1000%)' in page
        assert 'data-seat-band="warning">(36%)' in page


def test_status_badge_has_the_same_colour_on_the_list_and_the_tool_page(admin_client, admin):
    tool = _braze(admin, status="sunsetting")
    badge = '<span class="badge bg-orange-lt'
    listing = admin_client.get(reverse("tools:tool_list")).content.decode()
    detail = admin_client.get(reverse("tools:tool_detail", args=[tool.pk])).content.decode()
    assert badge in listing
    assert badge in detail
