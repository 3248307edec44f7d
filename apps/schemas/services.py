"""Writes of the schema registry: schemas, drafts, publishing, plans, and what traffic showed."""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable

import jsonschema_rs
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.access.registry import capability_label
from apps.access.rules import require, user_can
from apps.audit.services import audit_record, audit_snapshot
from apps.schemas.errors import SchemasErrorCode
from martech.common.errors import ApplicationError, ConflictError, PermissionDeniedError

from . import selectors
from .choices import ChangeKind, DataCategory, VersionStatus, ViolationKind
from .engine import compat
from .engine.validate import (
    MAX_DEPTH,
    Finding,
    _json_type,
    compile_schema,
    forget,
    nested_deeper_than,
)
from .models import EventSchema, Observation, PropertySpec, SchemaVersion, TrackingPlan, Violation

DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9 _.:/-]{0,119}$")
PROPERTY_RE = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.-]{0,199}$")
FIELD_META = ("description", "purpose", "data_category", "personal", "owner")
SCHEMA_FIELDS = ("name", "description", "owner")
PLAN_FIELDS = ("name", "description")


def empty_schema() -> dict:
    return {"$schema": DIALECT, "type": "object", "properties": {}, "required": []}


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ApplicationError(
            "An event name starts with a letter and uses letters, digits, spaces and . _ : / - "
            "(at most 120 characters).",
            code=SchemasErrorCode.INVALID_NAME,
        )
    return name


def _outside_reference() -> ApplicationError:
    return ApplicationError(
        "Not a valid JSON Schema: every $ref must point inside the schema (#/…); "
        "references to other documents, URLs or files are not followed.",
        code=SchemasErrorCode.INVALID_SCHEMA,
    )


def check_json_schema(json_schema) -> dict:
    """A valid draft 2020-12 schema of an object's properties, or a 400 that says why."""
    if not isinstance(json_schema, dict):
        raise ApplicationError(
            "The schema must be a JSON object.", code=SchemasErrorCode.INVALID_SCHEMA
        )
    if nested_deeper_than(json_schema, MAX_DEPTH):
        raise ApplicationError(
            f"A schema nests at most {MAX_DEPTH} levels of objects and arrays.",
            code=SchemasErrorCode.INVALID_SCHEMA,
        )
    json_schema = copy.deepcopy(json_schema)
    declared = json_schema.get("$schema", DIALECT)
    if declared != DIALECT:
        raise ApplicationError(
            f"Schemas use JSON Schema draft 2020-12 ($schema {DIALECT}), not {declared!r}.",
            code=SchemasErrorCode.INVALID_SCHEMA,
        )
    json_schema["$schema"] = DIALECT
    if json_schema.get("type") != "object":
        raise ApplicationError(
            'An event schema describes the properties object: "type" must be "object".',
            code=SchemasErrorCode.INVALID_SCHEMA,
        )
    try:
        jsonschema_rs.meta.validate(json_schema)
    except jsonschema_rs.ValidationError as exc:
        first = str(exc).split("\n", 1)[0]
        raise ApplicationError(
            f"Not a valid JSON Schema: {first}", code=SchemasErrorCode.INVALID_SCHEMA
        ) from None
    except Exception as exc:  # referencing errors and the like
        raise ApplicationError(
            f"Not a valid JSON Schema: {exc}", code=SchemasErrorCode.INVALID_SCHEMA
        ) from None
    try:
        compile_schema(json_schema)
    except jsonschema_rs.ValidationError as exc:
        if not isinstance(exc.kind, jsonschema_rs.ValidationErrorKind.Format):
            raise _outside_reference() from None
        # A pattern the linear engine cannot run.
        where = "/".join(map(str, exc.instance_path))
        raise ApplicationError(
            f"The pattern {str(exc.instance)[:200]!r} at {where} cannot be used: patterns run "
            "on an engine whose time is linear in the value's length, without lookaround "
            "((?=, (?!, (?<=, (?<!), backreferences (\\1) or a compiled size above 1 MiB.",
            code=SchemasErrorCode.UNSUPPORTED_PATTERN,
            details={"path": where},
        ) from None
    except Exception:  # a reference that does not resolve within the schema
        raise _outside_reference() from None
    properties = json_schema.setdefault("properties", {})
    for name in properties:
        if not PROPERTY_RE.match(name):
            raise ApplicationError(
                f"Property name {name!r} is not allowed: use letters, digits and _ $ . -",
                code=SchemasErrorCode.INVALID_PROPERTY_NAME,
            )
    for name in json_schema.get("required") or ():
        if name not in properties:
            raise ApplicationError(
                f"{name!r} is required but not described under properties.",
                code=SchemasErrorCode.INVALID_SCHEMA,
            )
    return json_schema


