"""Browser views of the tool registry."""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from apps.audit.selectors import audit_history_for
from martech.common.errors import ApplicationError
from martech.common.exports import csv_response
from martech.common.views import FilteredListView, ServiceFormView

from . import selectors, services
from .advisor import Situation, advise
from .choices import ToolCapability
from .filters import ToolFilter
from .forms import AdvisorForm, ToolForm
from .inventory import COLUMNS, tools_export_rows, tools_import_csv
from .renewals import renewal_calendar
from .rules import tool_warnings


class ToolListView(FilteredListView):
    template_name = "tools/tool_list.html"
    partial_template_name = "tools/_tool_table.html"
    filterset_class = ToolFilter
    sortable = {
        "name": "name",
        "status": "status",
        "owner": "business_owner__full_name",
        "cost": "annual_cost",
        "seats": "seats_used",
        "renewal": "renewal_date",
    }
    default_sort = "name"

    def get_queryset(self):
        return selectors.tool_list(user=self.request.user, filters=self.request.GET)


class ToolDetailView(LoginRequiredMixin, TemplateView):
    template_name = "tools/tool_detail.html"

    def get_context_data(self, **kwargs):
        tool = selectors.tool_get(user=self.request.user, pk=kwargs["pk"])
        labels = dict(ToolCapability.choices)
        return {
            **super().get_context_data(**kwargs),
            "tool": tool,
            "capability_labels": [labels.get(c, c) for c in tool.capabilities],
            "warnings": tool_warnings({f: getattr(tool, f) for f in services.FIELDS}),
            "history": audit_history_for(user=self.request.user, target=tool),
            "can_manage": user_can(self.request.user, "tools.manage"),
        }


class ToolCreateView(ServiceFormView):
    form_class = ToolForm
    capability = "tools.manage"
    title = "Register a tool"
    pretitle = "Tools"
    submit_label = "Register tool"

    def perform(self, form):
        tool = services.tool_create(actor=self.request.user, **form.cleaned_data)
        return reverse("tools:tool_detail", args=[tool.pk])


class ToolEditView(ServiceFormView):
    form_class = ToolForm
    capability = "tools.manage"
    pretitle = "Tools"
    submit_label = "Save changes"

    def get_tool(self):
        return selectors.tool_get(user=self.request.user, pk=self.kwargs["pk"])

    load_object = get_tool

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tool_pk": self.kwargs["pk"]}

    def get_initial(self):
        tool = self.get_tool()
        self.title = f"Edit {tool.name}"
        return {f: getattr(tool, f) for f in services.FIELDS}

    def perform(self, form):
        tool = services.tool_update(
            actor=self.request.user, tool=self.get_tool(), **form.cleaned_data
        )
        return reverse("tools:tool_detail", args=[tool.pk])


class RedundancyView(LoginRequiredMixin, TemplateView):
    template_name = "tools/redundancy.html"

    def get_context_data(self, **kwargs):
        groups = selectors.redundancy_report(user=self.request.user)
        currencies = sorted({c for g in groups for c in g.annual_cost})
        chart = {
            "labels": [g.label for g in groups],
            "tools": [len(g.tools) for g in groups],
            # Costs in different currencies are not added up; chart them only if there is one.
            "cost": [float(sum(g.annual_cost.values())) for g in groups]
            if len(currencies) == 1
            else [],
            "currency": currencies[0] if len(currencies) == 1 else "",
        }
        return {**super().get_context_data(**kwargs), "groups": groups, "chart": chart}


class ToolExportView(LoginRequiredMixin, View):
    def get(self, request):
        rows = tools_export_rows(user=request.user)
        return csv_response(f"tools-{timezone.localdate().isoformat()}.csv", rows)


class InventoryForm(forms.Form):
    file = forms.FileField(
        required=False, help_text="A CSV file with a header row (see the columns below)."
    )
    text = forms.CharField(
        label="Or paste CSV", required=False, widget=forms.Textarea(attrs={"rows": 6})
    )

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > 2 * 1024 * 1024:
                raise forms.ValidationError("The file is larger than 2 MB.")
            try:
                data["csv"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise forms.ValidationError("The file is not UTF-8 text.") from exc
        elif data.get("text", "").strip():
            data["csv"] = data["text"]
        else:
            raise forms.ValidationError("Choose a file or paste CSV.")
        return data


class ToolImportView(LoginRequiredMixin, View):
    template_name = "tools/tool_import.html"

    def _render(self, request, form, report=None, status=200):
        context = {"form": form, "report": report, "columns": COLUMNS}
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        require(request.user, "tools.manage", "import an inventory")
        return self._render(request, InventoryForm())

    def post(self, request):
        require(request.user, "tools.manage", "import an inventory")
        form = InventoryForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, form, status=400)
        try:
            report = tools_import_csv(actor=request.user, text=form.cleaned_data["csv"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            return self._render(request, form, status=400)
        return self._render(request, InventoryForm(), report, status=200 if report.ok else 400)


class RenewalsView(LoginRequiredMixin, TemplateView):
    template_name = "tools/renewals.html"

    def get_context_data(self, **kwargs):
        from itertools import groupby

        entries = renewal_calendar(user=self.request.user)
        months = [
            (month, list(items))
            for month, items in groupby(entries, key=lambda e: e.notice_deadline.replace(day=1))
        ]
        return {**super().get_context_data(**kwargs), "months": months, "count": len(entries)}


class AdvisorView(LoginRequiredMixin, TemplateView):
    """Recommend a data-layer pattern from the company's situation, against today's stack."""

    template_name = "tools/advisor.html"

    def get_context_data(self, **kwargs):
        require(self.request.user, "tools.view", "use the architecture advisor")
        form = AdvisorForm(self.request.GET or None)
        advice = advise(Situation(**form.cleaned_data)) if form.is_valid() else None
        return {**super().get_context_data(**kwargs), "form": form, "advice": advice}
