"""The tool registry: facts validated and audited, overlap found, same rules in UI and API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.access import services as access
from apps.audit.models import AuditEvent
from apps.tools.models import Tool
from apps.tools.selectors import redundancy_report
from apps.tools.services import tool_create, tool_update
from martech.common.errors import ApplicationError, PermissionDeniedError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _tool(admin, name, capabilities, **extra):
    fields = {"vendor": name, "category": "x", "capabilities": capabilities, **extra}
    return tool_create(actor=admin, name=name, **fields)


@pytest.fixture
def viewer(admin):
    """A person who may read the registry but not change it."""
    role = access.role_create(actor=admin, name="Readers", owner=admin)
    access.role_capability_set(actor=admin, role=role, capability="tools.view")
    person = UserFactory()
    access.role_assign(actor=admin, user=person, role=role)
    return type(person).objects.get(pk=person.pk)


def test_tool_create_validates_and_audits(admin):
    tool = _tool(admin, "Braze", ["email_lifecycle"], annual_cost=Decimal("96000"), currency="usd")
    assert tool.currency == "USD"
    event = AuditEvent.objects.get(action="tools.tool.created")
    assert event.changes["name"] == {"before": None, "after": "Braze"}
    with pytest.raises(ApplicationError) as unknown:
        _tool(admin, "Mystery", ["teleportation"])
    assert unknown.value.code == "unknown_capability"
    with pytest.raises(ApplicationError) as duplicate:
        _tool(admin, "braze", [])
    assert duplicate.value.code == "tool_exists"


def test_tool_update_records_before_and_after(admin):
    tool = _tool(admin, "Amplitude", ["product_analytics"], seats_bought=40, seats_used=31)
    tool_update(actor=admin, tool=tool, seats_used=35)
    event = AuditEvent.objects.get(action="tools.tool.updated")
    assert event.changes == {"seats_used": {"before": 31, "after": 35}}


def test_changing_the_registry_needs_tools_manage(viewer):
    with pytest.raises(PermissionDeniedError):
        tool_create(actor=viewer, name="X", vendor="X", category="x")


def test_notice_deadline_and_seat_utilisation():
    tool = Tool(
        renewal_date=dt.date(2027, 3, 31), notice_period_days=60, seats_bought=8, seats_used=6
    )
    assert tool.notice_deadline == dt.date(2027, 1, 30)
    assert tool.seat_utilisation == 75.0


def test_redundancy_groups_tools_in_use_by_shared_capability(admin):
    _tool(
        admin,
        "Customer.io",
        ["email_lifecycle", "push_sms"],
        annual_cost=Decimal("38000"),
        seats_bought=12,
        seats_used=11,
    )
    _tool(
        admin,
        "Braze",
        ["email_lifecycle", "push_sms"],
        annual_cost=Decimal("96000"),
        seats_bought=25,
        seats_used=9,
        status="sunsetting",
    )
    _tool(admin, "HubSpot", ["email_lifecycle", "crm"], annual_cost=Decimal("54000"))
    _tool(admin, "Optimizely", ["email_lifecycle"], status="retired")
    _tool(admin, "Salesforce", ["crm"], annual_cost=Decimal("210000"))
    groups = {g.capability: g for g in redundancy_report(user=admin)}
    email = groups["email_lifecycle"]
    assert [t.name for t in email.tools] == ["Braze", "Customer.io", "HubSpot"]
    assert email.annual_cost == {"USD": Decimal("188000")}
    assert (email.seats_bought, email.seats_used) == (37, 20)
    assert email.keep.name == "Customer.io"  # active, best seat use
    assert email.suggestion.startswith("Keep Customer.io as the source of truth")
    assert set(groups) == {"email_lifecycle", "push_sms", "crm"}
    assert groups["crm"].keep.name == "HubSpot"  # active and does more than Salesforce


def test_pages_list_filter_and_show_a_tool(admin_client, admin):
    tool = _tool(admin, "Branch", ["attribution"], team="Growth")
    _tool(admin, "Snowflake", ["warehouse"], team="Data Engineering")
    listing = admin_client.get(reverse("tools:tool_list"), {"capability": "attribution"})
    assert [t.name for t in listing.context["object_list"]] == ["Branch"]
    detail = admin_client.get(reverse("tools:tool_detail", args=[tool.pk]))
    assert b"Attribution / deep linking" in detail.content


def test_register_form_shows_errors_and_creates(admin_client):
    url = reverse("tools:tool_create")
    bad = admin_client.post(url, {"name": "", "currency": "US"})
    assert bad.status_code == 400
    data = {
        "name": "Iterable",
        "vendor": "Iterable",
        "category": "Messaging",
        "capabilities": ["email_lifecycle"],
        "status": "evaluating",
        "annual_cost": "12000",
        "currency": "EUR",
        "notice_period_days": 30,
    }
    created = admin_client.post(url, data)
    assert created.status_code == 302
    assert Tool.objects.get(name="Iterable").currency == "EUR"


def test_api_reads_need_tools_view_and_writes_need_tools_manage(api, user, admin):
    _tool(admin, "Braze", ["email_lifecycle"])
    assert api.get("/api/v1/tools/").status_code == 403
    role = access.role_create(actor=admin, name="Readers", owner=admin)
    access.role_capability_set(actor=admin, role=role, capability="tools.view")
    access.role_assign(actor=admin, user=user, role=role)
    assert api.get("/api/v1/tools/").json()["count"] == 1
    response = api.post(
        "/api/v1/tools/", {"name": "X", "vendor": "X", "category": "x"}, format="json"
    )
    assert response.status_code == 403


def test_api_creates_rejects_bad_input_and_reports_overlap(admin_api):
    created = admin_api.post(
        "/api/v1/tools/",
        {
            "name": "Segment",
            "vendor": "Twilio",
            "category": "CDP",
            "capabilities": ["event_collection"],
            "annual_cost": "120000",
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["notice_deadline"] is None
    bad = admin_api.post(
        "/api/v1/tools/",
        {"name": "Y", "vendor": "Y", "category": "y", "capabilities": ["nope"]},
        format="json",
    )
    assert bad.status_code == 400
    clash = admin_api.post(
        "/api/v1/tools/", {"name": "segment", "vendor": "Y", "category": "y"}, format="json"
    )
    assert clash.status_code == 409
    admin_api.post(
        "/api/v1/tools/",
        {
            "name": "Amplitude",
            "vendor": "Amplitude",
            "category": "Analytics",
            "capabilities": ["event_collection", "product_analytics"],
        },
        format="json",
    )
    report = admin_api.get("/api/v1/tools/redundancy/").json()
    assert [g["capability"] for g in report] == ["event_collection"]
    assert {t["name"] for t in report[0]["tools"]} == {"Segment", "Amplitude"}
    assert admin_api.get("/api/v1/tools/999999/").status_code == 404


# --- CSV inventory ----------------------------------------------------------------------

HEADER = "name,vendor,category,capabilities,status,business_owner_email,annual_cost,renewal_date\n"


def test_export_then_import_round_trips_and_updates_by_name(admin, admin_client):
    _tool(admin, "Branch", ["attribution"], annual_cost=Decimal("30000"), seats_bought=5)
    exported = admin_client.get(reverse("tools:tool_export"))
    assert exported["Content-Type"].startswith("text/csv")
    text = exported.content.decode().replace("30000.00", "31000.00")
    from apps.tools.inventory import tools_import_csv

    report = tools_import_csv(actor=admin, text=text)
    assert (report.ok, report.created, report.updated) == (True, 0, 1)
    assert Tool.objects.get(name="Branch").annual_cost == Decimal("31000")


def test_import_reports_every_bad_row_and_saves_nothing(admin_client, admin):
    text = HEADER + (
        "Braze,Braze,Messaging,email_lifecycle,active,,96000,2027-01-31\n"
        "Mystery,Acme,Other,teleportation,active,,10,2027-01-31\n"
        "Branch,Branch,Attribution,attribution,active,nobody@acme.example,abc,31/01/2027\n"
        ",NoName,Other,,active,,0,\n"
        "braze,Braze,Messaging,,active,,1,\n"
    )
    response = admin_client.post(reverse("tools:tool_import"), {"text": text})
    assert response.status_code == 400
    report = response.context["report"]
    problems = {(e.row, e.field) for e in report.errors}
    assert (3, "capabilities") in problems
    assert (4, "business_owner_email") in problems
    assert (4, "annual_cost") in problems
    assert (4, "renewal_date") in problems
    assert (5, "name") in problems
    assert (6, "name") in problems  # repeats line 2, in another case
    assert not Tool.objects.exists()
    assert b"Nothing was imported" in response.content


def test_import_refuses_a_file_without_the_required_columns(admin_client):
    response = admin_client.post(reverse("tools:tool_import"), {"text": "tool,cost\nX,1\n"})
    assert response.status_code == 400
    assert b"The file has no category, name, vendor column" in response.content


def test_import_by_file_upload_creates_tools(admin_client, admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "inventory.csv",
        (
            HEADER
            + f"Hightouch,Hightouch,Reverse ETL,reverse_etl,active,{admin.email},45000,2027-02-05\n"
        ).encode(),
        content_type="text/csv",
    )
    response = admin_client.post(reverse("tools:tool_import"), {"file": upload})
    assert response.status_code == 200
    tool = Tool.objects.get(name="Hightouch")
    assert tool.business_owner == admin
    assert tool.renewal_date == dt.date(2027, 2, 5)
    assert AuditEvent.objects.filter(action="tools.tool.created", actor=admin).exists()


def test_api_import_answers_with_the_row_report(admin_api):
    ok = admin_api.post(
        "/api/v1/tools/import/",
        {"csv": HEADER + "Segment,Twilio,CDP,event_collection,active,,120000,\n"},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["created"] == 1
    bad = admin_api.post(
        "/api/v1/tools/import/", {"csv": HEADER + "X,Y,Z,,flying,,1,\n"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "import_failed"
    assert bad.json()["details"]["errors"][0]["field"] == "status"


def test_a_malformed_csv_is_a_clear_400_not_a_server_error(admin_api):
    for text in ("na\rme,vendor\nx,y\n", 'name,vendor,category\n"Braze,Braze\n'):
        response = admin_api.post("/api/v1/tools/import/", {"csv": text}, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] in ("invalid_csv", "missing_columns", "import_failed")


def test_a_renewal_date_outside_1900_to_2999_is_a_400_not_a_500(admin_api):
    response = admin_api.post(
        "/api/v1/tools/",
        {
            "name": "Old",
            "vendor": "Old",
            "category": "x",
            "renewal_date": "0001-03-01",
            "notice_period_days": 365,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "renewal_date" in response.json()["message"]
    assert not Tool.objects.filter(name="Old").exists()
