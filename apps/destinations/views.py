"""Browser views of destinations, dead letters and the sandbox inbox."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.urls import reverse
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from apps.consent.selectors import purpose_name_map, purpose_names
from apps.destinations.errors import DestinationsErrorCode
from martech.common.errors import ApplicationError
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import selectors, services
from .adapters import CATALOG
from .adapters.warehouse import DEFAULT_SCHEMA
from .choices import Sends
from .filters import DeadLetterFilter, DeliveryFilter, DestinationFilter
from .forms import DestinationForm


class DestinationListView(FilteredListView):
    template_name = "destinations/destination_list.html"
    partial_template_name = "destinations/_destination_table.html"
    filterset_class = DestinationFilter
    sortable = {
        "name": "name",
        "adapter": "adapter",
        "environment": "environment",
        "delivered": "delivered_24h",
        "dead": "dead_24h",
        "waiting": "pending_now",
        "last_error": "last_error_at",
    }
    default_sort = "name"

    def get_queryset(self):
        require(self.request.user, "destinations.view", "see destinations")
        queryset = selectors.destination_list(user=self.request.user)
        return DestinationFilter(
            self.request.GET, queryset=queryset, request=self.request
        ).qs.order_by("name")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        destinations = selectors.vendor_text_hide(user, context["object_list"])
        named = purpose_name_map()
        for d in destinations:
            d.required_named = purpose_names(d.required_purposes, named=named)
        return {
            **context,
            "object_list": destinations,
            "catalog": selectors.adapter_catalog(),
            "can_manage": user_can(user, "destinations.manage"),
        }


def _initial(d) -> dict:
    """The form's values for destination ``d``: its configuration in the vendor's fields, and
    in the JSON configuration only what those fields do not show (credentials never)."""
    shown = {
        prop: name
        for name, prop, spec in DestinationForm.settings_fields_of(d.adapter)
        if spec is not None
    }
    rest = {k: v for k, v in d.config.items() if k not in shown}
    return {
        "name": d.name,
        "adapter": d.adapter,
        "tool": d.tool_id,
        "environment": d.environment,
        "description": d.description,
        "sends": d.sends,
        "purposes": d.purposes,
        "event_names": "\n".join(d.event_names),
        "mappings": "\n".join(f"{m['from']} -> {m['to']}" for m in d.mappings),
        "config": json.dumps(rest, indent=2) if rest else "{}",
        "base_url": d.base_url,
        "is_enabled": d.is_enabled,
        **{shown[k]: v for k, v in d.config.items() if k in shown},
    }


class DestinationCreateView(ServiceFormView):
    form_class = DestinationForm
    template_name = "destinations/destination_form.html"
    capability = "destinations.manage"
    title = "New destination"
    pretitle = "Data · Destinations"
    submit_label = "Create destination"

    def get_initial(self):
        return {"environment": "sandbox", "sends": "events", "config": "{}"}

    def perform(self, form):
        destination = services.destination_create(actor=self.request.user, **form.service_data())
        return reverse("destinations:destination_detail", args=[destination.pk])

    def cancel_url(self):
        return reverse("destinations:destination_list")


class DestinationEditView(ServiceFormView):
    form_class = DestinationForm
    template_name = "destinations/destination_form.html"
    capability = "destinations.manage"
    title = "Edit destination"
    pretitle = "Data · Destinations"

    def load_object(self):
        self.destination = selectors.destination_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_initial(self):
        return _initial(self.destination)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "destination": self.destination}

    def perform(self, form):
        data = form.service_data()
        services.destination_update(actor=self.request.user, destination=self.destination, **data)
        return reverse("destinations:destination_detail", args=[self.destination.pk])

    def cancel_url(self):
        return reverse("destinations:destination_detail", args=[self.destination.pk])


def _detail_context(user, pk) -> dict:
    destination = selectors.destination_get(user=user, pk=pk)
    selectors.vendor_text_hide(user, [destination])
    adapter = CATALOG.get(destination.adapter)
    return {
        "destination": destination,
        "adapter": adapter,
        "config": json.dumps(destination.config, indent=2, sort_keys=True),
        "missing_credentials": [
            f for f in adapter.credential_fields if f not in destination.credentials_set
        ]
        if adapter
        else [],
        "health": selectors.health(destination),
        "rate": adapter.rate_for(destination.config) if adapter else 0,
        "deliveries": selectors.vendor_text_hide(user, selectors.recent_deliveries(destination)),
        "loads": selectors.recent_loads(destination)
        if adapter and adapter.loads_in_batches
        else [],
        "load_warehouse": selectors.load_warehouse(destination)
        if adapter and adapter.loads_in_batches
        else None,
        "publication": selectors.warehouse_publication(destination)
        if adapter and adapter.loads_in_batches
        else None,
        "can_manage": user_can(user, "destinations.manage"),
        "can_production": user_can(user, "destinations.send_production"),
        "required_named": purpose_names(destination.required_purposes),
        "fixed_named": purpose_names(destination.fixed_purposes),
    }


class DestinationDetailView(LoginRequiredMixin, TemplateView):
    template_name = "destinations/destination_detail.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            **_detail_context(self.request.user, self.kwargs["pk"]),
        }


class DestinationTestView(ActionView):
    """Send test: capture the sample requests in the sandbox inbox; with ``send=1`` also
    send them to the vendor and show its answers on the destination's page. Sending for
    real to a production destination is confirmed first."""

    def fallback_url(self, request, pk):
        return reverse("destinations:destination_detail", args=[pk])

    def consequence(self, request, pk):
        if request.POST.get("send") != "1":
            return None  # a preview only fills the sandbox inbox
        destination = selectors.destination_get(user=request.user, pk=pk)
        if not destination.is_production:
            return None
        require(request.user, "destinations.manage", "send tests")
        require(
            request.user,
            "destinations.send_production",
            "send a test to a production destination",
        )
        requests = services.send_test_requests(destination=destination)
        hosts = sorted({urlsplit(r.url).hostname or r.url for r in requests})
        what = "test profile" if destination.sends == Sends.PROFILES else "test event"
        where = destination.name_with_environment
        return Consequence(
            title=f"Send a test to {destination.name}?",
            lines=(
                f"Sends {count_of(1, what)} to {where}.",
                f"{count_of(len(requests), 'request')} to {', '.join(hosts)}; the vendor "
                "treats it like a real one and shows its answer here.",
            ),
            button=f"Send to {destination.name}",
            final=True,
        )

    def act(self, request, pk):
        destination = selectors.destination_get(user=request.user, pk=pk)
        if request.POST.get("send") == "1":
            captures, answers = services.send_test(
                actor=request.user, destination=destination, send=True
            )
            context = _detail_context(request.user, pk)
            context.update(
                test_answers=answers,
                test_captures=captures,
                inbox_url=reverse("destinations:inbox") + f"?destination={pk}",
            )
            return render(request, "destinations/destination_detail.html", context)
        captures = services.send_test(actor=request.user, destination=destination)
        url = reverse("destinations:inbox") + f"?destination={destination.pk}"
        return url, f"{len(captures)} request{'s' if len(captures) != 1 else ''} captured."


class DestinationToggleView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("destinations:destination_detail", args=[pk])

    def consequence(self, request, pk):
        destination = selectors.destination_get(user=request.user, pk=pk)
        require(request.user, "destinations.manage", "change destinations")
        if destination.is_production:
            require(
                request.user,
                "destinations.send_production",
                "change destinations (a production destination)",
            )
        where = destination.name_with_environment
        if destination.is_enabled:
            return Consequence(
                title=f"Disable {destination.name}?",
                lines=(f"Stops routing new events to {where}.",),
                button="Disable",
            )
        return Consequence(
            title=f"Enable {destination.name}?",
            lines=(
                f"Routes new events to {where} from now on, for the people whose consent "
                "allows it.",
            ),
            button="Enable",
            danger=destination.is_production,
        )

    def act(self, request, pk):
        destination = selectors.destination_get(user=request.user, pk=pk)
        enable = not destination.is_enabled
        services.destination_update(actor=request.user, destination=destination, is_enabled=enable)
        word = "enabled: events are routed here" if enable else "disabled"
        return reverse("destinations:destination_detail", args=[pk]), f"{destination} {word}."


class DestinationLoadView(ActionView):
    """Load now: a warehouse destination's next load starts at once."""

    def fallback_url(self, request, pk):
        return reverse("destinations:destination_detail", args=[pk])

    def consequence(self, request, pk):
        destination = selectors.destination_get(user=request.user, pk=pk)
        if not destination.is_production:
            return None
        require(request.user, "destinations.manage", "load a warehouse")
        require(
            request.user,
            "destinations.send_production",
            "load a warehouse (a production destination)",
        )
        return Consequence(
            title=f"Load {destination.name} now?",
            lines=(
                f"Loads the events that arrived since the last load into "
                f"{destination.name_with_environment}, for the people whose consent allows it.",
            ),
            button="Load now",
        )

    def act(self, request, pk):
        destination = selectors.destination_get(user=request.user, pk=pk)
        services.warehouse_load_now(actor=request.user, destination=destination)
        return (
            reverse("destinations:destination_detail", args=[pk]),
            "Load started: it shows below when it ends.",
        )


