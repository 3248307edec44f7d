"""An event's page shows the consent it carried by purpose name, not by code."""

import pytest
from django.utils import timezone

from apps.consent.defaults import ensure_default_purposes
from apps.events import services
from apps.events.models import Event

pytestmark = pytest.mark.django_db


def test_the_consent_card_names_each_purpose(admin, admin_client):
    ensure_default_purposes()
    source, _ = services.source_create(actor=admin, name="Web", rate_limit=1000)
    now = timezone.now()
    event = Event.objects.create(
        source=source,
        message_id="m1",
        type="track",
        name="Order Completed",
        anonymous_id="a-1",
        payload={},
        status="processed",
        timestamp=now,
        received_at=now,
        consent={"sale_share": False, "email_marketing": True},
    )
    html = admin_client.get(f"/events/{event.pk}/").content.decode()
    card = html.split("Consent at collection", 1)[1].split("</div>\n  </div>", 1)[0]
    assert "Sale or sharing of personal data" in card
    assert ">sale_share<" not in card
    assert ">email_marketing<" not in card
    assert 'title="email_marketing"' in card
