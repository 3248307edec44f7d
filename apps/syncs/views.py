"""Browser views of warehouses and models."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from apps.syncs.errors import SyncsErrorCode
from martech.common.errors import ApplicationError
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import running, selectors, services
from .engine import warehouse as engine
from .filters import ModelFilter, SyncFilter, WarehouseFilter
from .forms import DbtManifestForm, ModelForm, SyncForm, WarehouseForm
from .models import RowOutcome, RunStatus
from .warehouses import activation, kinds


class WarehouseListView(FilteredListView):
    template_name = "syncs/warehouse_list.html"
    partial_template_name = "syncs/_warehouse_table.html"
    filterset_class = WarehouseFilter
    sortable = {
        "name": "name",
        "where": "display",
        "models": "model_count",
        "timeout": "statement_timeout",
        "last_test": "last_tested_at",
    }
    default_sort = "name"

    def get_queryset(self):
        require(self.request.user, "syncs.view", "see warehouses")
        queryset = selectors.warehouse_list(user=self.request.user)
        return WarehouseFilter(self.request.GET, queryset=queryset).qs.order_by("name")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "can_manage": user_can(self.request.user, "syncs.manage"),
            "warehouse_kinds": [label for _, label in kinds()],
        }


class _WarehouseFormView(ServiceFormView):
    form_class = WarehouseForm
    template_name = "syncs/warehouse_form.html"
    capability = "syncs.manage"
    pretitle = "Data · Reverse ETL"
    warehouse = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "warehouse": self.warehouse}

    def error_field(self, form, exc):
        return form.field_for(exc.details.get("field"))


class WarehouseCreateView(_WarehouseFormView):
    title = "Connect a warehouse"
    submit_label = "Connect"

    def get_initial(self):
        return {"kind": "postgres", "statement_timeout": 30}

    def perform(self, form):
        warehouse = services.warehouse_create(actor=self.request.user, **form.service_data())
        return reverse("syncs:warehouse_detail", args=[warehouse.pk])

    def cancel_url(self):
        return reverse("syncs:warehouse_list")


class WarehouseEditView(_WarehouseFormView):
    title = "Edit warehouse"

    def load_object(self):
        self.warehouse = selectors.warehouse_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        w = self.warehouse
        return {
            "name": w.name,
            "kind": w.kind,
            "statement_timeout": w.statement_timeout,
            "description": w.description,
        }

    def perform(self, form):
        services.warehouse_update(
            actor=self.request.user, warehouse=self.warehouse, **form.service_data()
        )
        return reverse("syncs:warehouse_detail", args=[self.warehouse.pk])

    def cancel_url(self):
        return reverse("syncs:warehouse_detail", args=[self.warehouse.pk])


class WarehouseDetailView(LoginRequiredMixin, TemplateView):
    template_name = "syncs/warehouse_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        warehouse = selectors.warehouse_get(user=user, pk=self.kwargs["pk"])
        views = None
        if warehouse.kind == "console":
            views = [
                (f"{activation.SCHEMA}.{name}", columns)
                for name, columns in activation.COLUMNS.items()
            ]
        return {
            **super().get_context_data(**kwargs),
            "warehouse": warehouse,
            "credentials_set": engine.credentials_set(warehouse),
            "models": warehouse.models.all(),
            "activation_views": views,
            "can_manage": user_can(user, "syncs.manage"),
        }


class WarehouseTestView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("syncs:warehouse_detail", args=[pk])

    def act(self, request, pk):
        warehouse = selectors.warehouse_get(user=request.user, pk=pk)
        ok, message = services.warehouse_test(actor=request.user, warehouse=warehouse)
        if not ok:
            raise ApplicationError(
                f"The connection failed: {message}", code=SyncsErrorCode.TEST_FAILED
            )
        return reverse("syncs:warehouse_detail", args=[pk]), f"Connected: {message}."


class ModelListView(FilteredListView):
    template_name = "syncs/model_list.html"
    partial_template_name = "syncs/_model_table.html"
    filterset_class = ModelFilter
    sortable = {
        "name": "name",
        "warehouse": ("warehouse__name", "name"),
        "primary_key": "primary_key",
        "owner": "owner__full_name",
        "changed": "updated_at",
    }
    default_sort = "name"

    def get_queryset(self):
        require(self.request.user, "syncs.view", "see models")
        queryset = selectors.model_list(user=self.request.user)
        return ModelFilter(self.request.GET, queryset=queryset).qs.order_by("name")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "can_manage": user_can(self.request.user, "syncs.manage"),
        }


class ModelCreateView(ServiceFormView):
    form_class = ModelForm
    capability = "syncs.manage"
    title = "New model"
    pretitle = "Data · Reverse ETL"
    submit_label = "Check and save"

    def perform(self, form):
        model = services.model_create(actor=self.request.user, **form.cleaned_data)
        return reverse("syncs:model_detail", args=[model.pk])

    def cancel_url(self):
        return reverse("syncs:model_list")


class ModelEditView(ServiceFormView):
    form_class = ModelForm
    capability = "syncs.manage"
    title = "Edit model"
    pretitle = "Data · Reverse ETL"
    submit_label = "Check and save"

    def load_object(self):
        self.model = selectors.model_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        m = self.model
        return {
            "name": m.name,
            "warehouse": m.warehouse_id,
            "sql": m.sql,
            "primary_key": m.primary_key,
            "description": m.description,
        }

    def perform(self, form):
        services.model_update(actor=self.request.user, model=self.model, **form.cleaned_data)
        return reverse("syncs:model_detail", args=[self.model.pk])

    def cancel_url(self):
        return reverse("syncs:model_detail", args=[self.model.pk])


class ModelDetailView(LoginRequiredMixin, TemplateView):
    """The model's SQL, a preview of its first rows with column types, and its key check."""

    template_name = "syncs/model_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        model = selectors.model_get(user=user, pk=self.kwargs["pk"])
        context = {
            **super().get_context_data(**kwargs),
            "model": model,
            "can_manage": user_can(user, "syncs.manage"),
            "can_run": user_can(user, "syncs.run"),
        }
        try:
            context["preview"] = engine.preview(model.warehouse, model.sql)
            context["check"] = engine.check_key(model.warehouse, model.sql, model.primary_key)
        except ApplicationError as exc:
            context["error"] = exc.message
        return context


