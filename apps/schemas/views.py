"""Browser views of the schema registry: schemas, drafts and publishing, plans, violations."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from apps.schemas.errors import SchemasErrorCode
from martech.common.errors import ApplicationError
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import selectors, services
from .choices import ChangeKind, VersionStatus, ViolationKind
from .engine import bundle, properties
from .filters import PlanFilter, SchemaFilter, ViolationFilter
from .forms import (
    DraftForm,
    ImportForm,
    NotesForm,
    PlanForm,
    PropertyFormSet,
    PropertyFormSetWithBlank,
    SchemaForm,
    purpose_suggestions,
)


class SchemaListView(FilteredListView):
    template_name = "schemas/schema_list.html"
    partial_template_name = "schemas/_schema_table.html"
    filterset_class = SchemaFilter
    sortable = {
        "event": "name",
        "owner": "owner",
        "versions": "published_count",
        "published": "last_published",
    }
    default_sort = "event"

    def get_queryset(self):
        require(self.request.user, "schemas.view", "see event schemas")
        queryset = selectors.schema_list(user=self.request.user).order_by("name")
        return SchemaFilter(self.request.GET, queryset=queryset).qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_edit"] = user_can(self.request.user, "schemas.edit")
        return context


class SchemaCreateView(ServiceFormView):
    form_class = SchemaForm
    capability = "schemas.edit"
    title = "New event schema"
    pretitle = "Data · Schema registry"
    submit_label = "Create with a first draft"

    def perform(self, form):
        schema = services.schema_create(actor=self.request.user, **form.cleaned_data)
        draft = selectors.current_draft(schema)
        return reverse("schemas:version_edit", args=[schema.pk, draft.pk])

    def cancel_url(self):
        return reverse("schemas:schema_list")


class SchemaEditView(ServiceFormView):
    form_class = SchemaForm
    capability = "schemas.edit"
    title = "Edit event schema"
    pretitle = "Data · Schema registry"

    def load_object(self):
        self.schema = selectors.schema_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        return {f: getattr(self.schema, f) for f in ("name", "description", "owner")}

    def perform(self, form):
        services.schema_update(actor=self.request.user, schema=self.schema, **form.cleaned_data)
        return reverse("schemas:schema_detail", args=[self.schema.pk])

    def cancel_url(self):
        return reverse("schemas:schema_detail", args=[self.schema.pk])


class SchemaDetailView(LoginRequiredMixin, TemplateView):
    template_name = "schemas/schema_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        schema = selectors.schema_get(user=user, pk=self.kwargs["pk"])
        versions = list(selectors.version_list(user=user, schema=schema).prefetch_related("plans"))
        return {
            **super().get_context_data(**kwargs),
            "schema": schema,
            "versions": versions,
            "draft": next((v for v in versions if v.is_draft), None),
            "latest": selectors.latest_published(schema),
            "can_edit": user_can(user, "schemas.edit"),
        }


def _property_rows(version) -> list[dict]:
    schema = version.json_schema
    required = set(schema.get("required") or ())
    nodes = schema.get("properties") or {}
    rows = []
    for spec in version.fields.all():
        node = nodes.get(spec.name) if isinstance(nodes.get(spec.name), dict) else {}
        kind = node.get("type", "any")
        rows.append(
            {
                "spec": spec,
                "type": kind if isinstance(kind, str) else " | ".join(kind),
                "required": spec.name in required,
                "enum": node.get("enum"),
            }
        )
    return rows


class VersionDetailView(LoginRequiredMixin, TemplateView):
    template_name = "schemas/version_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        schema = selectors.schema_get(user=user, pk=self.kwargs["pk"])
        version = selectors.version_get(user=user, pk=self.kwargs["version_pk"], schema=schema)
        context = {
            **super().get_context_data(**kwargs),
            "schema": schema,
            "version": version,
            "rows": _property_rows(version),
            "pretty": json.dumps(version.json_schema, indent=2, ensure_ascii=False),
            "can_edit": user_can(user, "schemas.edit"),
            "can_publish": user_can(user, "schemas.publish"),
            "kinds": ChangeKind,
        }
        if version.is_draft:
            context["preview"] = services.publish_preview(version)
        return context


class VersionEditView(LoginRequiredMixin, TemplateView):
    """Edit a draft property by property, or as raw JSON Schema (the advanced view).

    The property rows post to this page without ``json_schema``; the raw JSON form posts
    ``json_schema`` and is then authoritative. "Add property" posts the rows back and shows
    them again with a blank one, saving nothing, so it works without JavaScript."""

    template_name = "schemas/version_edit.html"

    def _load(self):
        user = self.request.user
        self.schema = selectors.schema_get(user=user, pk=self.kwargs["pk"])
        self.version = selectors.version_get(
            user=user, pk=self.kwargs["version_pk"], schema=self.schema
        )
        require(user, "schemas.edit", "edit schema drafts")
        if not self.version.is_draft:
            raise ApplicationError(
                "Published versions never change: start a new draft.",
                code=SchemasErrorCode.NOT_A_DRAFT,
                status=409,
            )

    def _json_text(self) -> str:
        document = properties.annotate(self.version.json_schema, self.version.fields.all())
        return json.dumps(document, indent=2, ensure_ascii=False)

    def _formset(self, data=None, *, initial=None, blank=False):
        factory = PropertyFormSetWithBlank if blank else PropertyFormSet
        return factory(
            data,
            initial=initial,
            prefix="p",
            form_kwargs={"base": self.version.json_schema},
        )

    def get(self, request, *args, **kwargs):
        try:
            self._load()
        except ApplicationError as exc:
            if exc.code != SchemasErrorCode.NOT_A_DRAFT:
                raise
            # An old link to a draft since published: show the version, and say why.
            messages.info(request, exc.message)
            return redirect("schemas:version_detail", pk=self.schema.pk, version_pk=self.version.pk)
        rows = properties.rows(self.version.json_schema, self.version.fields.all())
        return self.render_to_response(
            self._context(
                formset=self._formset(initial=rows, blank=not rows),
                notes=NotesForm(initial={"notes": self.version.notes}),
                form=DraftForm(initial={"json_schema": self._json_text()}),
            )
        )

    def _context(self, *, formset, notes, form, json_open=False):
        return {
            "schema": self.schema,
            "version": self.version,
            "formset": formset,
            "notes_form": notes,
            "form": form,
            "json_open": json_open or bool(form.errors),
            "row_errors": (
                sum(len(e) for f in formset.forms for e in f.errors.values())
                + len(formset.non_form_errors())
                if formset.is_bound
                else 0
            ),
            "extra_keywords": properties.extra_keywords(self.version.json_schema),
            "purposes": purpose_suggestions(),
        }

    def post(self, request, *args, **kwargs):
        self._load()
        if "json_schema" in request.POST:
            return self._save_json(request)
        if "add_row" in request.POST:
            return self._add_row(request)
        return self._save_rows(request)

    def _done(self, request):
        messages.success(request, "Draft saved.")
        target = "schemas:version_edit" if "stay" in request.POST else "schemas:version_detail"
        return redirect(target, self.schema.pk, self.version.pk)

    def _save_rows(self, request):
        formset = self._formset(request.POST)
        notes = NotesForm(request.POST)
        form = DraftForm(initial={"json_schema": self._json_text()})
        if formset.is_valid() and notes.is_valid():
            rows = formset.rows()
            fields = {row["name"]: {key: row[key] for key in services.FIELD_META} for row in rows}
            try:
                services.draft_update(
                    actor=request.user,
                    version=self.version,
                    json_schema=properties.build(self.version.json_schema, rows),
                    fields=fields,
                    notes=notes.cleaned_data["notes"],
                )
            except ApplicationError as exc:
                if exc.status in (403, 404):
                    raise
                formset._non_form_errors.append(exc.message)
            else:
                return self._done(request)
        return self.render_to_response(
            self._context(formset=formset, notes=notes, form=form), status=400
        )

    def _add_row(self, request):
        """The posted rows again, unsaved and unchecked, with a blank row after them."""
        posted = self._formset(request.POST)
        rows = []
        for form in posted.forms:
            row = {name: form[name].value() for name in form.fields if name != "DELETE"}
            if not any(row.get(k) for k in ("name", "original", "description", "purpose")):
                continue
            row["DELETE"] = bool(form["DELETE"].value())
            rows.append(row)
        return self.render_to_response(
            self._context(
                formset=self._formset(initial=rows, blank=True),
                notes=NotesForm(request.POST),
                form=DraftForm(initial={"json_schema": self._json_text()}),
            )
        )

    def _save_json(self, request):
        form = DraftForm(request.POST)
        if form.is_valid():
            try:
                document = form.cleaned_data["json_schema"]
                if not isinstance(document, dict):
                    raise ApplicationError("The schema must be a JSON object.")
                try:
                    json_schema, fields = properties.split(document)
                except ValueError as exc:
                    raise ApplicationError(str(exc)) from None
                services.draft_update(
                    actor=request.user,
                    version=self.version,
                    json_schema=json_schema,
                    fields={
                        k: v
                        for k, v in fields.items()
                        if k in (json_schema.get("properties") or {})
                    },
                    notes=form.cleaned_data["notes"] if "notes" in request.POST else None,
                )
            except ApplicationError as exc:
                if exc.status in (403, 404):
                    raise
                form.add_error(None, exc.message)
            else:
                return self._done(request)
        rows = properties.rows(self.version.json_schema, self.version.fields.all())
        return self.render_to_response(
            self._context(
                formset=self._formset(initial=rows, blank=not rows),
                notes=NotesForm(initial={"notes": self.version.notes}),
                form=form,
                json_open=True,
            ),
            status=400,
        )


class DraftCreateView(ActionView):
    def act(self, request, pk):
        schema = selectors.schema_get(user=request.user, pk=pk)
        version = services.draft_create(actor=request.user, schema=schema)
        return reverse("schemas:version_edit", args=[schema.pk, version.pk]), "Draft started."


def impact_lines(version, number: str, impact: dict) -> list[str]:
    """The publish impact in words: how many recent events would have failed, by source."""
    name, days = version.schema.name, impact["days"]
    if not impact["total"]:
        return [
            f"No {name} events arrived in the last {days} days: there is no traffic to "
            f"check {number} against."
        ]
    checked = f"{impact['checked']:,}"
    if impact["sampled"]:
        checked = f"the latest {checked} (a sample of {impact['total']:,})"
    lines = [
        f"{impact['failed']:,} of {checked} {name} events in the last {days} days would have "
        f"failed {number}, by source:"
    ]
    for row in impact["sources"][:10]:
        lines.append(f"{row['source']}: {row['failed']:,} of {row['checked']:,} would have failed.")
    if len(impact["sources"]) > 10:
        lines.append(f"and {count_of(len(impact['sources']) - 10, 'more source')}.")
    return lines


class _VersionAction(ActionView):
    def version(self, request, pk, version_pk):
        schema = selectors.schema_get(user=request.user, pk=pk)
        return selectors.version_get(user=request.user, pk=version_pk, schema=schema)

    def fallback_url(self, request, pk, version_pk):
        return reverse("schemas:version_detail", args=[pk, version_pk])


class VersionPublishView(_VersionAction):
    def consequence(self, request, pk, version_pk):
        version = self.version(request, pk, version_pk)
        if not version.is_draft:
            return None  # refused by the service with its reason
        preview = services.publish_preview(version)
        if not preview["needs_publish_capability"] or preview["missing_purposes"]:
            return None  # compatible: nothing that worked stops working
        require(request.user, "schemas.edit", "publish schema versions")
        require(request.user, "schemas.publish", "publish breaking schema changes")
        breaking = [c for c in preview["changes"] if c.severity == ChangeKind.BREAKING]
        lines = [
            f"Publishes {version.schema.name} {preview['number']}: a new model, not compatible "
            f"with {preview['previous'].number} ({count_of(len(breaking), 'breaking change')}).",
            *(f"{c.path or 'the event'}: {c.detail}" for c in breaking[:5]),
        ]
        if len(breaking) > 5:
            lines.append(f"and {count_of(len(breaking) - 5, 'more change')}.")
        lines.extend(
            impact_lines(version, preview["number"], selectors.publish_impact(version=version))
        )
        lines.append(
            f"Tracking plans keep the version they hold until someone moves them to "
            f"{preview['number']}. A published version cannot be edited afterwards, only "
            "deprecated."
        )
        return Consequence(
            title=f"Publish the breaking change {preview['number']}?",
            lines=tuple(lines),
            button=f"Publish {preview['number']}",
        )

    def act(self, request, pk, version_pk):
        version = services.version_publish(
            actor=request.user, version=self.version(request, pk, version_pk)
        )
        return (
            reverse("schemas:version_detail", args=[pk, version_pk]),
            f"Published {version} ({version.get_change_kind_display().lower()}).",
        )


class VersionDeprecateView(_VersionAction):
    def consequence(self, request, pk, version_pk):
        version = self.version(request, pk, version_pk)
        require(request.user, "schemas.publish", "deprecate schema versions")
        if version.status != VersionStatus.PUBLISHED:
            return None  # refused by the service with its reason
        plans = version.plans.count()
        return Consequence(
            title=f"Deprecate {version.schema.name} {version.number}?",
            lines=(
                f"Marks {version.number} as deprecated: new tracking plans should not use it.",
                f"{count_of(plans, 'tracking plan')} that hold it keep validating against it.",
            ),
            button="Deprecate",
            danger=False,
        )

    def act(self, request, pk, version_pk):
        version = services.version_deprecate(
            actor=request.user, version=self.version(request, pk, version_pk)
        )
        return reverse("schemas:version_detail", args=[pk, version_pk]), f"{version} deprecated."


class VersionDiscardView(_VersionAction):
    def consequence(self, request, pk, version_pk):
        version = self.version(request, pk, version_pk)
        require(request.user, "schemas.edit", "discard schema drafts")
        if not version.is_draft:
            return None  # refused by the service with its reason
        lines = [f"Deletes this draft of {version.schema.name} and its fields."]
        if not version.schema.versions.exclude(pk=version.pk).exists():
            lines.append(f"It is the only version: the schema {version.schema.name} goes too.")
        return Consequence(
            title=f"Discard this draft of {version.schema.name}?",
            lines=tuple(lines),
            button="Discard",
            final=True,
        )

    def act(self, request, pk, version_pk):
        schema = services.draft_discard(
            actor=request.user, version=self.version(request, pk, version_pk)
        )
        if schema.pk is None:
            return reverse("schemas:schema_list"), f"{schema.name} discarded."
        return reverse("schemas:schema_detail", args=[pk]), "Draft discarded."


# --- Tracking plans ----------------------------------------------------------------------


class PlanListView(FilteredListView):
    template_name = "schemas/plan_list.html"
    partial_template_name = "schemas/_plan_table.html"
    filterset_class = PlanFilter
    sortable = {
        "name": "name",
        "events": "event_count",
        "revision": "revision",
        "updated": "updated_at",
    }
    default_sort = "name"

    def get_queryset(self):
        require(self.request.user, "schemas.view", "see tracking plans")
        queryset = selectors.plan_list(user=self.request.user)
        return PlanFilter(self.request.GET, queryset=queryset).qs.order_by("name")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "can_edit": user_can(self.request.user, "schemas.edit"),
            "import_form": ImportForm(),
        }


class PlanDetailView(LoginRequiredMixin, TemplateView):
    template_name = "schemas/plan_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        plan = selectors.plan_get(user=user, pk=self.kwargs["pk"])
        versions = list(selectors.plan_contents(plan))
        for version in versions:
            latest = selectors.latest_published(version.schema)
            version.newer = latest if latest and latest.pk != version.pk else None
        return {
            **super().get_context_data(**kwargs),
            "plan": plan,
            "versions": versions,
            "can_edit": user_can(user, "schemas.edit"),
        }


class PlanFormView(ServiceFormView):
    form_class = PlanForm
    capability = "schemas.edit"
    template_name = "schemas/plan_form.html"
    pretitle = "Data · Tracking plans"

    def load_object(self):
        self.plan = None
        if "pk" in self.kwargs:
            self.plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        self.title = f"Edit {self.plan.name}" if self.plan else "New tracking plan"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "plan": self.plan}

    def get_initial(self):
        return {"name": self.plan.name, "description": self.plan.description} if self.plan else {}

    def perform(self, form):
        data = form.cleaned_data
        versions = list(
            selectors.version_list(user=self.request.user).filter(pk__in=form.chosen_versions())
        )
        if self.plan is None:
            plan = services.plan_create(
                actor=self.request.user,
                name=data["name"],
                description=data["description"],
                versions=versions,
            )
        else:
            plan = services.plan_update(
                actor=self.request.user,
                plan=self.plan,
                name=data["name"],
                description=data["description"],
                versions=versions,
            )
        return reverse("schemas:plan_detail", args=[plan.pk])

    def cancel_url(self):
        return (
            reverse("schemas:plan_detail", args=[self.plan.pk])
            if self.plan
            else reverse("schemas:plan_list")
        )


class PlanExportView(LoginRequiredMixin, View):
    def get(self, request, pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        response = HttpResponse(bundle.export_plan(plan), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="tracking-plan-{plan.pk}.zip"'
        return response


class PlanImportView(ActionView):
    def fallback_url(self, request):
        return reverse("schemas:plan_list")

    def act(self, request):
        require(request.user, "schemas.edit", "import tracking plans")
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            name, errors = next(iter(form.errors.items()))
            raise ApplicationError(f"{name}: {errors[0]}")
        result = bundle.import_plan(
            actor=request.user, upload=form.cleaned_data["file"], name=form.cleaned_data["name"]
        )
        return (
            reverse("schemas:plan_detail", args=[result["plan"].pk]),
            "Imported: " + "; ".join(result["report"]) if result["report"] else "Imported.",
        )


# --- Violations and drift ----------------------------------------------------------------


class ViolationsView(FilteredListView):
    template_name = "schemas/violations.html"
    partial_template_name = "schemas/_violation_table.html"
    filterset_class = ViolationFilter
    paginate_by = 20
    sortable = {
        "when": "occurred_at",
        "source": "source",
        "event": "event_name",
        "kind": "kind",
    }
    default_sort = "-when"

    def get_queryset(self):
        require(self.request.user, "schemas.view", "see violations")
        return ViolationFilter(
            self.request.GET, queryset=selectors.violation_list(user=self.request.user)
        ).qs

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        counts = selectors.violation_counts(user=user)
        labels = dict(ViolationKind.choices)
        context["chart"] = {
            "labels": counts["labels"],
            "series": [
                {"label": labels.get(k, k), "data": v} for k, v in sorted(counts["series"].items())
            ],
        }
        context["summary"] = selectors.violation_summary(
            user=user, since=timezone.now() - dt.timedelta(days=14)
        )[:30]
        for row in context["summary"]:
            row["kind_label"] = labels.get(row["kind"], row["kind"])
        observations = selectors.observation_list(user=user)
        # Pairs built here: a property may be called "items", which templates would misread.
        context["unplanned_events"] = [
            (o, sorted(o.example_properties.items())) for o in observations.filter(property="")[:20]
        ]
        context["unplanned_properties"] = [
            (o, sorted(o.types.items())) for o in observations.exclude(property="")[:30]
        ]
        context["can_edit"] = user_can(user, "schemas.edit")
        return context


class ObservationDraftView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("schemas:violations")

    def act(self, request, pk):
        observation = selectors.observation_get(user=request.user, pk=pk)
        draft = services.draft_from_observation(actor=request.user, observation=observation)
        return (
            reverse("schemas:version_edit", args=[draft.schema_id, draft.pk]),
            f"Draft of {draft.schema.name} with {observation.property or 'what was observed'}: "
            "give each property a purpose, then publish.",
        )