def _sync_fields(version: SchemaVersion, meta: dict[str, dict] | None = None) -> None:
    """One PropertySpec per top-level property of the version's schema."""
    properties = version.json_schema.get("properties") or {}
    existing = {f.name: f for f in version.fields.all()}
    for name in set(existing) - set(properties):
        existing.pop(name).delete()
    for name, node in properties.items():
        spec = existing.get(name) or PropertySpec(version=version, name=name)
        if not spec.description and isinstance(node, dict):
            spec.description = str(node.get("description", ""))[:2000]
        for key, value in ((meta or {}).get(name) or {}).items():
            if key not in FIELD_META:
                raise ApplicationError(
                    f"Unknown property detail {key!r}.", code=SchemasErrorCode.INVALID
                )
            setattr(spec, key, value)
        if spec.data_category not in DataCategory.values:
            raise ApplicationError(
                f"{name}: unknown data category {spec.data_category!r}.",
                code=SchemasErrorCode.INVALID,
            )
        if spec.data_category in (
            DataCategory.CONTACT,
            DataCategory.IDENTIFIER,
            DataCategory.SENSITIVE,
            DataCategory.LOCATION,
        ):
            spec.personal = True
        spec.save()


@transaction.atomic
def schema_create(
    *, actor, name: str, description: str = "", owner: str = "", json_schema=None, fields=None
) -> EventSchema:
    require(actor, "schemas.edit", "create event schemas")
    name = _check_name(name)
    if EventSchema.objects.filter(name__iexact=name).exists():
        raise ConflictError(
            f"An event schema named {name!r} exists.", code=SchemasErrorCode.DUPLICATE
        )
    schema = EventSchema.objects.create(name=name, description=description, owner=owner)
    version = SchemaVersion.objects.create(
        schema=schema,
        json_schema=check_json_schema(json_schema if json_schema is not None else empty_schema()),
        created_by=actor,
    )
    _sync_fields(version, fields)
    audit_record(
        action="schemas.schema.created",
        target=schema,
        after=audit_snapshot(schema, SCHEMA_FIELDS),
    )
    return schema


@transaction.atomic
def schema_update(*, actor, schema: EventSchema, **changes) -> EventSchema:
    require(actor, "schemas.edit", "change event schemas")
    schema = EventSchema.objects.select_for_update().get(pk=schema.pk)
    before = audit_snapshot(schema, SCHEMA_FIELDS)
    for key, value in changes.items():
        if key not in SCHEMA_FIELDS:
            raise ValueError(key)
        if key == "name":
            value = _check_name(value)
            if (
                schema.versions.exclude(status=VersionStatus.DRAFT).exists()
                and value != schema.name
            ):
                raise ConflictError(
                    "A published event keeps its name: sources send it. Create a new event "
                    "and deprecate this one instead.",
                    code=SchemasErrorCode.NAME_IN_USE,
                )
        setattr(schema, key, value)
    try:
        with transaction.atomic():
            schema.save()
    except IntegrityError:
        raise ConflictError(
            "An event schema with that name exists.", code=SchemasErrorCode.DUPLICATE
        ) from None
    audit_record(
        action="schemas.schema.updated",
        target=schema,
        before=before,
        after=audit_snapshot(schema, SCHEMA_FIELDS),
    )
    return schema


