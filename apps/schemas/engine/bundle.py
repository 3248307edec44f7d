"""A tracking plan as files: one JSON Schema per event plus a ``plan.json`` manifest, zipped.

Each property's documentation travels inside its schema as ``x-purpose``, ``x-data-category``,
``x-personal`` and ``x-owner`` (JSON Schema ignores ``x-`` keywords), so the files can live
in git and be imported back.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile

from django.db import transaction

from apps.schemas.errors import SchemasErrorCode
from martech.common.errors import ApplicationError, ConflictError

from .properties import META
from .validate import MAX_DEPTH, nested_deeper_than

MAX_BYTES = 5 * 1024 * 1024
MAX_FILES = 500


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "event"


def export_plan(plan) -> bytes:
    from ..selectors import plan_contents

    manifest = {"name": plan.name, "description": plan.description, "events": []}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for version in plan_contents(plan):
            document = copy.deepcopy(version.json_schema)
            document["$id"] = f"urn:martech:event:{_slug(version.schema.name)}:{version.number}"
            document["title"] = version.schema.name
            if version.schema.description:
                document["description"] = version.schema.description
            properties = document.setdefault("properties", {})
            for spec in version.fields.all():
                node = properties.setdefault(spec.name, {})
                if spec.description:
                    node["description"] = spec.description
                node.update({key: getattr(spec, field) for key, field in META.items()})
            path = f"events/{_slug(version.schema.name)}/{version.number}.json"
            archive.writestr(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
            manifest["events"].append(
                {"event": version.schema.name, "version": version.number, "file": path}
            )
        archive.writestr("plan.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return buffer.getvalue()


def _load(name: str, data: bytes):
    """One file of the archive as JSON, refused (400 ``invalid_bundle``) when it nests deeper
    than a schema may: the parser, the copies and the compiler all recurse."""
    too_deep = ApplicationError(
        f"{name} nests deeper than {MAX_DEPTH} levels of objects and arrays.",
        code=SchemasErrorCode.INVALID_BUNDLE,
    )
    try:
        document = json.loads(data)
    except RecursionError:  # far deeper: the parser gave up
        raise too_deep from None
    if nested_deeper_than(document, MAX_DEPTH):
        raise too_deep
    return document


def _read(upload) -> tuple[dict, dict[str, dict]]:
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ApplicationError("The file is larger than 5 MB.", code=SchemasErrorCode.TOO_LARGE)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
        if len(names) > MAX_FILES:
            raise ApplicationError(f"More than {MAX_FILES} files.", code=SchemasErrorCode.TOO_LARGE)
        if "plan.json" not in names:
            raise ApplicationError(
                "The archive has no plan.json.", code=SchemasErrorCode.INVALID_BUNDLE
            )
        total = sum(info.file_size for info in archive.infolist())
        if total > 10 * MAX_BYTES:
            raise ApplicationError(
                "The archive expands to more than 50 MB.", code=SchemasErrorCode.TOO_LARGE
            )
        files = {name: _load(name, archive.read(name)) for name in names if name.endswith(".json")}
    except zipfile.BadZipFile:
        raise ApplicationError("Not a zip archive.", code=SchemasErrorCode.INVALID_BUNDLE) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApplicationError(
            f"A file is not valid JSON: {exc}", code=SchemasErrorCode.INVALID_BUNDLE
        ) from None
    manifest = files.pop("plan.json")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("events"), list):
        raise ApplicationError(
            "plan.json needs a list of events.", code=SchemasErrorCode.INVALID_BUNDLE
        )
    return manifest, files


def _split(document: dict) -> tuple[dict, dict[str, dict], str]:
    """The schema without registry annotations, the property details, the event description."""
    document = copy.deepcopy(document)
    for key in ("$id", "title"):
        document.pop(key, None)
    description = document.pop("description", "")
    fields: dict[str, dict] = {}
    for name, node in (document.get("properties") or {}).items():
        if isinstance(node, dict):
            fields[name] = {field: node.pop(key) for key, field in META.items() if key in node}
            if "description" in node:
                fields[name]["description"] = node["description"]
    return document, fields, description if isinstance(description, str) else ""


@transaction.atomic
def import_plan(*, actor, upload, name: str = "") -> dict:
    """Create or update a plan from an exported archive; new versions are published."""
    from .. import selectors, services
    from ..models import EventSchema, TrackingPlan

    manifest, files = _read(upload)
    chosen, report = [], []
    for entry in manifest["events"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise ApplicationError(
                f"plan.json lists {str(entry)[:200]}, which names no file.",
                code=SchemasErrorCode.INVALID_BUNDLE,
            )
        if entry["file"] not in files:
            raise ApplicationError(
                f"plan.json lists {entry['file'][:200]!r}, a file the archive does not hold.",
                code=SchemasErrorCode.INVALID_BUNDLE,
            )
        if not isinstance(files[entry["file"]], dict):
            raise ApplicationError(
                f"{entry['file'][:200]} is not a JSON Schema object.",
                code=SchemasErrorCode.INVALID_BUNDLE,
            )
        document, fields, description = _split(files[entry["file"]])
        event = str(entry.get("event") or "")
        schema = EventSchema.objects.filter(name=event).first()
        if schema is None:
            schema = services.schema_create(
                actor=actor,
                name=event,
                description=description,
                json_schema=document,
                fields=fields,
            )
            draft = selectors.current_draft(schema)
        else:
            same = next(
                (
                    v
                    for v in schema.versions.exclude(model__isnull=True)
                    if v.json_schema == services.check_json_schema(document)
                ),
                None,
            )
            if same is not None:
                chosen.append(same)
                report.append(f"{event} {same.number}: already in the registry")
                continue
            if selectors.current_draft(schema) is not None:
                raise ConflictError(
                    f"{event} has a draft in progress: publish or discard it before importing.",
                    code=SchemasErrorCode.DRAFT_EXISTS,
                )
            draft = services.draft_create(actor=actor, schema=schema)
            draft = services.draft_update(
                actor=actor, version=draft, json_schema=document, fields=fields
            )
        version = services.version_publish(actor=actor, version=draft)
        chosen.append(version)
        note = (
            ""
            if version.number == entry.get("version")
            else (f" (the file said {entry.get('version')}; the registry numbers by the change)")
        )
        report.append(f"{event} {version.number}: published{note}")
    plan_name = (name or manifest.get("name") or "").strip()
    plan = TrackingPlan.objects.filter(name=plan_name).first()
    if plan is None:
        plan = services.plan_create(
            actor=actor,
            name=plan_name,
            description=str(manifest.get("description") or ""),
            versions=chosen,
        )
    else:
        plan = services.plan_update(actor=actor, plan=plan, versions=chosen)
    return {"plan": plan, "report": report}
