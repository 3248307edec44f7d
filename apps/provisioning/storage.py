"""The SCIM service's storage (``scim2_server.storage.ScimStorage``) on the console's database:
each resource kept whole as the provider last wrote it, and every change to a User carried to
the person it provisions (``people``), in the same transaction."""

from __future__ import annotations

import re
import uuid
from typing import Any, Union

from django.db import IntegrityError, transaction
from django.utils import timezone
from scim2_models import (
    Meta,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize

from apps.audit.services import audit_record

from . import people
from .models import ScimResource

# A filter on one attribute the database can look up: ``userName eq "ana@acme.example"``,
# which identity providers send before every change. Any other filter is evaluated on every
# resource of the type (a company's people: thousands, not millions).
_LOOKUP = re.compile(
    r'^\s*(userName|externalId|id|displayName)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE
)


def _name_key(resource: Resource[Any]) -> str:
    name = getattr(resource, "user_name", None) or getattr(resource, "display_name", None) or ""
    return str(name).lower()[:300]


def _version(number: int) -> str:
    return f'W/"{number}"'


class ConsoleStorage(ScimStorage):
    """Users and Groups in ``ScimResource`` rows; a User's person kept in step."""

    def __init__(self, provider):
        self.provider = provider

    def _model(self, resource_type: ResourceType):
        return self.provider.model_for(resource_type)

    def _resource(self, row: ScimResource) -> Resource[Any]:
        resource_type = next(
            rt for rt in self.provider.resource_types if rt.id == row.resource_type
        )
        return self._model(resource_type).model_validate(row.document)

    def _row(self, resource_type: ResourceType, resource_id: str, *, lock=False) -> ScimResource:
        rows = ScimResource.objects.filter(resource_type=resource_type.id, id=resource_id)
        row = (rows.select_for_update() if lock else rows).first()
        if row is None:
            raise NotFoundException(detail=f"No {resource_type.name} has the id {resource_id}.")
        return row

    # -- reading ---------------------------------------------------------------------------

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return self._resource(self._row(resource_type, resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        rows = ScimResource.objects.filter(resource_type__in=[rt.id for rt in resource_types])
        scim_filter = search_request.filter
        if scim_filter is not None:
            rows = _narrowed(rows, str(scim_filter))
        candidates = [self._resource(row) for row in rows.order_by("created_at", "id")]
        if scim_filter is not None and not scim_filter.models and candidates:
            models = tuple(dict.fromkeys(type(r) for r in candidates))
            scim_filter = parametrize(ScimFilter, Union[models])(str(scim_filter))  # noqa: UP007
        found = [r for r in candidates if scim_filter is None or scim_filter.match(r)]
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    # -- writing ---------------------------------------------------------------------------

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        resource = resource.model_copy(deep=True)
        resource.id = uuid.uuid4().hex
        now = timezone.now()
        resource.meta = Meta(
            resource_type=resource_type.name, created=now, last_modified=now, version=_version(1)
        )
        row = ScimResource(
            id=resource.id,
            resource_type=resource_type.id,
            name_key=_name_key(resource),
            external_id=(resource.external_id or "")[:300],
            created_at=now,
            updated_at=now,
        )
        self._check_unique(row)
        if resource_type.id == "User":
            row.person = people.provision(resource, None)
        row.document = resource.model_dump(mode="json")
        self._save(row)
        _audit(row, "created")
        return resource

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        row = self._row(resource_type, str(resource.id), lock=True)
        if expected_version is not None and _version(row.version) != expected_version:
            raise PreconditionFailedException
        stored = self._resource(row)
        updated = type(resource).model_validate(resource.model_dump())
        now = timezone.now()
        updated.meta = stored.meta.model_copy(
            update={"location": None, "last_modified": now, "version": _version(row.version + 1)}
        )
        row.name_key, row.external_id = _name_key(updated), (updated.external_id or "")[:300]
        row.version, row.updated_at = row.version + 1, now
        self._check_unique(row)
        if resource_type.id == "User":
            row.person = people.provision(updated, row.person)
        row.document = updated.model_dump(mode="json")
        self._save(row)
        _audit(row, "updated")
        return updated

    def delete(
        self, resource_type: ResourceType, resource_id: str, *, expected_version: str | None = None
    ) -> None:
        row = self._row(resource_type, resource_id, lock=True)
        if expected_version is not None and _version(row.version) != expected_version:
            raise PreconditionFailedException
        if row.person is not None:
            people.deprovision(row.person)
        _audit(row, "deleted")
        row.delete()

    def operation(self):
        return transaction.atomic()

    @staticmethod
    def _check_unique(row: ScimResource) -> None:
        if row.resource_type != "User":
            return
        taken = ScimResource.objects.filter(resource_type="User", name_key=row.name_key)
        if taken.exclude(id=row.id).exists():
            raise UniquenessException(detail=f"The userName {row.name_key} is taken.")

    @staticmethod
    def _save(row: ScimResource) -> None:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:  # written meanwhile by another request
            raise UniquenessException(detail="The userName or the person is taken.") from None


def _audit(row: ScimResource, what: str) -> None:
    """Every write of the provider's, whether or not it changes a person (those changes are
    audited by the accounts services besides)."""
    audit_record(
        action=f"provisioning.{row.resource_type.lower()}.{what}",
        target=row,
        target_repr=f"SCIM {row.resource_type} {row.name_key}",
        metadata={"id": row.id, "version": row.version, "person": row.person_id},
    )


def _narrowed(rows, text: str):
    """``rows`` narrowed by the database where the filter is a lookup it can make."""
    match = _LOOKUP.match(text)
    if match is None:
        return rows
    attribute, value = match.group(1).lower(), match.group(2).replace('\\"', '"')
    if attribute == "id":
        return rows.filter(id=value)
    if attribute == "externalid":
        return rows.filter(external_id=value)
    if attribute == "username":  # a User's name key; a Group has no userName
        return rows.filter(resource_type="User", name_key=value.lower())
    # displayName: a Group's name key, but a User's displayName is not its key
    return rows.filter(resource_type="Group", name_key=value.lower()) | rows.filter(
        resource_type="User"
    )