@transaction.atomic
def draft_create(*, actor, schema: EventSchema) -> SchemaVersion:
    """Start the next version from the latest published one (one draft at a time)."""
    require(actor, "schemas.edit", "draft schema versions")
    schema = EventSchema.objects.select_for_update().get(pk=schema.pk)
    if selectors.current_draft(schema) is not None:
        raise ConflictError(
            "This event already has a draft: edit that one.", code=SchemasErrorCode.DRAFT_EXISTS
        )
    base = selectors.latest_published(schema)
    version = SchemaVersion.objects.create(
        schema=schema,
        json_schema=copy.deepcopy(base.json_schema) if base else empty_schema(),
        based_on=base,
        created_by=actor,
    )
    if base is not None:
        for spec in base.fields.all():
            spec.pk, spec.version = None, version
            spec.save()
    else:
        _sync_fields(version)
    audit_record(
        action="schemas.version.drafted",
        target=version,
        metadata={"schema": schema.name, "based_on": base.number if base else None},
    )
    return version


def _draft(version: SchemaVersion) -> SchemaVersion:
    version = SchemaVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ConflictError(
            f"Version {version.number} is {version.get_status_display().lower()}: published "
            "versions never change. Start a new draft.",
            code=SchemasErrorCode.NOT_A_DRAFT,
        )
    return version


@transaction.atomic
def draft_update(
    *, actor, version: SchemaVersion, json_schema=None, fields=None, notes=None
) -> SchemaVersion:
    require(actor, "schemas.edit", "edit schema drafts")
    version = _draft(version)
    if json_schema is not None:
        version.json_schema = check_json_schema(json_schema)
    if notes is not None:
        version.notes = notes
    version.save()
    _sync_fields(version, fields)
    audit_record(
        action="schemas.version.edited",
        target=version,
        metadata={"properties": sorted(version.json_schema.get("properties", {}))},
    )
    return version


@transaction.atomic
def draft_discard(*, actor, version: SchemaVersion) -> EventSchema:
    require(actor, "schemas.edit", "discard schema drafts")
    version = _draft(version)
    schema = version.schema
    audit_record(action="schemas.version.discarded", target=schema)
    version.delete()
    if not schema.versions.exists():
        audit_record(
            action="schemas.schema.deleted",
            target=schema,
            before=audit_snapshot(schema, SCHEMA_FIELDS),
        )
        schema.delete()
    return schema


def missing_purposes(version: SchemaVersion) -> list[str]:
    return sorted(f.name for f in version.fields.all() if not f.purpose.strip())


def publish_preview(version: SchemaVersion) -> dict:
    """What publishing would do: the diff, its class, the number, and what blocks it."""
    previous = selectors.latest_published(version.schema)
    if previous is None:
        changes, kind = [], ChangeKind.INITIAL
        number = compat.next_number(None, kind)
    else:
        changes = compat.diff(previous.json_schema, version.json_schema)
        kind = compat.classify(changes)
        number = compat.next_number((previous.model, previous.revision, previous.addition), kind)
    return {
        "previous": previous,
        "changes": changes,
        "kind": kind,
        "number": "-".join(map(str, number)),
        "parts": number,
        "missing_purposes": missing_purposes(version),
        "needs_publish_capability": kind == ChangeKind.BREAKING,
    }


@transaction.atomic
def version_publish(*, actor, version: SchemaVersion) -> SchemaVersion:
    require(actor, "schemas.edit", "publish schema versions")
    EventSchema.objects.select_for_update().get(pk=version.schema_id)
    version = _draft(version)
    preview = publish_preview(version)
    if preview["missing_purposes"]:
        names = ", ".join(preview["missing_purposes"])
        raise ApplicationError(
            f"Every property needs a purpose before publishing; missing: {names}.",
            code=SchemasErrorCode.PURPOSE_MISSING,
            details={"properties": preview["missing_purposes"]},
        )
    if preview["needs_publish_capability"] and not user_can(actor, "schemas.publish"):
        raise PermissionDeniedError(
            "This is a breaking change (a new model number): publishing it needs "
            f"“{capability_label('schemas.publish')}”.",
            code=SchemasErrorCode.BREAKING_NEEDS_PUBLISH,
            details={"capability": "schemas.publish"},
        )
    version.model, version.revision, version.addition = preview["parts"]
    version.change_kind = preview["kind"]
    version.changes = [c.as_dict() for c in preview["changes"]]
    version.status = VersionStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.save()
    audit_record(
        action="schemas.version.published",
        target=version,
        after={"number": version.number, "change": version.change_kind},
        metadata={"schema": version.schema.name, "changes": version.changes[:50]},
    )
    return version


