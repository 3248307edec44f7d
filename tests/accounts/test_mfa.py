"""Two-step sign-in's services: an authenticator app (TOTP) confirmed by its code, recovery
codes kept as digests and spent once, removal confirmed by a code and refused to those who must
have it (superusers and access administrators, with MARTECH_MFA_REQUIRED)."""

import io
import time

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import selectors, services
from apps.accounts.errors import AccountsErrorCode
from apps.audit.models import AuditEvent
from martech.common.errors import ApplicationError
from tests.factories import AdminFactory, UserFactory, person_with

pytestmark = pytest.mark.django_db


def code_for(key: str, steps_ahead: int = 0) -> str:
    """The authenticator app's code for ``key``, ``steps_ahead`` 30-second steps from now."""
    totp = TOTP(bytes.fromhex(key))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def enrol(person) -> tuple[str, list[str]]:
    """Set up an authenticator app for ``person``; return its key and the recovery codes."""
    key = services.mfa_totp_key_new()
    _, codes = services.mfa_totp_enrol(user=person, key=key, code=code_for(key))
    return key, codes


# --- Services ---------------------------------------------------------------------------------


def test_enrolling_confirms_the_app_and_keeps_only_digests_of_the_recovery_codes():
    # given
    person = UserFactory()
    # when
    key, codes = enrol(person)
    # then
    device = TOTPDevice.objects.get(user=person)
    assert device.confirmed
    assert device.key == key
    assert len(codes) == services.RECOVERY_CODE_COUNT == len(set(codes))
    stored = set(StaticToken.objects.filter(device__user=person).values_list("token", flat=True))
    assert stored == {services.recovery_code_digest(code) for code in codes}
    assert not stored & {code.replace("-", "") for code in codes}
    event = AuditEvent.objects.get(action="accounts.mfa.enrolled")
    assert event.actor == person
    recorded = str(event.changes) + str(event.metadata)
    assert key not in recorded
    assert not any(code in recorded for code in codes)


def test_enrolling_refuses_a_code_the_app_did_not_make():
    person = UserFactory()
    key = services.mfa_totp_key_new()
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"
    with pytest.raises(ApplicationError) as refused:
        services.mfa_totp_enrol(user=person, key=key, code=wrong)
    assert refused.value.code == AccountsErrorCode.INVALID_MFA_CODE
    assert not selectors.mfa_enrolled(user=person)


def test_the_code_that_confirmed_the_app_does_not_sign_in_again():
    person = UserFactory()
    key = services.mfa_totp_key_new()
    confirming = code_for(key)
    services.mfa_totp_enrol(user=person, key=key, code=confirming)
    assert services.mfa_verify(user=person, code=confirming) is None
    assert services.mfa_verify(user=person, code=code_for(key, 1)) is not None


def test_a_recovery_code_is_accepted_once_and_its_use_audited():
    # given
    person = UserFactory()
    _, codes = enrol(person)
    # when
    first = services.mfa_verify(user=person, code=codes[0].upper().replace("-", " "))
    second = services.mfa_verify(user=person, code=codes[0])
    # then
    assert first is not None
    assert second is None
    assert selectors.mfa_recovery_codes_left(user=person) == services.RECOVERY_CODE_COUNT - 1
    used = AuditEvent.objects.get(action="accounts.mfa.recovery_code_used")
    assert used.metadata == {"recovery_codes_left": services.RECOVERY_CODE_COUNT - 1}


def test_new_recovery_codes_replace_the_old_ones():
    person = UserFactory()
    key, old = enrol(person)
    new = services.mfa_recovery_codes_regenerate(user=person, code=code_for(key, 1))
    assert services.mfa_verify(user=person, code=old[1]) is None
    assert services.mfa_verify(user=person, code=new[1]) is not None
    assert AuditEvent.objects.filter(action="accounts.mfa.recovery_codes_regenerated").count() == 1


def test_removing_needs_a_right_code_and_is_audited():
    # given
    person = UserFactory()
    key, _ = enrol(person)
    # when: a wrong code, then a right one
    with pytest.raises(ApplicationError) as refused:
        services.mfa_remove(user=person, code="000000")
    assert selectors.mfa_enrolled(user=person)
    services.mfa_remove(user=person, code=code_for(key, 1))
    # then
    assert refused.value.code == AccountsErrorCode.INVALID_MFA_CODE
    assert not selectors.mfa_enrolled(user=person)
    assert selectors.mfa_recovery_codes_left(user=person) == 0
    removed = AuditEvent.objects.get(action="accounts.mfa.removed")
    assert removed.changes == {"devices": {"before": [services.AUTHENTICATOR_APP], "after": None}}
    assert removed.metadata == {"confirmed_with": "authenticator_app"}


def test_someone_who_must_have_a_second_factor_cannot_remove_it(settings):
    settings.MARTECH_MFA_REQUIRED = True
    admin = AdminFactory()
    key, _ = enrol(admin)
    with pytest.raises(ApplicationError) as refused:
        services.mfa_remove(user=admin, code=code_for(key, 1))
    assert refused.value.code == AccountsErrorCode.MFA_REQUIRED
    assert refused.value.status == 403
    assert selectors.mfa_enrolled(user=admin)


def test_superusers_and_access_administrators_must_have_it_only_when_required(settings):
    admin = AdminFactory()
    dana = person_with(admin, "accounts.manage_access", name="Dana Whitfield")
    viewer = person_with(admin, "accounts.view_access", name="Vic Viewer")
    settings.MARTECH_MFA_REQUIRED = False
    assert not any(selectors.mfa_required_for(user=p) for p in (admin, dana, viewer))
    settings.MARTECH_MFA_REQUIRED = True
    assert [selectors.mfa_required_for(user=p) for p in (admin, dana, viewer)] == [
        True,
        True,
        False,
    ]


def test_an_operator_resets_the_second_factor_of_someone_who_lost_it_all(settings):
    # given: an administrator who lost the app and every recovery code
    settings.MARTECH_MFA_REQUIRED = True
    admin = AdminFactory()
    enrol(admin)
    out = io.StringIO()
    # when
    call_command("reset_mfa", admin.email.upper(), stdout=out)
    # then: nothing is left; the reset is audited as the command's
    assert not selectors.mfa_enrolled(user=admin)
    assert selectors.mfa_recovery_codes_left(user=admin) == 0
    assert selectors.mfa_required_for(user=admin)
    assert "Authenticator app" in out.getvalue()
    reset = AuditEvent.objects.get(action="accounts.mfa.reset")
    assert reset.actor is None
    assert reset.actor_label == "command:reset_mfa"
    assert reset.changes == {"devices": {"before": [services.AUTHENTICATOR_APP], "after": None}}


def test_resetting_an_unknown_person_is_refused():
    with pytest.raises(CommandError, match="No person"):
        call_command("reset_mfa", "nobody@example.com")
