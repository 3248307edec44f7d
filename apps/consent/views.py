"""Browser views of the consent ledger: lookup with history, recording, purposes."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from apps.identity.normalise import Ident, parse
from apps.identity.selectors import identifier_resolve
from martech.common.errors import ApplicationError
from martech.common.views import ActionView, FilteredListView, ServiceFormView

from . import selectors, services
from .choices import Source
from .filters import PurposeFilter
from .forms import LookupForm, PurposeForm, RecordForm


class LookupView(LoginRequiredMixin, TemplateView):
    template_name = "consent/lookup.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        require(user, "consent.view", "look up consent")
        form = LookupForm(self.request.GET or None)
        context = {"form": form, "state": None, "history": None}
        if form.is_valid():
            try:
                subject = identifier_resolve(form.cleaned_data["identifier"])
            except ApplicationError as exc:
                form.add_error("identifier", exc.message)
            else:
                context["state"] = selectors.consent_state(subject)
                context["history"] = list(selectors.consent_history(subject)[:200])
                context["record_form"] = RecordForm(
                    initial={
                        "identifier": str(subject),
                        "jurisdiction": context["state"].jurisdiction,
                    }
                )
        context["can_record"] = user_can(user, "consent.record")
        return {**super().get_context_data(**kwargs), **context}


class RecordView(ActionView):
    def fallback_url(self, request):
        return reverse("consent:lookup")

    def act(self, request):
        require(request.user, "consent.record", "record consent")
        form = RecordForm(request.POST)
        if not form.is_valid():
            name, errors = next(iter(form.errors.items()))
            raise ApplicationError(f"{name}: {errors[0]}")
        data = form.cleaned_data
        subject = parse(data["identifier"])
        services.consent_record(
            subject=subject,
            purpose=data["purpose"].code,
            granted=data["granted"],
            source=Source.CONSOLE,
            jurisdiction=data["jurisdiction"],
            notice_version=data["notice_version"],
            evidence={"note": data["note"]} if data["note"] else {},
            actor=request.user,
            via=f"person:{request.user.email}",
        )
        url = f"{reverse('consent:lookup')}?{urlencode({'identifier': str(subject)})}"
        verb = "granted" if data["granted"] else "denied"
        return url, f"Recorded: {data['purpose'].name} {verb} for {subject}."


class PurposeListView(FilteredListView):
    template_name = "consent/purpose_list.html"
    partial_template_name = "consent/_purpose_table.html"
    filterset_class = PurposeFilter
    default_sort = "name"
    sortable = {
        "name": "name",
        "basis": "legal_basis",
        "gdpr": "default_gdpr",
        "ccpa": "default_ccpa",
        "other": "default_other",
    }

    def get_queryset(self):
        queryset = selectors.purpose_list(user=self.request.user)
        return PurposeFilter(self.request.GET, queryset=queryset).qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.purpose_counts()
        rows = [(p, counts.get(p.pk, {"granted": 0, "denied": 0})) for p in context["object_list"]]
        return {
            **context,
            "rows": rows,
            "can_manage": user_can(self.request.user, "consent.manage_purposes"),
        }


class PurposeCreateView(ServiceFormView):
    form_class = PurposeForm
    capability = "consent.manage_purposes"
    title = "New purpose"
    pretitle = "Consent · Purposes"
    submit_label = "Add purpose"

    def perform(self, form):
        services.purpose_create(actor=self.request.user, **form.cleaned_data)
        return reverse("consent:purpose_list")


class PurposeEditView(ServiceFormView):
    form_class = PurposeForm
    capability = "consent.manage_purposes"
    pretitle = "Consent · Purposes"
    submit_label = "Save purpose"

    def load_object(self):
        self.object = selectors.purpose_get(user=self.request.user, pk=self.kwargs["pk"])
        self.title = f"Edit {self.object.name}"

    def get_initial(self):
        return {f: getattr(self.object, f) for f in services.PURPOSE_FIELDS}

    def cancel_url(self):
        return reverse("consent:purpose_list")

    def perform(self, form):
        services.purpose_update(actor=self.request.user, purpose=self.object, **form.cleaned_data)
        return reverse("consent:purpose_list")


def profile_panel(*, request, profile, identifier=None, **_) -> str:
    """The consent card on the identity app's profile page."""
    if identifier is None or not user_can(request.user, "consent.view"):
        return ""
    subject = Ident(identifier.type, identifier.value)
    return render_to_string(
        "consent/_profile_panel.html",
        {"state": selectors.consent_state(subject), "subject": subject},
        request=request,
    )