@transaction.atomic
def version_deprecate(*, actor, version: SchemaVersion) -> SchemaVersion:
    require(actor, "schemas.publish", "deprecate schema versions")
    version = SchemaVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.PUBLISHED:
        raise ConflictError(
            "Only a published version can be deprecated.", code=SchemasErrorCode.NOT_PUBLISHED
        )
    version.status = VersionStatus.DEPRECATED
    version.deprecated_at = timezone.now()
    version.save()
    audit_record(
        action="schemas.version.deprecated",
        target=version,
        metadata={"schema": version.schema.name, "number": version.number},
    )
    return version


# --- Tracking plans ----------------------------------------------------------------------


def _check_plan_versions(versions: Iterable[SchemaVersion]) -> list[SchemaVersion]:
    versions = list(versions)
    seen: dict[int, SchemaVersion] = {}
    for version in versions:
        if version.status == VersionStatus.DRAFT:
            raise ApplicationError(
                f"{version.schema.name}: a plan holds published versions, not drafts.",
                code=SchemasErrorCode.DRAFT_IN_PLAN,
            )
        if version.schema_id in seen:
            raise ApplicationError(
                f"{version.schema.name}: a plan holds one version of each event "
                f"({seen[version.schema_id].number} and {version.number} were both chosen).",
                code=SchemasErrorCode.TWO_VERSIONS,
            )
        seen[version.schema_id] = version
    return versions


@transaction.atomic
def plan_create(*, actor, name: str, description: str = "", versions=()) -> TrackingPlan:
    require(actor, "schemas.edit", "create tracking plans")
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A tracking plan needs a name.", code=SchemasErrorCode.INVALID)
    if TrackingPlan.objects.filter(name__iexact=name).exists():
        raise ConflictError(
            f"A tracking plan named {name!r} exists.", code=SchemasErrorCode.DUPLICATE
        )
    versions = _check_plan_versions(versions)
    plan = TrackingPlan.objects.create(name=name, description=description)
    plan.versions.set(versions)
    audit_record(
        action="schemas.plan.created",
        target=plan,
        after={**audit_snapshot(plan, PLAN_FIELDS), "versions": [str(v) for v in versions]},
    )
    return plan


@transaction.atomic
def plan_update(*, actor, plan: TrackingPlan, versions=None, **changes) -> TrackingPlan:
    require(actor, "schemas.edit", "change tracking plans")
    plan = TrackingPlan.objects.select_for_update().get(pk=plan.pk)
    before = {
        **audit_snapshot(plan, PLAN_FIELDS),
        "versions": sorted(str(v) for v in plan.versions.all()),
    }
    for key, value in changes.items():
        if key not in PLAN_FIELDS:
            raise ValueError(key)
        if key == "name":
            value = (value or "").strip()
            if not value:
                raise ApplicationError(
                    "A tracking plan needs a name.", code=SchemasErrorCode.INVALID
                )
            if TrackingPlan.objects.filter(name__iexact=value).exclude(pk=plan.pk).exists():
                raise ConflictError(
                    f"A tracking plan named {value!r} exists.", code=SchemasErrorCode.DUPLICATE
                )
        setattr(plan, key, value)
    if versions is not None:
        plan.versions.set(_check_plan_versions(versions))
    plan.revision += 1
    plan.save()
    forget(plan.pk)
    audit_record(
        action="schemas.plan.updated",
        target=plan,
        before=before,
        after={
            **audit_snapshot(plan, PLAN_FIELDS),
            "versions": sorted(str(v) for v in plan.versions.all()),
        },
    )
    return plan


