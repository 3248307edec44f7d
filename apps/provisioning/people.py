"""A SCIM User, as the person it provisions: the provider is authoritative for what it sends.

* the email: the primary one of ``emails`` (else the first, else ``userName`` when it is an
  address); a person who already has it is linked, anyone else is created (with no password:
  they sign in through single sign-on, or are given one by an administrator). A User without
  an address is kept, and provisions nobody until it has one;
* the name: ``name.formatted``, else given and family names, else ``displayName``;
* the title: ``title``; the team: the enterprise extension's ``department``; the manager: the
  person of the User its ``manager.value`` names (none when the console has no such User);
* the first working day: the console extension's ``startDate`` (its date);
* ``active``: false deactivates the person at once (sessions ended, API tokens revoked, open
  access requests cancelled, grants stopped); true again restores none of them.

A superuser is never provisioned: the accounts that must survive a mistaken or compromised
identity provider stay the console's own. Every change is made through the accounts
services, and so audited, with the provisioning token's owner as the actor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from scim2_models import (
    InvalidValueException,
    MutabilityException,
    Resource,
    UniquenessException,
)

from apps.accounts.models import User
from apps.accounts.services import user_create, user_set_active, user_update
from martech.common.errors import ApplicationError, ConflictError

from .models import ScimResource
from .provider import CONSOLE, ENTERPRISE


def _email(doc: dict) -> str:
    """The User's email address; "" when it has none."""
    emails = [e for e in doc.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    email = (chosen or {}).get("value") or (
        doc.get("userName") if "@" in str(doc.get("userName") or "") else ""
    )
    email = str(email or "").strip().lower()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidValueException(detail=f"{email} is not an email address.") from None
    return email


def _full_name(doc: dict) -> str:
    name = doc.get("name") or {}
    given = " ".join(str(p) for p in (name.get("givenName"), name.get("familyName")) if p)
    return str(name.get("formatted") or given or doc.get("displayName") or doc["userName"])[:200]


def _start_date(value: Any) -> dt.date | None:
    """``2026-01-05``, or a date-time whose date counts."""
    if not value:
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise InvalidValueException(
            detail=f"{CONSOLE}:startDate must be an ISO 8601 date, such as 2026-01-05."
        ) from None


def fields(resource: Resource[Any]) -> dict[str, Any]:
    """The person's fields a User carries (``manager`` as the User id it names)."""
    doc = resource.model_dump(mode="json")
    enterprise, console = doc.get(ENTERPRISE) or {}, doc.get(CONSOLE) or {}
    return {
        "email": _email(doc),
        "full_name": _full_name(doc),
        "job_title": str(doc.get("title") or "")[:150],
        "team": str(enterprise.get("department") or "")[:100],
        "manager": (enterprise.get("manager") or {}).get("value") or None,
        "start_date": _start_date(console.get("startDate")),
        "active": doc.get("active") is not False,
    }


def _manager(scim_id: str | None) -> User | None:
    if not scim_id:
        return None
    row = ScimResource.objects.filter(resource_type="User", id=scim_id).first()
    return row.person if row is not None else None


def provision(resource: Resource[Any], person: User | None) -> User | None:
    """The person ``resource`` provisions (``person``: the one it did until now), created,
    linked or updated as it says; None while a User that provisions nobody yet has no email
    address."""
    given = fields(resource)
    if person is None and not given["email"]:
        return None
    if not given["email"]:  # an address taken away: the person keeps theirs
        given["email"] = person.email
    manager = _manager(given["manager"])
    try:
        if person is None:
            person = User.objects.filter(email__iexact=given["email"]).first()
            if person is not None and ScimResource.objects.filter(person=person).exists():
                raise UniquenessException(
                    detail=f"{given['email']} is already provisioned by another User."
                )
        if person is not None and person.is_superuser:
            raise MutabilityException(
                detail="A superuser of the console is never provisioned by SCIM."
            )
        if person is None:
            person = user_create(
                email=given["email"],
                full_name=given["full_name"],
                team=given["team"],
                job_title=given["job_title"],
                manager=manager,
                start_date=given["start_date"],
            )
        else:
            wanted = {
                "email": given["email"],
                "full_name": given["full_name"],
                "team": given["team"],
                "job_title": given["job_title"],
                "manager": manager,
            }
            if given["start_date"] is not None:
                wanted["start_date"] = given["start_date"]
            changes = {k: v for k, v in wanted.items() if getattr(person, k) != v}
            if changes:
                person = user_update(actor=None, user=person, **changes)
        if person.is_active != given["active"]:
            person = user_set_active(user=person, active=given["active"])
    except ConflictError as exc:
        raise UniquenessException(detail=exc.message) from None
    except ApplicationError as exc:
        raise InvalidValueException(detail=exc.message) from None
    return person


def deprovision(person: User) -> None:
    """A deleted User's person: deactivated (never deleted: their record and audit trail
    stay)."""
    if person.is_active and not person.is_superuser:
        user_set_active(user=person, active=False)
