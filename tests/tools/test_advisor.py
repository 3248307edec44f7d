"""The architecture advisor follows the decision matrices and compares with today's stack."""

import pytest
from django.urls import reverse

from apps.tools.advisor import (
    CDP,
    EVENT_BUS,
    HYBRID,
    POINT_TO_POINT,
    WAREHOUSE,
    Situation,
    advise,
    recommend,
)
from apps.tools.services import tool_create

BASE = {
    "monthly_active_users": 80_000,
    "events_per_month": 5_000_000,
    "destinations": 4,
    "engineers": 1,
    "real_time": False,
    "regulated_multi_region": False,
}


def situation(**kw):
    return Situation(**{**BASE, **kw})


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"regulated_multi_region": True, "engineers": 5}, HYBRID),
        ({"events_per_month": 80_000_000, "real_time": True, "engineers": 4}, EVENT_BUS),
        ({"monthly_active_users": 30_000, "destinations": 1}, WAREHOUSE),
        ({"monthly_active_users": 30_000, "destinations": 1, "engineers": 0}, POINT_TO_POINT),
        ({"monthly_active_users": 90_000, "destinations": 4, "engineers": 1}, CDP),
        ({"monthly_active_users": 400_000, "destinations": 8, "engineers": 2}, WAREHOUSE),
        ({"real_time": True, "engineers": 0}, CDP),
        ({"events_per_month": 80_000_000, "real_time": True, "engineers": 1}, CDP),
    ],
)
def test_recommendation_follows_the_decision_matrix(kw, expected):
    pattern, reasons = recommend(situation(**kw))
    assert pattern == expected
    assert reasons


@pytest.mark.django_db
def test_advice_compares_with_what_the_registry_shows(admin):
    assert advise(situation()).current_pattern == POINT_TO_POINT
    tool_create(
        actor=admin, name="Snowflake", vendor="Snowflake", category="DW", capabilities=["warehouse"]
    )
    tool_create(
        actor=admin,
        name="Hightouch",
        vendor="Hightouch",
        category="rETL",
        capabilities=["reverse_etl"],
    )
    advice = advise(situation(monthly_active_users=400_000, destinations=8, engineers=2))
    assert advice.current_pattern == WAREHOUSE
    assert advice.current_tools == ["Hightouch", "Snowflake"]
    assert advice.matches_today


@pytest.mark.django_db
def test_advisor_page_and_api(admin_client, admin_api):
    page = admin_client.get(
        reverse("tools:advisor"),
        {
            "monthly_active_users": 30000,
            "events_per_month": 100000,
            "destinations": 1,
            "engineers": 1,
        },
    )
    assert b"Recommended: Warehouse + reverse ETL" in page.content
    bad = admin_client.get(reverse("tools:advisor"), {"monthly_active_users": "-5"})
    assert bad.status_code == 200
    assert bad.context["advice"] is None
    response = admin_api.post(
        "/api/v1/tools/advisor/",
        {
            "monthly_active_users": 90000,
            "events_per_month": 2000000,
            "destinations": 4,
            "engineers": 1,
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["pattern"] == CDP
    assert admin_api.post("/api/v1/tools/advisor/", {}, format="json").status_code == 400