# --- What traffic showed -----------------------------------------------------------------


def findings_record(
    *,
    source: str,
    event_name: str,
    findings: Iterable[Finding],
    properties=None,
    plan: TrackingPlan | None = None,
    event_ref: str = "",
    occurred_at: dt.datetime | None = None,
) -> list[Violation]:
    """Store an event's violations and count its unplanned event or properties."""
    findings = list(findings)
    if not findings:
        return []
    at = occurred_at or timezone.now()
    rows = Violation.objects.bulk_create(
        Violation(
            plan=plan,
            source=source[:120],
            event_name=event_name[:200],
            event_ref=event_ref[:120],
            version_id=f.version_id,
            kind=f.kind,
            path=f.path[:300],
            message=f.message[:500],
            sample=f.sample,
            occurred_at=at,
        )
        for f in findings
    )
    observed: dict[str, dict] = defaultdict(dict)
    props = properties if isinstance(properties, dict) else {}
    for f in findings:
        if f.kind == ViolationKind.UNPLANNED_EVENT:
            observed[""] = {name: _json_type(value) for name, value in list(props.items())[:100]}
        elif f.kind == ViolationKind.UNEXPECTED_PROPERTY and f.path in props:
            observed[f.path] = {"": _json_type(props[f.path])}
    for prop, types in observed.items():
        _observe(source[:120], event_name[:200], prop[:200], types, at)
    return rows


def _observe(source: str, event_name: str, prop: str, types: dict[str, str], at) -> None:
    with transaction.atomic():
        row, _ = Observation.objects.select_for_update().get_or_create(
            source=source, event_name=event_name, property=prop, defaults={"first_seen": at}
        )
        row.count += 1
        row.last_seen = max(row.last_seen, at)
        if prop:
            kind = types[""]
            row.types[kind] = row.types.get(kind, 0) + 1
        else:
            for name, kind in types.items():
                seen = row.example_properties.setdefault(name, {})
                seen[kind] = seen.get(kind, 0) + 1
        row.save()


def _schema_of_types(types: dict) -> dict:
    kinds = sorted(types, key=lambda k: -types[k]) if isinstance(types, dict) else [types]
    kinds = [k for k in kinds if k]
    if not kinds:
        return {}
    return {"type": kinds[0]} if len(kinds) == 1 else {"type": kinds}


@transaction.atomic
def draft_from_observation(*, actor, observation: Observation) -> SchemaVersion:
    """Turn an unplanned event or property seen in traffic into a draft to review."""
    require(actor, "schemas.edit", "draft schema versions")
    schema = EventSchema.objects.filter(name=observation.event_name).first()
    if not observation.property and schema is None:
        try:
            name = _check_name(observation.event_name)
        except ApplicationError:
            raise ApplicationError(
                f"{observation.event_name!r} cannot be an event name; rename it at the source.",
                code=SchemasErrorCode.INVALID_NAME,
            ) from None
        properties = {
            prop: {**_schema_of_types(types), "description": "Seen in traffic."}
            for prop, types in observation.example_properties.items()
            if PROPERTY_RE.match(prop)
        }
        schema = schema_create(
            actor=actor,
            name=name,
            description=f"Drafted from traffic of {observation.source}.",
            json_schema={**empty_schema(), "properties": properties},
        )
        return selectors.current_draft(schema)
    if schema is None:
        raise ApplicationError(
            "That event is not in the registry.", code=SchemasErrorCode.UNKNOWN_EVENT
        )
    draft = selectors.current_draft(schema) or draft_create(actor=actor, schema=schema)
    if observation.property:
        if not PROPERTY_RE.match(observation.property):
            raise ApplicationError(
                f"{observation.property!r} cannot be a property name; rename it at the source.",
                code=SchemasErrorCode.INVALID_PROPERTY_NAME,
            )
        updated = copy.deepcopy(draft.json_schema)
        updated.setdefault("properties", {}).setdefault(
            observation.property,
            {**_schema_of_types(observation.types), "description": "Seen in traffic."},
        )
        draft = draft_update(actor=actor, version=draft, json_schema=updated)
    return draft
