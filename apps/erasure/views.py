"""Browser views of erasure: requests with their deadlines and progress, a request's tasks
and evidence, the evidence report (printable and CSV), and the actions."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from martech.common.exports import csv_response
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import selectors, services
from .filters import ErasureRequestFilter
from .forms import RequestForm
from .models import Decision, ErasureIdentifier, RequestStatus, TaskKind, TaskStatus
from .preview import approval_preview
from .templatetags.erasure_dates import day, moment


class RequestListView(FilteredListView):
    template_name = "erasure/request_list.html"
    partial_template_name = "erasure/_request_table.html"
    filterset_class = ErasureRequestFilter
    paginate_by = 50
    sortable = {
        "reference": "reference",
        "person": ("subject_type", "subject_masked"),
        "law": "jurisdiction",
        "received": ("received_on", "created_at"),
        "due": Coalesce("extended_deadline", "deadline"),
        "status": "status",
        "progress": ("tasks_finished", "task_count"),
    }

    @property
    def state(self) -> str:
        return self.request.GET.get("state") or "open"

    @property
    def default_sort(self) -> str:
        # Open requests by what falls due first; the others newest first.
        return "due" if self.state == "open" else "-received"

    def get_queryset(self):
        require(self.request.user, "erasure.view", "see erasure requests")
        requests = ErasureRequestFilter(
            self.request.GET, queryset=selectors.request_list(user=self.request.user)
        ).qs
        if self.state == "open":
            return requests.order_by(Coalesce("extended_deadline", "deadline"), "id")
        return requests.order_by("-received_on", "-created_at", "-id")

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "state": self.state,
            "stats": selectors.dashboard(),
            "can_request": user_can(self.request.user, "erasure.request"),
        }


class RequestCreateView(ServiceFormView):
    form_class = RequestForm
    capability = "erasure.request"
    title = "Log an erasure request"
    pretitle = "Privacy · Erasure"
    submit_label = "Log the request"

    def get_initial(self):
        initial = super().get_initial()
        if self.request.GET.get("identifier"):  # from the command palette
            initial["identifier"] = self.request.GET["identifier"][:400]
        return initial

    def perform(self, form):
        request = services.request_create(actor=self.request.user, **form.cleaned_data)
        return reverse("erasure:request_detail", args=[request.pk])

    def cancel_url(self):
        return reverse("erasure:request_list")


class RequestDetailView(LoginRequiredMixin, TemplateView):
    template_name = "erasure/request_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        request = selectors.request_get(user=user, pk=self.kwargs["pk"])
        tasks = list(request.tasks.select_related("assignee", "confirmed_by"))
        finished = sum(1 for t in tasks if t.is_finished)
        return {
            **super().get_context_data(**kwargs),
            "req": request,
            "tasks": tasks,
            "identifiers": request.identifiers.all(),
            "finished": finished,
            "percent": round(100 * finished / len(tasks)) if tasks else 0,
            "can_request": user_can(user, "erasure.request"),
            "can_approve": user_can(user, "erasure.approve"),
        }


def _in_order(tasks: list) -> list:
    """The tasks in the order they finished (the unfinished last), each with what it was
    sent and answered in the order it happened."""
    for task in tasks:
        task.entries = sorted(task.evidence or [], key=lambda e: str(e.get("at") or ""))
    return sorted(tasks, key=lambda t: (t.finished_at is None, t.finished_at or 0, t.pk))


class EvidenceView(RequestDetailView):
    """The evidence report for the privacy team, printable: the request's dates in the order
    they happened, then the tools in the order they finished."""

    template_name = "erasure/evidence.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        return {**context, "tasks": _in_order(context["tasks"]), "printed_at": timezone.now()}


class EvidenceCsvView(LoginRequiredMixin, TemplateView):
    def get(self, request, *args, **kwargs):
        req = selectors.request_get(user=request.user, pk=kwargs["pk"])
        rows = [
            [
                "request",
                "jurisdiction",
                "received_on",
                "deadline",
                "status",
                "verified_by",
                "verified_at",
                "approved_by",
                "approved_at",
                "completed_at",
                "kept_until",
            ],
            [
                req.reference,
                req.jurisdiction,
                day(req.received_on),
                day(req.due),
                req.status,
                req.verified_by.email if req.verified_by else "",
                moment(req.verified_at),
                req.approved_by.email if req.approved_by else "",
                moment(req.approved_at),
                moment(req.completed_at),
                day(req.retain_until),
            ],
            [],
            [
                "tool",
                "kind",
                "status",
                "attempts",
                "started_at",
                "finished_at",
                "receipt",
                "last_error",
                "confirmed_by",
                "confirmation",
                "reason",
            ],
        ]
        for t in _in_order(list(req.tasks.select_related("confirmed_by"))):
            rows.append(
                [
                    t.name,
                    t.kind,
                    t.status,
                    t.attempts,
                    moment(t.started_at),
                    moment(t.finished_at),
                    t.receipt,
                    t.last_error,
                    t.confirmed_by.email if t.confirmed_by else "",
                    t.confirmation,
                    t.reason,
                ]
            )
        if req.not_asked:
            rows += [[], ["destination_not_asked", "reason"]]
            rows += [[n.get("destination", ""), n.get("reason", "")] for n in req.not_asked]
        rows += [[], ["identifier_type", "keyed_hash", "origin", "decision"]]
        rows += [[i.type, i.value_hash, i.origin, i.state_label] for i in req.identifiers.all()]
        return csv_response(f"{req.reference}-evidence.csv", rows)


def _back(pk) -> str:
    return reverse("erasure:request_detail", args=[pk])


class RequestVerifyView(ActionView):
    def fallback_url(self, request, pk):
        return _back(pk)

    def act(self, request, pk):
        req = selectors.request_get(user=request.user, pk=pk)
        services.request_verify(actor=request.user, request=req, note=request.POST.get("note", ""))
        return _back(pk), "Verified: it can be approved now."


class RequestApproveView(ActionView):
    def fallback_url(self, request, pk):
        return _back(pk)

    def consequence(self, request, pk):
        req = selectors.request_get(user=request.user, pk=pk)
        require(request.user, "erasure.approve", "approve erasure")
        if req.status != RequestStatus.VERIFIED:
            return None  # refused by the service with its reason
        p = approval_preview(req)
        scrubbed = f" and scrubs {count_of(p.deliveries, 'delivery', 'deliveries')}"
        tools = []
        if p.api_tools:
            tools.append(
                f"sends deletion requests to {count_of(p.api_tools, 'tool')} by their deletion API"
            )
        if p.manual_tools:
            tools.append(f"asks the owners of {count_of(p.manual_tools, 'tool')} to erase by hand")
        lines = [
            f"Suppresses {count_of(p.identifiers, 'identifier')} of the person at once: "
            "nothing about them is collected, sent, replayed or synced again.",
            f"Erases {count_of(p.profiles, 'profile')} and {count_of(p.events, 'event')} "
            f"in the console{scrubbed if p.deliveries else ''}.",
            f"Then {' and '.join(tools)}."
            if tools
            else "No tool holds their data: no vendor is asked.",
        ]
        if p.possible_matches:
            lines.append(
                f"{count_of(p.possible_matches, 'possible match', 'possible matches')} "
                "(probabilistic links) then wait for your decision."
            )
        return Consequence(
            title=f"Erase the person of {req.reference} in {count_of(p.tools, 'tool')}?",
            lines=tuple(lines),
            button="Erase this person",
            final=True,
        )

    def act(self, request, pk):
        req = selectors.request_get(user=request.user, pk=pk)
        req = services.request_approve(actor=request.user, request=req)
        return _back(pk), (
            f"Approved: suppressed and erased here; {req.tasks.count()} tools to go."
        )


class RequestExtendView(ActionView):
    def fallback_url(self, request, pk):
        return _back(pk)

    def act(self, request, pk):
        req = selectors.request_get(user=request.user, pk=pk)
        req = services.request_extend(
            actor=request.user, request=req, reason=request.POST.get("reason", "")
        )
        return _back(pk), f"Deadline extended to {req.extended_deadline}."


class IdentifierDecideView(ActionView):
    def fallback_url(self, request, pk, identifier_pk):
        return _back(pk)

    def identifier(self, request, pk, identifier_pk) -> ErasureIdentifier:
        req = selectors.request_get(user=request.user, pk=pk)
        identifier = ErasureIdentifier.objects.filter(request=req, pk=identifier_pk).first()
        if identifier is None:
            from martech.common.errors import NotFoundError

            raise NotFoundError("No such identifier.")
        return identifier

    def consequence(self, request, pk, identifier_pk):
        identifier = self.identifier(request, pk, identifier_pk)
        if request.POST.get("include") != "yes" or not identifier.request.is_open:
            return None
        api = identifier.request.tasks.filter(kind=TaskKind.API).count()
        return Consequence(
            title=f"Erase {identifier.type}:{identifier.masked} as the same person?",
            lines=(
                "Suppresses it at once and erases what the console holds under it.",
                f"Sends deletion requests with it to {count_of(api, 'tool')} again.",
            ),
            button="Same person: erase",
            final=True,
        )

    def act(self, request, pk, identifier_pk):
        identifier = self.identifier(request, pk, identifier_pk)
        include = request.POST.get("include") == "yes"
        services.identifier_decide(actor=request.user, identifier=identifier, include=include)
        return _back(pk), "Included: erased too." if include else "Left out: not the same person."


class TaskDetailView(LoginRequiredMixin, TemplateView):
    """One tool's erasure: for the owner it is assigned to (who may not see erasure requests)
    what they need to erase the person there and confirm it, and nothing of the rest of the
    request (its notes, the other tools, possible matches)."""

    template_name = "erasure/task_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        task = selectors.task_get(user=user, pk=self.kwargs["pk"])
        mine = task.assignee_id == user.pk
        return {
            **super().get_context_data(**kwargs),
            "task": task,
            "req": task.request,
            "identifiers": task.request.identifiers.filter(decision=Decision.INCLUDED),
            "mine": mine,
            "can_confirm": task.status == TaskStatus.MANUAL
            and (
                mine
                or user_can(user, "erasure.approve")
                or (task.assignee_id is None and user_can(user, "erasure.request"))
            ),
            "can_view_request": user_can(user, "erasure.view"),
        }


def _after_task(user, task) -> str:
    """Back to the request's page, or to the task's for an owner who cannot see requests."""
    if user_can(user, "erasure.view"):
        return _back(task.request_id)
    return reverse("erasure:task_detail", args=[task.pk])


class _TaskAction(ActionView):
    def fallback_url(self, request, pk):
        return _after_task(request.user, selectors.task_get(user=request.user, pk=pk))


class TaskRetryView(_TaskAction):
    def act(self, request, pk):
        task = selectors.task_get(user=request.user, pk=pk)
        services.task_retry(actor=request.user, task=task)
        return _back(task.request_id), f"{task.name}: tried again."


class TaskConfirmView(_TaskAction):
    def act(self, request, pk):
        task = selectors.task_get(user=request.user, pk=pk)
        services.task_confirm(actor=request.user, task=task, note=request.POST.get("note", ""))
        return _after_task(request.user, task), f"{task.name}: confirmed erased."


class TaskNotApplicableView(_TaskAction):
    def act(self, request, pk):
        task = selectors.task_get(user=request.user, pk=pk)
        services.task_not_applicable(
            actor=request.user, task=task, reason=request.POST.get("reason", "")
        )
        return _back(task.request_id), f"{task.name}: marked not applicable."
