"""Sign-in lockout locks the account-and-address pair, with growing delays; an address on its
own needs a much higher count; nobody can lock someone else out from elsewhere."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.accounts.models import ApiToken
from tests.factories import PASSWORD, AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.66"
HOME = "198.51.100.20"
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _login(address: str, email: str, password: str):
    return Client(REMOTE_ADDR=address).post(
        reverse("accounts:login"), {"username": email, "password": password}
    )


def _token(address: str, email: str, password: str):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"email": email, "password": password, "name": "CI"}, format="json"
    )


def test_failures_from_one_address_do_not_lock_other_accounts_from_that_address(settings):
    # given: five failures (the account limit) from one address, each on a different account
    settings.AXES_FAILURE_LIMIT = 5
    for person in UserFactory.create_batch(5):
        assert _login(ATTACKER, person.email, "guess").status_code == 200

    # when: someone else signs in correctly from the same address
    colleague = UserFactory()
    response = _login(ATTACKER, colleague.email, PASSWORD)

    # then
    assert response.status_code == 302


def test_guessing_the_superusers_password_does_not_lock_the_superuser_out_elsewhere(settings):
    # given: someone guesses ops.admin's password ten times from one address
    settings.AXES_FAILURE_LIMIT = 5
    admin = AdminFactory()
    for _ in range(10):
        _login(ATTACKER, admin.email, "guess")
    assert _login(ATTACKER, admin.email, PASSWORD).status_code == 429

    # when: the superuser signs in from their own address, on the page and for a token
    page = _login(HOME, admin.email, PASSWORD)
    token = _token(HOME, admin.email, PASSWORD)

    # then
    assert page.status_code == 302
    assert token.status_code == 201, token.json()


def test_the_token_endpoint_locks_only_the_guessing_pair(settings):
    # given
    settings.AXES_FAILURE_LIMIT = 3
    victim = UserFactory()
    answers = [_token(ATTACKER, victim.email, "guess").status_code for _ in range(3)]
    assert answers == [401, 401, 429]  # the failure that reaches the limit locks

    # when
    from_attacker = _token(ATTACKER, victim.email, PASSWORD)
    other_account_from_attacker = _token(ATTACKER, UserFactory().email, PASSWORD)
    from_home = _token(HOME, victim.email, PASSWORD)

    # then
    assert other_account_from_attacker.status_code == 201
    assert from_home.status_code == 201
    assert from_attacker.status_code == 429
    assert from_attacker.json()["code"] == "locked_out"
    assert int(from_attacker["Retry-After"]) > 0
    assert ApiToken.objects.filter(user=victim).count() == 1


def test_an_address_alone_locks_only_at_its_own_much_higher_limit(settings):
    # given: an account limit of 3 and an address limit of 8
    settings.AXES_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 8
    people = UserFactory.create_batch(8)
    for person in people[:7]:
        _login(ATTACKER, person.email, "guess")

    # then: seven failures across accounts leave the address open
    assert _login(ATTACKER, UserFactory().email, PASSWORD).status_code == 302

    # when: the eighth failure reaches the address limit
    _login(ATTACKER, people[7].email, "guess")

    # then: the address is locked for every account, the same accounts elsewhere are not
    fresh = UserFactory()
    assert _login(ATTACKER, fresh.email, PASSWORD).status_code == 429
    assert _token(ATTACKER, fresh.email, PASSWORD).status_code == 429
    assert _login(HOME, people[0].email, PASSWORD).status_code == 302


def test_each_failure_after_a_lock_doubles_the_next_lock(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_COOLOFF_HOURS = 0.25
    person = UserFactory()
    with time_machine.travel(START, tick=False) as clock:
        # given: five failures lock the pair for 15 minutes
        for _ in range(5):
            _login(ATTACKER, person.email, "guess")
        locked = _login(ATTACKER, person.email, PASSWORD)
        assert locked.status_code == 429
        assert int(locked["Retry-After"]) == 15 * 60

        # when: the lock ends and the next guess fails too
        clock.shift(dt.timedelta(minutes=16))
        assert _login(ATTACKER, person.email, "guess").status_code == 429

        # then: that failure locks the pair for 30 minutes
        clock.shift(dt.timedelta(minutes=16))
        still = _login(ATTACKER, person.email, PASSWORD)
        assert still.status_code == 429
        assert 0 < int(still["Retry-After"]) <= 14 * 60
        clock.shift(dt.timedelta(minutes=15))
        assert _login(ATTACKER, person.email, PASSWORD).status_code == 302


def test_the_lock_never_exceeds_its_ceiling_and_failures_are_forgotten(settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.LOGIN_COOLOFF_HOURS = 1
    settings.LOGIN_COOLOFF_MAX_HOURS = 3
    settings.LOGIN_FAILURE_MEMORY_HOURS = 24
    person = UserFactory()
    with time_machine.travel(START, tick=False) as clock:
        # given: each lock waited out, then failed again: 1 h, 2 h, then the 3 h ceiling
        for _ in range(2):
            _login(ATTACKER, person.email, "guess")
        for waited in (61, 121, 181):
            clock.shift(dt.timedelta(minutes=waited))
            _login(ATTACKER, person.email, "guess")
        locked = _login(ATTACKER, person.email, PASSWORD)
        assert locked.status_code == 429
        assert int(locked["Retry-After"]) == 3 * 3600

        # when: a day passes without failures
        clock.shift(dt.timedelta(hours=25))

        # then: the pair starts afresh (one failure is far from a lock)
        assert _login(ATTACKER, person.email, "guess").status_code == 200
        assert _login(ATTACKER, person.email, PASSWORD).status_code == 302


def test_a_token_obtained_with_the_right_password_clears_that_pairs_failures(settings):
    # given: one failure short of the limit, then the right password for a token
    settings.AXES_FAILURE_LIMIT = 3
    person = UserFactory()
    for _ in range(2):
        _token(HOME, person.email, "typo")
    assert _token(HOME, person.email, PASSWORD).status_code == 201

    # when: two more typos
    answers = [_token(HOME, person.email, "typo").status_code for _ in range(2)]

    # then: counted afresh, not locked
    assert answers == [401, 401]
    assert _token(HOME, person.email, PASSWORD).status_code == 201