# -- syncs -------------------------------------------------------------------------------


class SyncListView(FilteredListView):
    template_name = "syncs/sync_list.html"
    partial_template_name = "syncs/_sync_table.html"
    filterset_class = SyncFilter
    sortable = {
        "name": "name",
        "model": ("model__name", "destination__name"),
        "object": "object",
        "mode": "mode",
        "schedule": "schedule",
        "last_run": "last_run_at",
    }
    default_sort = "name"

    def get_queryset(self):
        require(self.request.user, "syncs.view", "see syncs")
        queryset = selectors.sync_list(user=self.request.user)
        return SyncFilter(self.request.GET, queryset=queryset, request=self.request).qs.order_by(
            "name"
        )

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "can_run": user_can(self.request.user, "syncs.run"),
        }


def _sync_initial(sync) -> dict:
    return {
        name: getattr(sync, name)
        for name in (
            "name",
            "object",
            "mode",
            "subject_column",
            "subject_type",
            "event_name",
            "audience_field",
            "schedule",
            "interval_minutes",
            "cron",
            "row_threshold",
            "failed_share_alert",
            "description",
        )
    } | {"model": sync.model_id, "destination": sync.destination_id}


class SyncCreateView(ServiceFormView):
    form_class = SyncForm
    capability = "syncs.run"
    title = "New sync"
    pretitle = "Data · Reverse ETL"
    submit_label = "Create and map fields"

    def get_initial(self):
        return {
            "mode": "upsert",
            "object": "contacts",
            "schedule": "manual",
            "subject_type": "email",
            "failed_share_alert": 5,
            "model": self.request.GET.get("model"),
        }

    def perform(self, form):
        sync = services.sync_create(actor=self.request.user, **form.cleaned_data)
        return reverse("syncs:sync_mappings", args=[sync.pk])

    def cancel_url(self):
        return reverse("syncs:sync_list")


class SyncEditView(ServiceFormView):
    form_class = SyncForm
    capability = "syncs.run"
    title = "Edit sync"
    pretitle = "Data · Reverse ETL"

    def load_object(self):
        self.sync = selectors.sync_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        return _sync_initial(self.sync)

    def perform(self, form):
        services.sync_update(actor=self.request.user, sync=self.sync, **form.cleaned_data)
        return reverse("syncs:sync_detail", args=[self.sync.pk])

    def cancel_url(self):
        return reverse("syncs:sync_detail", args=[self.sync.pk])