class DestinationHashKeyView(ActionView):
    """A warehouse destination's hash key for ``deleted_users``, shown once on a page of its
    own (destinations.manage)."""

    def fallback_url(self, request, pk):
        return reverse("destinations:destination_detail", args=[pk])

    def act(self, request, pk):
        destination = selectors.destination_get(user=request.user, pk=pk)
        key = services.warehouse_key_show(actor=request.user, destination=destination)
        schema = (destination.config or {}).get("schema") or DEFAULT_SCHEMA
        response = render(
            request,
            "destinations/hash_key.html",
            {"destination": destination, "key": key, "schema": schema},
        )
        response["Cache-Control"] = "no-store"
        return response


DELIVERY_SORTABLE = {
    "id": "id",
    "event": ("event_name", "message_id"),
    "destination": "destination__name",
    "status": "status",
    "attempts": "attempts",
    "vendor": "response_code",
    "when": Coalesce("last_attempt_at", "created_at"),
}


class DeadLetterListView(FilteredListView):
    template_name = "destinations/dead_letters.html"
    partial_template_name = "destinations/_dead_letter_table.html"
    filterset_class = DeadLetterFilter
    paginate_by = 50
    sortable = DELIVERY_SORTABLE
    default_sort = "-id"

    def get_queryset(self):
        require(self.request.user, "destinations.view", "see dead letters")
        queryset = selectors.dead_letter_list(user=self.request.user)
        return DeadLetterFilter(
            self.request.GET, queryset=queryset, request=self.request
        ).qs.order_by("-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = selectors.vendor_text_hide(
            self.request.user, context["object_list"]
        )
        context["can_replay"] = user_can(self.request.user, "destinations.replay")
        context["total"] = self.get_queryset().count()
        return context


