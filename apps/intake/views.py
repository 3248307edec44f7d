"""Browser views of the intake: the board, the list, and a request's page by stage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import TemplateView

from apps.access.rules import user_can
from apps.intake.errors import IntakeErrorCode
from apps.tools.choices import ToolCapability
from martech.common.errors import ApplicationError
from martech.common.views import ActionView, Consequence, FilteredListView, ServiceFormView

from . import selectors, services
from .choices import STAGE_ORDER, Part, Stage, Verdict
from .filters import IntakeFilter
from .forms import (
    CandidateForm,
    CommentForm,
    DeferForm,
    NoteForm,
    ProblemForm,
    StakeholderForm,
    SystemForm,
    TaskForm,
)
from .models import Candidate, OnboardingTask, Stakeholder


def _detail(request_obj) -> str:
    return reverse("intake:request_detail", args=[request_obj.pk])


def _valid(form) -> dict:
    """The cleaned data, or every error at once as a service error (shown as a message)."""
    if form.is_valid():
        return form.cleaned_data
    problems = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ").capitalize()) if field else ""
        problems += [f"{label + ': ' if label else ''}{error}" for error in errors]
    raise ApplicationError(" ".join(problems), code=IntakeErrorCode.INVALID)


class BoardView(LoginRequiredMixin, TemplateView):
    template_name = "intake/board.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        filters = IntakeFilter(self.request.GET)
        columns = selectors.intake_board(user=user, filters=self.request.GET)
        return {
            **super().get_context_data(**kwargs),
            "columns": columns,
            "filter_form": filters.form,
            "filter_errors": filters.errors if not filters.is_valid() else None,
            "total": sum(c.total for c in columns),
            "can_submit": user_can(user, "intake.submit"),
        }


class RequestListView(FilteredListView):
    template_name = "intake/request_list.html"
    partial_template_name = "intake/_request_table.html"
    filterset_class = IntakeFilter
    sortable = {
        "title": "title",
        "stage": "stage",
        "requester": "requester__full_name",
        "stakeholders": "stakeholder_count",
        "started": "created_at",
    }
    default_sort = "-started"

    def get_queryset(self):
        return selectors.intake_list(user=self.request.user, filters=self.request.GET)


class RequestCreateView(ServiceFormView):
    form_class = ProblemForm
    capability = "intake.submit"
    title = "New intake request"
    pretitle = "Intake · Problem"
    submit_label = "Start the request"

    def get_initial(self):
        return {"team": self.request.user.team, "cost_currency": "USD"}

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "help_text": (
                "Start with the problem, not the tool. People and System come next; a tool "
                "can only be named once the problem and the people are clear."
            ),
        }

    def perform(self, form):
        request_obj = services.intake_create(actor=self.request.user, **form.cleaned_data)
        return _detail(request_obj)


class ProblemEditView(ServiceFormView):
    form_class = ProblemForm
    pretitle = "Intake · Problem"
    submit_label = "Save the problem"
    open_stages = (Stage.PROBLEM, Stage.PEOPLE, Stage.SYSTEM)
    fields = services.PROBLEM_FIELDS

    def load_object(self):
        self.object = selectors.intake_get(user=self.request.user, pk=self.kwargs["pk"])
        services.require_editor(self.request.user, self.object, "edit this request")
        self.title = f"#{self.object.pk} {self.object.title}"

    def get(self, request, *args, **kwargs):
        if self.object.stage not in self.open_stages:
            messages.error(request, f"This request is in {self.object.get_stage_display()}.")
            return redirect(_detail(self.object))
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        return {f: getattr(self.object, f) for f in self.fields}

    def cancel_url(self):
        return _detail(self.object)

    def perform(self, form):
        services.intake_update(actor=self.request.user, request=self.object, **form.cleaned_data)
        return _detail(self.object)


class SystemEditView(ProblemEditView):
    form_class = SystemForm
    pretitle = "Intake · System"
    submit_label = "Save the system"
    open_stages = (Stage.SYSTEM,)
    fields = services.SYSTEM_FIELDS


class RequestDetailView(LoginRequiredMixin, TemplateView):
    template_name = "intake/request_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        obj = selectors.intake_get(user=user, pk=kwargs["pk"])
        stakeholders = list(obj.stakeholders.select_related("person"))
        candidates = list(obj.candidates.select_related("tool"))
        votes = list(obj.votes.select_related("approver"))
        current_votes = {v.approver_id: v for v in votes if v.round == obj.round}
        approvers = [s for s in stakeholders if s.part == Part.APPROVER]
        is_approver = any(s.person_id == user.pk for s in approvers)
        labels = dict(ToolCapability.choices)
        can_edit = services.can_edit(user, obj)
        steps = [
            {
                "stage": stage,
                "label": Stage(stage).label,
                "done": obj.stage_index > i,
                "current": obj.stage == stage,
            }
            for i, stage in enumerate(STAGE_ORDER[:-1])
        ]
        return {
            **super().get_context_data(**kwargs),
            "req": obj,
            "steps": steps,
            "stakeholders": stakeholders,
            "approvers": [(s, current_votes.get(s.person_id)) for s in approvers],
            "candidates": candidates,
            "votes": votes,
            "capability_labels": [labels.get(c, c) for c in obj.proposed_capabilities],
            "overlap": selectors.intake_overlap(user=user, request=obj),
            "gaps": {
                "problem": services.problem_gaps(obj),
                "people": services.people_gaps(obj),
                "system": services.system_gaps(obj),
            },
            "history": obj.history.select_related("actor"),
            "tasks": list(obj.onboarding_tasks.select_related("done_by")),
            "can_edit": can_edit,
            "problem_open": can_edit and obj.stage in (Stage.PROBLEM, Stage.PEOPLE, Stage.SYSTEM),
            "people_open": can_edit and obj.stage in (Stage.PEOPLE, Stage.SYSTEM),
            "system_open": can_edit and obj.stage == Stage.SYSTEM,
            "can_vote": obj.stage == Stage.DECISION
            and is_approver
            and user.pk not in current_votes
            and user_can(user, "intake.decide"),
            "can_tick": services.can_tick(user, obj),
            "stakeholder_form": StakeholderForm(),
            "candidate_form": CandidateForm(initial={"currency": "USD"}),
            "comment_form": CommentForm(),
            "defer_form": DeferForm(),
            "note_form": NoteForm(),
            "Stage": Stage,
        }


# --- Actions ------------------------------------------------------------------------------


class RequestAction(ActionView):
    """An action on one request the user can see (404 otherwise)."""

    def get_request(self, request, pk):
        return selectors.intake_get(user=request.user, pk=pk)

    def fallback_url(self, request, **kwargs):
        return reverse("intake:request_detail", args=[kwargs["pk"]])


class AdvanceView(RequestAction):
    def act(self, request, pk):
        obj = services.intake_advance(actor=request.user, request=self.get_request(request, pk))
        return _detail(obj), f"Moved to {obj.get_stage_display()}."


class WithdrawView(RequestAction):
    def consequence(self, request, pk):
        obj = self.get_request(request, pk)
        if not obj.is_open or not services.can_edit(request.user, obj):
            return None  # refused by the service with its reason
        lines = ["The request closes for good: nobody decides on it and it cannot be reopened."]
        if obj.requester_id != request.user.pk:
            if not request.POST.get("note", "").strip():
                return None  # refused by the service: a reason is needed
            requester = obj.requester.full_name or obj.requester.email
            lines.append(f"{requester} is told, with your reason.")
        return Consequence(
            title=f"Withdraw “{obj.title}”?",
            lines=tuple(lines),
            button="Withdraw",
            final=True,
        )

    def act(self, request, pk):
        note = _valid(NoteForm(request.POST))["note"]
        obj = services.intake_withdraw(
            actor=request.user, request=self.get_request(request, pk), note=note
        )
        return _detail(obj), "The request is withdrawn."


class VoteView(RequestAction):
    verdict = Verdict.APPROVE

    def act(self, request, pk):
        obj = self.get_request(request, pk)
        comment = _valid(CommentForm(request.POST))["comment"]
        services.intake_vote(actor=request.user, request=obj, verdict=self.verdict, comment=comment)
        obj.refresh_from_db()
        if obj.outcome == "approved":
            return _detail(obj), f"Approved. {obj.tool.name} is in the registry as evaluating."
        return _detail(obj), "Your decision is recorded."


class RejectView(VoteView):
    verdict = Verdict.REJECT


class DeferView(RequestAction):
    def act(self, request, pk):
        data = _valid(DeferForm(request.POST))
        obj = services.intake_defer(
            actor=request.user, request=self.get_request(request, pk), **data
        )
        return _detail(obj), f"Deferred until {obj.revisit_on:%Y-%m-%d}."


class ReopenView(RequestAction):
    def act(self, request, pk):
        obj = services.intake_reopen(actor=request.user, request=self.get_request(request, pk))
        return _detail(obj), "Reopened for a decision."


class StakeholderAddView(RequestAction):
    def act(self, request, pk):
        obj = self.get_request(request, pk)
        data = _valid(StakeholderForm(request.POST))
        s = services.stakeholder_add(actor=request.user, request=obj, **data)
        return _detail(obj), services.stakeholder_sentence(s)


class CandidateAddView(RequestAction):
    def act(self, request, pk):
        obj = self.get_request(request, pk)
        data = _valid(CandidateForm(request.POST))
        candidate = services.candidate_add(actor=request.user, request=obj, **data)
        return _detail(obj), f"{candidate.name} is a candidate."


class ChildAction(ActionView):
    """An action on a stakeholder, candidate or task of a request the user can see."""

    model = None

    def get_child(self, request, pk):
        child = get_object_or_404(self.model.objects.select_related("request"), pk=pk)
        selectors.intake_get(user=request.user, pk=child.request_id)  # 404 if hidden
        return child

    def fallback_url(self, request, **kwargs):
        child = self.model.objects.filter(pk=kwargs["pk"]).first()
        return _detail(child.request) if child else reverse("intake:board")


class StakeholderRemoveView(ChildAction):
    model = Stakeholder

    def consequence(self, request, pk):
        stakeholder = self.get_child(request, pk)
        if not services.can_edit(request.user, stakeholder.request):
            return None  # refused by the service with its reason
        part = stakeholder.get_part_display().lower()
        return Consequence(
            title=f"Remove {stakeholder.person.full_name} from “{stakeholder.request.title}”?",
            lines=(f"{stakeholder.person.full_name} is no longer named as {part}.",),
            button="Remove",
        )

    def act(self, request, pk):
        stakeholder = self.get_child(request, pk)
        services.stakeholder_remove(actor=request.user, stakeholder=stakeholder)
        return _detail(stakeholder.request), "Stakeholder removed."


class CandidatePreferView(ChildAction):
    model = Candidate

    def act(self, request, pk):
        candidate = self.get_child(request, pk)
        candidate = services.candidate_prefer(actor=request.user, candidate=candidate)
        return _detail(candidate.request), f"{candidate.name} is the preferred candidate."


class CandidateRemoveView(ChildAction):
    model = Candidate

    def consequence(self, request, pk):
        candidate = self.get_child(request, pk)
        if not services.can_edit(request.user, candidate.request):
            return None  # refused by the service with its reason
        lines = [f"{candidate.name} is no longer a candidate for “{candidate.request.title}”."]
        if candidate.preferred:
            successor = (
                candidate.request.candidates.exclude(pk=candidate.pk)
                .order_by("added_at", "id")
                .first()
            )
            lines.append(
                f"It is the preferred one; {successor.name} becomes preferred."
                if successor
                else "It is the only one: no candidate is left."
            )
        return Consequence(
            title=f"Remove the candidate {candidate.name}?",
            lines=tuple(lines),
            button="Remove",
        )

    def act(self, request, pk):
        candidate = self.get_child(request, pk)
        services.candidate_remove(actor=request.user, candidate=candidate)
        return _detail(candidate.request), f"{candidate.name} is no longer a candidate."


class TaskSetView(ChildAction):
    model = OnboardingTask

    def act(self, request, pk):
        task = self.get_child(request, pk)
        done = _valid(TaskForm(request.POST))["done"]
        services.onboarding_task_set(actor=request.user, task=task, done=done)
        return _detail(task.request), ""