class SyncMappingsView(LoginRequiredMixin, TemplateView):
    """Field mappings: each row maps a model column to a field of the destination object,
    checked against what the destination's adapter accepts."""

    template_name = "syncs/sync_mappings.html"
    BLANK_ROWS = 3

    def _load(self):
        user = self.request.user
        self.sync = selectors.sync_get(user=user, pk=self.kwargs["pk"])
        require(user, "syncs.run", "change syncs")

    def get(self, request, *args, **kwargs):
        self._load()
        return self.render_to_response(self._context(self.sync.mappings))

    def post(self, request, *args, **kwargs):
        self._load()
        pairs = zip(request.POST.getlist("from"), request.POST.getlist("to"), strict=False)
        rules = [{"from": f, "to": t} for f, t in pairs]
        try:
            services.sync_update(actor=request.user, sync=self.sync, mappings=rules)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            return self.render_to_response(self._context(rules, error=exc.message), status=400)
        messages.success(request, "Mappings saved.")
        return redirect("syncs:sync_detail", pk=self.sync.pk)

    def _context(self, rules, error: str = "") -> dict:
        from apps.destinations import outbound

        adapter = outbound.adapter(self.sync.destination.adapter)
        rows = [r for r in rules if r.get("from") or r.get("to")]
        rows += [{"from": "", "to": ""}] * self.BLANK_ROWS
        return {
            "sync": self.sync,
            "rows": rows,
            "error": error,
            "adapter": adapter,
            "columns": [c["name"] for c in self.sync.model.columns],
        }


class SyncDetailView(LoginRequiredMixin, TemplateView):
    template_name = "syncs/sync_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        sync = selectors.sync_get(user=user, pk=self.kwargs["pk"])
        runs = list(sync.runs.select_related("requested_by", "approved_by")[:20])
        return {
            **super().get_context_data(**kwargs),
            "sync": sync,
            "runs": runs,
            "latest": runs[0] if runs else None,
            "chart": selectors.run_history(sync),
            "threshold": running.threshold_of(sync),
            "can_run": user_can(user, "syncs.run"),
        }


class SyncRunView(ActionView):
    dry_run = False

    def fallback_url(self, request, pk):
        return reverse("syncs:sync_detail", args=[pk])

    def act(self, request, pk):
        sync = selectors.sync_get(user=request.user, pk=pk)
        run = services.sync_run(actor=request.user, sync=sync, dry_run=self.dry_run)
        what = "Dry run" if self.dry_run else "Run"
        return reverse("syncs:run_detail", args=[run.pk]), f"{what} #{run.number} queued."


class SyncDryRunView(SyncRunView):
    http_method_names = ["get", "post"]  # the command palette's "Start dry run" links here
    dry_run = True

    def question(self, request, pk):
        sync = selectors.sync_get(user=request.user, pk=pk)
        require(request.user, "syncs.run", "run syncs")
        return Consequence(
            title=f"Start a dry run of {sync.name}?",
            lines=(
                f"Reads the model {sync.model.name} and works out what would be sent to "
                f"{sync.destination.name}; nothing is sent.",
                "The run's page counts the rows it would add, change or remove.",
            ),
            button="Start dry run",
            danger=False,
        )


class SyncPauseView(ActionView):
    paused = True

    def fallback_url(self, request, pk):
        return reverse("syncs:sync_detail", args=[pk])

    def act(self, request, pk):
        sync = selectors.sync_get(user=request.user, pk=pk)
        services.sync_pause(actor=request.user, sync=sync, paused=self.paused)
        return reverse("syncs:sync_detail", args=[pk]), (
            "Paused: no scheduled or manual runs." if self.paused else "Resumed."
        )


class SyncResumeView(SyncPauseView):
    paused = False