class DeliveryListView(FilteredListView):
    template_name = "destinations/delivery_list.html"
    partial_template_name = "destinations/_delivery_table.html"
    filterset_class = DeliveryFilter
    paginate_by = 50
    sortable = DELIVERY_SORTABLE
    default_sort = "-id"

    def get_queryset(self):
        require(self.request.user, "destinations.view", "see deliveries")
        queryset = selectors.delivery_list(user=self.request.user)
        return DeliveryFilter(
            self.request.GET, queryset=queryset, request=self.request
        ).qs.order_by("-id")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = selectors.vendor_text_hide(
            self.request.user, context["object_list"]
        )
        return context


class ReplayView(ActionView):
    """Replay the dead letters ticked on the page, or every one the filter shows; replays
    to a production destination are confirmed first."""

    http_method_names = ["get", "post"]  # the command palette's "Replay" links here

    def fallback_url(self, request):
        return reverse("destinations:dead_letters")

    def chosen(self, request):
        require(request.user, "destinations.replay", "replay dead letters")
        queryset = selectors.dead_letter_list(user=request.user)
        if request.POST.get("everything"):
            queryset = DeadLetterFilter(request.POST, queryset=queryset, request=request).qs
        else:
            ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
            if not ids:
                raise ApplicationError(
                    "Tick the dead letters to replay.", code=DestinationsErrorCode.NOTHING_CHOSEN
                )
            queryset = queryset.filter(pk__in=ids)
        return list(queryset.select_related("destination")[:10_000])

    def question(self, request):
        """A link asks about a sandbox too (its page replays at once): how many, to where."""
        return self.consequence(request, always=True)

    def consequence(self, request, always: bool = False):
        chosen = self.chosen(request)
        per_destination: dict = {}
        for delivery in chosen:
            per_destination.setdefault(delivery.destination, []).append(delivery)
        production = [d for d in per_destination if d.is_production]
        if always:
            if not chosen:
                raise ApplicationError(
                    "There are no dead letters to replay.",
                    code=DestinationsErrorCode.NOTHING_CHOSEN,
                )
            if production:
                require(
                    request.user,
                    "destinations.send_production",
                    "replay dead letters to a production destination",
                )
        elif not production or not user_can(request.user, "destinations.send_production"):
            return None  # sandboxes only, or refused by the service with its reason
        lines = [
            f"Sends {count_of(len(rows), 'delivery', 'deliveries')} again to "
            f"{destination.name_with_environment}."
            for destination, rows in sorted(per_destination.items(), key=lambda i: i[0].name)
        ]
        lines.append(
            "Consent and suppression are checked again first: a delivery no longer "
            "allowed is filtered, not sent."
        )
        letters = count_of(len(chosen), "dead letter")
        if len(per_destination) == 1:
            [destination] = per_destination
            title = f"Replay {letters} to {destination.name}?"
            button = f"Send to {destination.name}"
        else:  # the lines above say how many go where
            title = f"Replay {letters} to {count_of(len(per_destination), 'destination')}?"
            button = f"Replay {letters}"
        return Consequence(
            title=title,
            lines=tuple(lines),
            button=button,
            final=bool(production),
            danger=bool(production),
        )

    def act(self, request):
        chosen = self.chosen(request)
        counts = services.deliveries_replay(actor=request.user, deliveries=chosen)
        message = f"{counts['replayed']} sent again"
        if counts["filtered"]:
            message += f"; {counts['filtered']} filtered (consent or suppression changed)"
        return reverse("destinations:dead_letters"), message + "."


class InboxView(LoginRequiredMixin, TemplateView):
    template_name = "destinations/inbox.html"

    def get_context_data(self, **kwargs):
        from django.core.paginator import Paginator

        user = self.request.user
        require(user, "destinations.view", "see the sandbox inbox")
        captures = selectors.capture_list(user=user)
        chosen = self.request.GET.get("destination", "")
        if chosen.isdigit():
            captures = captures.filter(destination_id=int(chosen))
        page = Paginator(captures, 20).get_page(self.request.GET.get("page"))
        return {
            **super().get_context_data(**kwargs),
            "page_obj": page,
            "captures": [(c, _pretty(c.body)) for c in page.object_list],
            "destinations": selectors.destination_list(user=user),
            "chosen": chosen,
        }


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (json.JSONDecodeError, TypeError):
        return body
