"""The append-only audit log never keeps the words of an erasure's free-text notes: they may
name the person, and the audit log outlives the erasure."""

import json

from apps.audit.models import AuditEvent
from apps.erasure import services


def test_verification_and_extension_notes_are_audited_without_their_words(admin, ana):
    request = services.request_create(
        actor=admin, identifier="email:ana@acme.example", channel="email", jurisdiction="gdpr"
    )
    services.request_verify(
        actor=admin, request=request, note="Ana Lima replied from ana@acme.example (cus_1)"
    )
    services.request_extend(
        actor=admin, request=request, reason="ana@acme.example has data in the archive"
    )
    written = json.dumps(list(AuditEvent.objects.values("metadata", "changes")), default=str)
    assert "ana@acme.example" not in written
    assert "Ana Lima" not in written
    verified = AuditEvent.objects.get(action="erasure.request.verified")
    assert verified.metadata["note"] == "written (46 characters, kept on the request)"
