"""Send test for real: the sample requests go to the vendor through the delivery client,
and its status and body (credentials scrubbed) are shown on the page and in the API."""

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.destinations.models import Capture

from .conftest import hook, person_with
from .vendors import FakeVendor


def _test_url(destination):
    return reverse("destinations:destination_test", args=[destination.pk])


def test_send_test_for_real_reaches_the_vendor_and_shows_its_status_and_body(
    admin_client, admin, tool
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        response = admin_client.post(_test_url(destination), {"send": "1"})
        [received] = vendor.requests

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-status="200"' in html
    assert "{&quot;ok&quot;: true}" in html
    assert received.body["batch"][0]["event"] == "Order Completed"
    assert Capture.objects.filter(destination=destination).count() == 1  # and in the inbox
    event = AuditEvent.objects.get(action="destinations.destination.test_delivered")
    assert event.metadata["answers"] == [{"status": 200, "error": ""}]


def test_the_vendor_answer_shown_never_contains_the_credential(
    admin_client, admin_api, admin, tool
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        secret = vendor.credentials["signing_secret"]
        vendor.fail_next(2, 401, {"error": f"signature mismatch for secret {secret}"})
        page = admin_client.post(_test_url(destination), {"send": "1"}).content.decode()
        api = admin_api.post(
            f"/api/v1/destinations/{destination.pk}/send-test/", {"send": True}, format="json"
        )

    assert 'data-status="401"' in page
    assert "signature mismatch for secret •••" in page
    assert secret not in page
    assert api.status_code == 200
    [answer] = api.json()["answers"]
    assert answer["status"] == 401
    assert "signature mismatch for secret •••" in answer["body"]
    assert secret not in api.content.decode()


def test_the_api_sends_for_real_only_when_asked(admin_api, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        url = f"/api/v1/destinations/{destination.pk}/send-test/"
        preview = admin_api.post(url)
        assert (preview.status_code, vendor.requests) == (201, [])
        sent = admin_api.post(url, {"send": True}, format="json")
        assert len(vendor.requests) == 1

    assert sent.status_code == 200
    body = sent.json()
    assert body["answers"][0]["status"] == 200
    assert body["answers"][0]["body"] == '{"ok": true}'
    assert len(body["captures"]) == 1


def test_a_production_destination_real_send_needs_send_production(client, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, environment="production")
        manager = person_with(admin, "destinations.view", "destinations.manage", name="Max M")
        client.force_login(manager)
        page = client.post(_test_url(destination), {"send": "1"})
        api = client.post(
            f"/api/v1/destinations/{destination.pk}/send-test/",
            {"send": True},
            content_type="application/json",
        )
        preview = client.post(_test_url(destination))  # capturing stays allowed
        assert vendor.requests == []
        holder = person_with(
            admin,
            "destinations.view",
            "destinations.manage",
            "destinations.send_production",
            name="Pat Prod",
        )
        client.force_login(holder)
        allowed = client.post(_test_url(destination), {"send": "1", "confirmed": "1"})
        assert len(vendor.requests) == 1

    assert page.status_code == 403
    assert (api.status_code, api.json()["code"]) == (403, "permission_denied")
    assert preview.status_code == 302
    assert 'data-status="200"' in allowed.content.decode()


def test_an_egress_refusal_is_shown_with_its_reason(settings, admin_client, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)  # saved while loopback was allowed
        settings.MARTECH_EGRESS_ALLOW = []
        response = admin_client.post(_test_url(destination), {"send": "1"})
        assert vendor.requests == []

    html = response.content.decode()
    assert "data-answer-error" in html
    assert "is a loopback address" in html
    assert "MARTECH_EGRESS_ALLOW" in html


def test_sending_for_real_to_production_asks_first_naming_the_consequence_and_sends_nothing(
    admin_client, admin, tool
):
    # given
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, name="Braze", environment="production")

        # when: the plain post (no JavaScript) and the dialog's question
        page = admin_client.post(_test_url(destination), {"send": "1"})
        asked = admin_client.post(
            _test_url(destination), {"send": "1"}, HTTP_X_CONSOLE_CONFIRM="ask"
        ).json()

        # then
        assert vendor.requests == []
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="confirmation"' in text
    assert "Sends 1 test event to Braze (production)." in text
    assert '<input type="hidden" name="send" value="1">' in text
    assert '<input type="hidden" name="confirmed" value="1">' in text
    assert asked["confirm"] is True
    assert asked["title"] == "Send a test to Braze?"
    assert asked["lines"][0] == "Sends 1 test event to Braze (production)."
    assert asked["lines"][1].startswith("1 request to 127.0.0.1;")
    assert asked["button"] == "Send to Braze"
    assert not Capture.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="destinations.destination.test")


def test_sending_for_real_to_production_once_confirmed_reaches_the_vendor(
    admin_client, admin, tool
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, name="Braze", environment="production")
        page = admin_client.post(_test_url(destination), {"send": "1", "confirmed": "1"})
        assert len(vendor.requests) == 1

    assert 'data-status="200"' in page.content.decode()


def test_a_preview_and_a_sandbox_real_send_need_no_question(admin_client, admin, tool):
    with FakeVendor("webhook") as vendor:
        production = hook(admin, tool, vendor, name="Braze", environment="production")
        sandbox = hook(admin, tool, vendor, name="Braze sandbox")
        preview = admin_client.post(_test_url(production), HTTP_X_CONSOLE_CONFIRM="ask")
        real = admin_client.post(_test_url(sandbox), {"send": "1"}, HTTP_X_CONSOLE_CONFIRM="ask")
        assert vendor.requests == []

    assert preview.json() == {"confirm": False}
    assert real.json() == {"confirm": False}


def test_the_detail_page_asks_before_the_send_for_real_button_posts(admin_client, admin, tool):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor, environment="production")
    html = admin_client.get(
        reverse("destinations:destination_detail", args=[destination.pk])
    ).content.decode()

    test_form = html.split(f'action="{_test_url(destination)}"', 1)[1].split("</form>", 1)[0]
    assert test_form.lstrip().startswith('class="d-inline" data-confirm>')
    assert 'name="send" value="1"' in test_form
