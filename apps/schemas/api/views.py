from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from apps.access.rules import require
from apps.schemas.errors import SchemasErrorCode
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import ApplicationError, NotFoundError

from .. import selectors, services
from ..engine import bundle
from ..engine.validate import MAX_DEPTH, compile_event, compiled_plan, gate, nested_deeper_than
from ..filters import SchemaFilter, ViolationFilter
from ..models import EventSchema, SchemaVersion, TrackingPlan, Violation
from .serializers import (
    DraftWriteSerializer,
    ImportResultSerializer,
    ImportSerializer,
    PreviewSerializer,
    PublishImpactSerializer,
    SchemaCreateSerializer,
    SchemaSerializer,
    SchemaUpdateSerializer,
    TrackingPlanSerializer,
    TrackingPlanWriteSerializer,
    ValidateRequestSerializer,
    ValidateResponseSerializer,
    VersionSerializer,
    ViolationSerializer,
)

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class BoundedJSONParser(JSONParser):
    """JSON bodies; one nested past the parser's recursion limit is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON parse error - the body nests too deep (at most {MAX_DEPTH} levels)."
            ) from None


def _versions(user, ids) -> list[SchemaVersion]:
    found = {v.pk: v for v in selectors.version_list(user=user).filter(pk__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ApplicationError(
            f"Unknown schema versions: {', '.join(map(str, missing))}.",
            code=SchemasErrorCode.UNKNOWN_VERSION,
            details={"versions": missing},
        )
    return [found[i] for i in ids]


class SchemaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Event schemas (schemas.view). Create and edit with schemas.edit; each schema's
    versions are under ``/schemas/{id}/versions/``."""

    lookup_value_regex = r"\d+"
    parser_classes = [BoundedJSONParser]
    serializer_class = SchemaSerializer
    filterset_class = SchemaFilter
    ordering_fields = ["name", "updated_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return EventSchema.objects.none()
        require(self.request.user, "schemas.view", "see event schemas")
        return selectors.schema_list(user=self.request.user)

    def get_object(self):
        return selectors.schema_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=SchemaCreateSerializer, responses={201: SchemaSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Create an event schema with its first draft (a JSON Schema of the properties)."""
        require(request.user, "schemas.edit", "create event schemas")
        data = validated_body(SchemaCreateSerializer, request)
        schema = services.schema_create(actor=request.user, **data)
        return Response(SchemaSerializer(schema).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SchemaUpdateSerializer, responses={200: SchemaSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        schema = self.get_object()
        require(request.user, "schemas.edit", "change event schemas")
        data = validated_body(SchemaUpdateSerializer, request)
        schema = services.schema_update(actor=request.user, schema=schema, **data)
        return Response(SchemaSerializer(schema).data)

    @extend_schema(
        request=ValidateRequestSerializer, responses={200: ValidateResponseSerializer, **ERRORS}
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def validate(self, request, *args, **kwargs):
        """Validate a sample event against a tracking plan (``plan``) or one schema version
        (``version``) and return its violations; nothing is stored."""
        require(request.user, "schemas.view", "validate events")
        data = validated_body(ValidateRequestSerializer, request)
        if bool(data.get("plan")) == bool(data.get("version")):
            raise ApplicationError("Give either plan or version.", code=SchemasErrorCode.INVALID)
        if nested_deeper_than(data["properties"], MAX_DEPTH - 1):
            raise ApplicationError(
                f"The properties nest at most {MAX_DEPTH - 1} levels of objects and arrays "
                f"(a collected message at most {MAX_DEPTH}).",
                code=SchemasErrorCode.TOO_DEEP,
            )
        if data.get("plan"):
            compiled = compiled_plan(selectors.plan_get(user=request.user, pk=data["plan"]))
        else:
            version = selectors.version_get(user=request.user, pk=data["version"])
            from ..engine.validate import CompiledPlan

            compiled = CompiledPlan(
                None,
                0,
                {
                    version.schema.name: compile_event(
                        version.pk,
                        version.number,
                        version.json_schema,
                        (f.name for f in version.fields.all() if f.personal),
                    )
                },
            )
        verdict = gate(compiled, data["mode"], data["event"], data["properties"])
        event = compiled.events.get(data["event"])
        return Response(
            {
                "valid": verdict.valid,
                "action": verdict.action,
                "version": event.number if event else None,
                "violations": [
                    {"kind": f.kind, "path": f.path, "message": f.message, "sample": f.sample}
                    for f in verdict.findings
                ],
            }
        )


class SchemaVersionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Versions of one event schema. ``POST`` starts a draft from the latest published
    version; drafts are edited with ``PATCH`` and published with ``publish``."""

    lookup_value_regex = r"\d+"
    parser_classes = [BoundedJSONParser]
    serializer_class = VersionSerializer
    filterset_class = None
    ordering = ["-model", "-revision", "-addition", "-id"]
    ordering_fields = ["id", "created_at", "published_at"]

    def _schema(self):
        return selectors.schema_get(user=self.request.user, pk=self.kwargs["schema_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SchemaVersion.objects.none()
        return selectors.version_list(
            user=self.request.user, schema=self._schema()
        ).prefetch_related("fields")

    def get_object(self):
        return selectors.version_get(
            user=self.request.user, pk=self.kwargs["pk"], schema=self._schema()
        )

    @extend_schema(request=None, responses={201: VersionSerializer, **ERRORS})
    def create(self, request, *args, **kwargs):
        """Start a draft (409 ``draft_exists`` if there is one)."""
        schema = self._schema()
        require(request.user, "schemas.edit", "draft schema versions")
        version = services.draft_create(actor=request.user, schema=schema)
        version = selectors.version_get(user=request.user, pk=version.pk)
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DraftWriteSerializer, responses={200: VersionSerializer, **ERRORS})
    def partial_update(self, request, *args, **kwargs):
        """Edit a draft: its JSON Schema, each property's details (purpose, data category,
        personal data, owner) and notes. Published versions answer 409 ``not_a_draft``."""
        version = self.get_object()
        require(request.user, "schemas.edit", "edit schema drafts")
        data = validated_body(DraftWriteSerializer, request)
        fields = {k: dict(v) for k, v in data.pop("fields", {}).items()}
        services.draft_update(actor=request.user, version=version, fields=fields, **data)
        return Response(VersionSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={204: None, **ERRORS})
    def destroy(self, request, *args, **kwargs):
        """Discard a draft."""
        version = self.get_object()
        require(request.user, "schemas.edit", "discard schema drafts")
        services.draft_discard(actor=request.user, version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: PreviewSerializer, **ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None)
    def preview(self, request, *args, **kwargs):
        """What publishing would do: the diff against the latest published version, its
        class (addition, revision, breaking), the number it would get and what blocks it."""
        version = self.get_object()
        if not version.is_draft:
            raise ApplicationError(
                "Only a draft has a preview.", code=SchemasErrorCode.NOT_A_DRAFT, status=409
            )
        preview = services.publish_preview(version)
        return Response(
            {
                **preview,
                "previous": preview["previous"].number if preview["previous"] else None,
                "changes": [c.as_dict() for c in preview["changes"]],
            }
        )

    @extend_schema(responses={200: PublishImpactSerializer, **ERRORS})
    @action(detail=True, methods=["get"], url_path="publish-impact", pagination_class=None)
    def publish_impact(self, request, *args, **kwargs):
        """How many of the last 7 days' events of this event would have failed the draft, by
        source (the latest 10,000 are checked; ``sampled`` says when there were more). Asked
        by whoever may publish it, as the page's confirmation is: schemas.edit, and
        schemas.publish when the change is breaking."""
        version = self.get_object()
        if not version.is_draft:
            raise ApplicationError(
                "Only a draft has a publish impact.", code=SchemasErrorCode.NOT_A_DRAFT, status=409
            )
        require(request.user, "schemas.edit", "publish schema versions")
        preview = services.publish_preview(version)
        if preview["needs_publish_capability"]:
            require(request.user, "schemas.publish", "publish breaking schema changes")
        impact = selectors.publish_impact(version=version)
        return Response({"number": preview["number"], "kind": preview["kind"], **impact})

    @extend_schema(request=None, responses={200: VersionSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None)
    def publish(self, request, *args, **kwargs):
        """Publish a draft. 400 ``purpose_missing`` while a property has no purpose; a
        breaking change needs schemas.publish (403 ``breaking_needs_publish``)."""
        version = self.get_object()
        require(request.user, "schemas.edit", "publish schema versions")
        services.version_publish(actor=request.user, version=version)
        return Response(VersionSerializer(self.get_object()).data)

    @extend_schema(request=None, responses={200: VersionSerializer, **ERRORS})
    @action(detail=True, methods=["post"], pagination_class=None)
    def deprecate(self, request, *args, **kwargs):
        """Deprecate a published version (schemas.publish)."""
        version = self.get_object()
        require(request.user, "schemas.publish", "deprecate schema versions")
        services.version_deprecate(actor=request.user, version=version)
        return Response(VersionSerializer(self.get_object()).data)


class TrackingPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Tracking plans: the schema versions a source follows (one per event)."""

    lookup_value_regex = r"\d+"
    parser_classes = [BoundedJSONParser]
    serializer_class = TrackingPlanSerializer
    filterset_class = None
    ordering_fields = ["name", "updated_at", "id"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrackingPlan.objects.none()
        require(self.request.user, "schemas.view", "see tracking plans")
        return selectors.plan_list(user=self.request.user).prefetch_related("versions__schema")

    def get_object(self):
        return selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        request=TrackingPlanWriteSerializer, responses={201: TrackingPlanSerializer, **ERRORS}
    )
    def create(self, request, *args, **kwargs):
        require(request.user, "schemas.edit", "create tracking plans")
        data = validated_body(TrackingPlanWriteSerializer, request)
        if not data.get("name"):
            raise ApplicationError("name: This field is required.", code=SchemasErrorCode.INVALID)
        versions = _versions(request.user, data.pop("versions", []))
        plan = services.plan_create(actor=request.user, versions=versions, **data)
        return Response(TrackingPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TrackingPlanWriteSerializer, responses={200: TrackingPlanSerializer, **ERRORS}
    )
    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        require(request.user, "schemas.edit", "change tracking plans")
        data = validated_body(TrackingPlanWriteSerializer, request)
        if "versions" in data:
            data["versions"] = _versions(request.user, data["versions"])
        plan = services.plan_update(actor=request.user, plan=plan, **data)
        return Response(TrackingPlanSerializer(plan).data)

    @extend_schema(responses={(200, "application/zip"): bytes, 404: ErrorSerializer})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def export(self, request, *args, **kwargs):
        """The plan as JSON Schema files (a zip with plan.json), to keep in git."""
        plan = self.get_object()
        response = HttpResponse(bundle.export_plan(plan), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="tracking-plan-{plan.pk}.zip"'
        return response

    @extend_schema(
        request={"multipart/form-data": ImportSerializer},
        responses={200: ImportResultSerializer, **ERRORS},
    )
    @action(
        detail=False,
        methods=["post"],
        parser_classes=[MultiPartParser, FormParser],
        pagination_class=None,
        filterset_class=None,
        url_path="import",
        url_name="import",
    )
    def import_(self, request, *args, **kwargs):
        """Import an exported plan: unknown versions are published (numbered by their
        change), known ones reused, and the plan created or updated."""
        require(request.user, "schemas.edit", "import tracking plans")
        data = validated_body(ImportSerializer, request)
        result = bundle.import_plan(
            actor=request.user, upload=data["file"], name=data.get("name", "")
        )
        return Response(
            {"plan": TrackingPlanSerializer(result["plan"]).data, "report": result["report"]}
        )


class ViolationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Violations seen in traffic, newest first, filterable by source, event, kind and time."""

    lookup_value_regex = r"\d+"
    serializer_class = ViolationSerializer
    filterset_class = ViolationFilter
    ordering_fields = ["occurred_at", "id"]
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Violation.objects.none()
        require(self.request.user, "schemas.view", "see violations")
        return selectors.violation_list(user=self.request.user)

    def get_object(self):
        violation = (
            selectors.violation_list(user=self.request.user).filter(pk=self.kwargs["pk"]).first()
        )
        if violation is None:
            raise NotFoundError("No such violation.")
        return violation
