"""Browser views of sources and their write keys."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from apps.destinations.selectors import routes_of_event
from martech.common.errors import ApplicationError
from martech.common.exports import csv_response
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import selectors, services
from .choices import EventStatus
from .filters import EventFilter, SourceFilter
from .forms import AttributionForm, RotateForm, SourceForm


class SourceListView(FilteredListView):
    template_name = "events/source_list.html"
    partial_template_name = "events/_source_table.html"
    filterset_class = SourceFilter
    sortable = {
        "name": "name",
        "environment": "environment",
        "plan": "plan__name",
        "enforcement": "enforcement",
        "keys": "key_count",
        "rate_limit": "rate_limit",
    }
    default_sort = "name"

    def get_queryset(self):
        require(self.request.user, "events.view", "see sources")
        queryset = selectors.source_list(user=self.request.user)
        return SourceFilter(self.request.GET, queryset=queryset).qs.order_by("name")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "can_manage": user_can(self.request.user, "events.manage_sources"),
            "can_see_plans": user_can(self.request.user, "schemas.view"),
        }


_ONCE = "events.write_key_once"


def _key_page(request, source, raw, title):
    """Keep a new raw write key for one showing and send the browser to it (so a reload
    does not send the form again)."""
    request.session[_ONCE] = {"source": source.pk, "raw": raw, "title": title}
    return redirect("events:key_shown", source.pk)


class KeyShownView(LoginRequiredMixin, TemplateView):
    """The only page that ever shows a raw write key: once, with ready-to-paste snippets."""

    template_name = "events/key_created.html"

    def get_context_data(self, **kwargs):
        source = selectors.source_get(user=self.request.user, pk=self.kwargs["pk"])
        once = self.request.session.get(_ONCE) or {}
        raw = None
        if once.get("source") == source.pk:
            raw = once["raw"]
            del self.request.session[_ONCE]
        collect = self.request.build_absolute_uri("/v1/batch")
        return {
            **super().get_context_data(**kwargs),
            "source": source,
            "raw": raw,
            "title": once.get("title") or "Write key",
            "collect_url": collect,
            "api_host": self.request.get_host() + "/v1",
        }


class SourceCreateView(ServiceFormView):
    form_class = SourceForm
    capability = "events.manage_sources"
    title = "New source"
    pretitle = "Data · Sources"
    submit_label = "Create and show the write key"

    def get_initial(self):
        return {"is_active": True, "enforcement": "allow", "rate_limit": 200}

    def form_valid(self, form):
        try:
            source, raw = services.source_create(actor=self.request.user, **form.cleaned_data)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        return _key_page(self.request, source, raw, "Source created")

    def cancel_url(self):
        return reverse("events:source_list")


class SourceEditView(ServiceFormView):
    form_class = SourceForm
    capability = "events.manage_sources"
    title = "Edit source"
    pretitle = "Data · Sources"

    def load_object(self):
        self.source = selectors.source_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        s = self.source
        return {
            "name": s.name,
            "kind": s.kind,
            "environment": s.environment,
            "description": s.description,
            "allowed_origins": "\n".join(s.allowed_origins),
            "plan": s.plan_id,
            "enforcement": s.enforcement,
            "rate_limit": s.rate_limit,
            "is_active": s.is_active,
        }

    def perform(self, form):
        services.source_update(actor=self.request.user, source=self.source, **form.cleaned_data)
        return reverse("events:source_detail", args=[self.source.pk])

    def cancel_url(self):
        return reverse("events:source_detail", args=[self.source.pk])


class SourceDetailView(LoginRequiredMixin, TemplateView):
    template_name = "events/source_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        source = selectors.source_get(user=user, pk=self.kwargs["pk"])
        counts = selectors.status_counts(source)
        return {
            **super().get_context_data(**kwargs),
            "source": source,
            "keys": list(source.write_keys.select_related("created_by")),
            "can_manage": user_can(user, "events.manage_sources"),
            "can_see_plans": user_can(user, "schemas.view"),
            "rotate_form": RotateForm(initial={"overlap_hours": services.default_overlap_hours()}),
            "collect_url": self.request.build_absolute_uri("/v1/batch"),
            "counts": counts,
            "status_rows": [(v, label, counts.get(v, 0)) for v, label in EventStatus.choices],
            "can_replay": user_can(user, "events.replay"),
        }


class KeyRotateView(LoginRequiredMixin, TemplateView):
    http_method_names = ["post"]

    def post(self, request, pk):
        source = selectors.source_get(user=request.user, pk=pk)
        require(request.user, "events.manage_sources", "rotate write keys")
        form = RotateForm(request.POST)
        if not form.is_valid():
            messages.error(request, "overlap_hours: " + form.errors["overlap_hours"][0])
            return redirect("events:source_detail", pk)
        _, raw = services.write_key_rotate(
            actor=request.user, source=source, overlap_hours=form.cleaned_data["overlap_hours"]
        )
        return _key_page(request, source, raw, "New write key")


class KeyRevokeView(ActionView):
    def fallback_url(self, request, pk, key_pk):
        return reverse("events:source_detail", args=[pk])

    def consequence(self, request, pk, key_pk):
        source = selectors.source_get(user=request.user, pk=pk)
        key = selectors.write_key_get(source=source, pk=key_pk)
        require(request.user, "events.manage_sources", "revoke write keys")
        if key.revoked_at is not None:
            return None  # refused by the service with its reason
        used = (
            f"It was last used {key.last_used_at:%Y-%m-%d %H:%M}."
            if key.last_used_at
            else "It has not been used."
        )
        return Consequence(
            title=f"Revoke the write key {key.prefix}… of {source.name}?",
            lines=(f"Anything sending events with it gets 401 at once. {used}",),
            button="Revoke",
            final=True,
        )

    def act(self, request, pk, key_pk):
        source = selectors.source_get(user=request.user, pk=pk)
        key = selectors.write_key_get(source=source, pk=key_pk)
        services.write_key_revoke(actor=request.user, key=key)
        return reverse("events:source_detail", args=[pk]), f"Write key {key.prefix}… revoked."


# --- Events ----------------------------------------------------------------------------------


class EventListView(FilteredListView):
    template_name = "events/event_list.html"
    partial_template_name = "events/_event_table.html"
    filterset_class = EventFilter
    paginate_by = 50
    sortable = {
        "received": "received_at",
        "source": "source__name",
        "call": ("type", "name"),
        "status": "status",
    }
    default_sort = "-received"

    def get_queryset(self):
        require(self.request.user, "events.view", "see events")
        queryset = selectors.event_list(user=self.request.user)
        return EventFilter(self.request.GET, queryset=queryset).qs.order_by("-received_at", "-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_replay"] = user_can(self.request.user, "events.replay")
        context["live"] = not self.request.GET.get("page")
        return context


class EventDetailView(LoginRequiredMixin, TemplateView):
    template_name = "events/event_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        event = selectors.event_get(user=user, pk=self.kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "event": event,
            "raw": json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True),
            "consent": _consent_named(event.consent),
            "can_replay": user_can(user, "events.replay"),
            "replayable": event.status in (EventStatus.QUARANTINED, EventStatus.FAILED),
            "show_routes": user_can(user, "destinations.view"),
            "routes": routes_of_event(user=user, event_id=event.pk),
        }


def _consent_named(consent) -> list[tuple[str, str, bool]]:
    """The event's consent snapshot as (purpose name, code, granted), in the purposes' order."""
    from apps.consent.models import Purpose

    if not isinstance(consent, dict) or not consent:
        return []
    known = {p.code: (p.position, p.name) for p in Purpose.objects.filter(code__in=list(consent))}
    ordered = sorted(consent, key=lambda code: (known.get(code, (10_000, code)), code))
    return [(known.get(c, (0, c))[1], c, bool(consent[c])) for c in ordered]


class EventReplayView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("events:event_detail", args=[pk])

    def act(self, request, pk):
        event = selectors.event_get(user=request.user, pk=pk)
        services.events_replay(actor=request.user, events=[event])
        return reverse("events:event_detail", args=[pk]), "Sent through the pipeline again."


class SourceReplayView(ActionView):
    """Replay every quarantined event of a source (after its plan or schemas were fixed)."""

    def fallback_url(self, request, pk):
        return reverse("events:source_detail", args=[pk])

    def consequence(self, request, pk):
        source = selectors.source_get(user=request.user, pk=pk)
        require(request.user, "events.replay", "replay events")
        waiting = source.events.filter(status=EventStatus.QUARANTINED).count()
        if not waiting:
            return None
        return Consequence(
            title=f"Replay {count_of(waiting, 'quarantined event')} of {source.name}?",
            lines=(
                "Each goes through the pipeline again: validated against the schemas as they "
                "are now, then routed to the destinations whose consent it meets.",
            ),
            button="Replay",
            danger=False,
        )

    def act(self, request, pk):
        source = selectors.source_get(user=request.user, pk=pk)
        waiting = list(source.events.filter(status=EventStatus.QUARANTINED).only("pk")[:10_000])
        count = services.events_replay(actor=request.user, events=waiting)
        return reverse("events:source_detail", args=[pk]), f"{count} events sent again."


class PipelineHealthView(LoginRequiredMixin, TemplateView):
    template_name = "events/health.html"

    def get_context_data(self, **kwargs):
        require(self.request.user, "events.view", "see the pipeline")
        return {
            **super().get_context_data(**kwargs),
            "health": selectors.pipeline_health(user=self.request.user),
            "can_replay": user_can(self.request.user, "events.replay"),
        }


class AttributionView(LoginRequiredMixin, TemplateView):
    """First touch against last touch by channel, campaign, network or source; CSV too."""

    template_name = "events/attribution.html"

    def get(self, request, *args, **kwargs):
        require(request.user, "events.view", "see attribution")
        today = timezone.localdate()
        data = {
            "start": today - dt.timedelta(days=29),
            "end": today,
            "dimension": "channel",
            **request.GET.dict(),
        }
        form = AttributionForm(data)
        rows = []
        if form.is_valid():
            rows = selectors.attribution_report(user=request.user, **form.cleaned_data)
            if request.GET.get("format") == "csv":
                header = [form.cleaned_data["dimension"], "first_touch", "last_touch"]
                return csv_response(
                    "attribution.csv",
                    [header, *([r["value"], r["first_touch"], r["last_touch"]] for r in rows)],
                )
        chart = {
            "labels": [r["value"] for r in rows[:15]],
            "first": [r["first_touch"] for r in rows[:15]],
            "last": [r["last_touch"] for r in rows[:15]],
        }
        status = 200 if form.is_valid() else 400
        return self.render_to_response(
            {"form": form, "rows": rows, "chart": chart, "query": request.GET.urlencode()},
            status=status,
        )
