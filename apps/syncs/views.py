"""Browser views of warehouses and models."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.views.generic import TemplateView

from apps.accounts.access import require, user_can
from martech.common.errors import ApplicationError
from martech.common.views import ActionView, ServiceFormView

from . import selectors, services
from .engine import warehouse as engine
from .forms import ModelForm, WarehouseForm


class WarehouseListView(LoginRequiredMixin, TemplateView):
    template_name = "syncs/warehouse_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        require(user, "syncs.view", "see warehouses")
        return {**super().get_context_data(**kwargs),
                "warehouses": selectors.warehouse_list(user=user),
                "can_manage": user_can(user, "syncs.manage")}  # fmt: skip


class WarehouseCreateView(ServiceFormView):
    form_class = WarehouseForm
    capability = "syncs.manage"
    title = "Connect a warehouse"
    pretitle = "Data · Reverse ETL"
    submit_label = "Connect"

    def get_initial(self):
        return {"kind": "postgres", "statement_timeout": 30}

    def perform(self, form):
        warehouse = services.warehouse_create(actor=self.request.user, **form.cleaned_data)
        return reverse("syncs:warehouse_detail", args=[warehouse.pk])

    def cancel_url(self):
        return reverse("syncs:warehouse_list")


class WarehouseEditView(ServiceFormView):
    form_class = WarehouseForm
    capability = "syncs.manage"
    title = "Edit warehouse"
    pretitle = "Data · Reverse ETL"

    def load_object(self):
        self.warehouse = selectors.warehouse_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        w = self.warehouse
        return {"name": w.name, "kind": w.kind, "statement_timeout": w.statement_timeout,
                "description": w.description}  # fmt: skip

    def perform(self, form):
        services.warehouse_update(actor=self.request.user, warehouse=self.warehouse,
                                  **form.cleaned_data)  # fmt: skip
        return reverse("syncs:warehouse_detail", args=[self.warehouse.pk])

    def cancel_url(self):
        return reverse("syncs:warehouse_detail", args=[self.warehouse.pk])


class WarehouseDetailView(LoginRequiredMixin, TemplateView):
    template_name = "syncs/warehouse_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        warehouse = selectors.warehouse_get(user=user, pk=self.kwargs["pk"])
        return {**super().get_context_data(**kwargs), "warehouse": warehouse,
                "models": warehouse.models.all(),
                "can_manage": user_can(user, "syncs.manage")}  # fmt: skip


class WarehouseTestView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("syncs:warehouse_detail", args=[pk])

    def act(self, request, pk):
        warehouse = selectors.warehouse_get(user=request.user, pk=pk)
        ok, message = services.warehouse_test(actor=request.user, warehouse=warehouse)
        if not ok:
            raise ApplicationError(f"The connection failed: {message}", code="test_failed")
        return reverse("syncs:warehouse_detail", args=[pk]), f"Connected: {message}."


class ModelListView(LoginRequiredMixin, TemplateView):
    template_name = "syncs/model_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        require(user, "syncs.view", "see models")
        return {**super().get_context_data(**kwargs),
                "models": selectors.model_list(user=user),
                "can_manage": user_can(user, "syncs.manage")}  # fmt: skip


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
        return {"name": m.name, "warehouse": m.warehouse_id, "sql": m.sql,
                "primary_key": m.primary_key, "description": m.description}  # fmt: skip

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
        context = {**super().get_context_data(**kwargs), "model": model,
                   "can_manage": user_can(user, "syncs.manage")}  # fmt: skip
        try:
            context["preview"] = engine.preview(model.warehouse, model.sql)
            context["check"] = engine.check_key(model.warehouse, model.sql, model.primary_key)
        except ApplicationError as exc:
            context["error"] = exc.message
        return context