class RunDetailView(LoginRequiredMixin, TemplateView):
    """A run: live progress, counts, the dry run behind a held run, and per-row results."""

    template_name = "syncs/run_detail.html"

    def get_template_names(self):
        if self.request.headers.get("HX-Request"):
            return ["syncs/_run_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        user = self.request.user
        run = selectors.run_get(user=user, pk=self.kwargs["pk"])
        rows = run.row_results.all()
        outcome = self.request.GET.get("outcome", "")
        if outcome in RowOutcome.values:
            rows = rows.filter(outcome=outcome)
        page = Paginator(rows, 50).get_page(self.request.GET.get("page"))
        return {
            **super().get_context_data(**kwargs),
            "run": run,
            "page": page,
            "outcome": outcome,
            "outcomes": RowOutcome.choices,
            "can_run": user_can(user, "syncs.run"),
            "can_approve": user_can(user, "syncs.run_production"),
        }

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.request.headers.get("HX-Request") and not context["run"].is_active:
            response["HX-Refresh"] = "true"  # the run ended: show its counts and rows in full
        return response


class RunApproveView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("syncs:run_detail", args=[pk])

    def consequence(self, request, pk):
        run = selectors.run_get(user=request.user, pk=pk)
        require(request.user, "syncs.run_production", "approve runs into production destinations")
        if run.status != RunStatus.NEEDS_APPROVAL:
            return None  # refused by the service with its reason
        destination = run.sync.destination
        where = destination.name_with_environment
        planned = run.planned or {}
        added, changed = planned.get("added", 0), planned.get("changed", 0)
        removed = planned.get("removed", 0)
        if added + changed:
            lines = [
                f"Sends {count_of(added + changed, 'row')} to {where}: "
                f"{added:,} added, {changed:,} changed."
            ]
        else:
            lines = [f"Sends no rows to {where}: none is added or changed."]
        if removed:
            lines.append(f"Removes {count_of(removed, 'row')} from {where}.")
        lines.append(f"It was held because {run.approval_reason}.")
        sends = bool(added + changed + removed)  # nothing sent: nothing to undo
        return Consequence(
            title=f"Let run #{run.number} of {run.sync.name} go ahead?",
            lines=tuple(lines),
            button=f"Send to {destination.name}" if sends else "Go ahead",
            final=sends,
        )

    def act(self, request, pk):
        run = selectors.run_get(user=request.user, pk=pk)
        services.sync_run_approve(actor=request.user, run=run)
        return reverse("syncs:run_detail", args=[pk]), "Approved: the run goes ahead."


class RunCancelView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("syncs:run_detail", args=[pk])

    def act(self, request, pk):
        run = selectors.run_get(user=request.user, pk=pk)
        services.sync_run_cancel(actor=request.user, run=run)
        return reverse("syncs:run_detail", args=[pk]), "Run cancelled."


class WarehouseDbtView(ServiceFormView):
    """Import a dbt manifest for a warehouse, and make models from its dbt models."""

    form_class = DbtManifestForm
    template_name = "syncs/dbt_models.html"
    capability = "syncs.manage"
    title = "dbt models"
    pretitle = "Data · Reverse ETL"
    submit_label = "Import"

    def load_object(self):
        self.warehouse = selectors.warehouse_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        stored, entries = selectors.dbt_models(self.warehouse)
        return {
            **super().get_context_data(**kwargs),
            "warehouse": self.warehouse,
            "manifest": stored,
            "entries": entries,
        }

    def error_field(self, form, exc):
        return "manifest"

    def perform(self, form):
        stored = services.dbt_manifest_import(
            actor=self.request.user,
            warehouse=self.warehouse,
            manifest=form.cleaned_data["manifest"],
        )
        messages.success(self.request, f"Imported {len(stored.entries)} dbt models.")
        return reverse("syncs:warehouse_dbt", args=[self.warehouse.pk])

    def cancel_url(self):
        return reverse("syncs:warehouse_detail", args=[self.warehouse.pk])


class WarehouseDbtPickView(ActionView):
    """Make a model from one of the warehouse's dbt models."""

    def fallback_url(self, request, pk):
        return reverse("syncs:warehouse_dbt", args=[pk])

    def act(self, request, pk):
        warehouse = selectors.warehouse_get(user=request.user, pk=pk)
        model = services.model_from_dbt(
            actor=request.user,
            warehouse=warehouse,
            unique_id=request.POST.get("unique_id", ""),
            name=request.POST.get("name", ""),
            primary_key=request.POST.get("primary_key", ""),
        )
        return reverse("syncs:model_detail", args=[model.pk]), f"Model {model.name} made from dbt."
