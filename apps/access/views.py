"""Browser views of access: my access, a person's roles and trainings, roles, trainings,
requests, reviews."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView

from apps.accounts.selectors import user_get
from martech.common.errors import ApplicationError, NotFoundError
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import selectors
from . import services as svc
from .errors import AccessErrorCode
from .filters import (
    AccessRequestFilter,
    ReviewCampaignFilter,
    RoleFilter,
    TrainingFilter,
)
from .forms import (
    AccessRequestForm,
    AssignRoleForm,
    BirthrightRuleForm,
    CompletionForm,
    DecisionForm,
    ReviewCampaignForm,
    RoleCapabilityForm,
    RoleForm,
    TrainingForm,
)
from .models import AccessAssignment, AccessRequestStatus, BirthrightRule, RoleCapability
from .registry import capability_label, get_capability
from .rules import (
    assignments_with_start,
    capability_rule,
    explain,
    require,
    require_may_change_person,
    status_groups,
    upcoming_messages,
    user_can,
)

MANAGE = "accounts.manage_access"


def _end_of(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


# --- My access ---------------------------------------------------------------------------


class MyAccessView(LoginRequiredMixin, TemplateView):
    template_name = "access/my_access.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "groups": status_groups(explain(user, viewer=user)),
            "upcoming": upcoming_messages(user),
            "assignments": assignments_with_start(user),
            "completions": user.training_completions.select_related("training"),
            "requests": _in_words(
                selectors.access_request_list(user=user, filters={"mine": "true"})[:10]
            ),
            "today": timezone.localdate(),
        }


def _in_words(requests) -> list:
    """Give each request a ``label``: the role's name, or the capability's."""
    requests = list(requests)
    for request in requests:
        capability = get_capability(request.capability) if request.capability else None
        request.label = capability.label if capability else request.subject
    return requests


# --- A person's roles and trainings ------------------------------------------------------


def _capability_words(codes) -> str:
    labels = [(get_capability(c).label if get_capability(c) else c) for c in codes]
    return ", ".join(labels) if labels else "no capabilities yet"


class PersonAssignRoleView(ActionView):
    http_method_names = ["get", "post"]  # the command palette's "Grant role" links here

    def question(self, request, pk):
        person = user_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "assign roles")
        require_may_change_person(request.user, person, "roles")
        form = AssignRoleForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(_first_error(form), code=AccessErrorCode.INVALID_FORM)
        role, ends_on = form.cleaned_data["role"], form.cleaned_data["ends_on"]
        codes = role.capability_rules.order_by("capability").values_list("capability", flat=True)
        until = f"until {ends_on:%Y-%m-%d}" if ends_on else "with no end date"
        gives = _capability_words(codes)
        return Consequence(
            title=f"Grant {role.name} to {person.full_name}?",
            lines=(
                f"{person.full_name} gets the {role.name} role {until}: {gives}.",
                "Each capability starts when their tenure and trainings allow it.",
            ),
            button="Grant the role",
            danger=False,
        )

    def act(self, request, pk):
        person = user_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "assign roles")
        form = AssignRoleForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(_first_error(form), code=AccessErrorCode.INVALID_FORM)
        role = form.cleaned_data["role"]
        svc.role_assign(
            actor=request.user,
            user=person,
            role=role,
            ends_at=_end_of(form.cleaned_data["ends_on"]),
        )
        return reverse("accounts:user_detail", args=[pk]), f"{role.name} assigned to {person}."


class PersonCompletionView(ActionView):
    def act(self, request, pk):
        person = user_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "record training completions")
        form = CompletionForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(_first_error(form), code=AccessErrorCode.INVALID_FORM)
        svc.training_completion_record(actor=request.user, user=person, **form.cleaned_data)
        return reverse("accounts:user_detail", args=[pk]), "Training completion recorded."


class AssignmentRemoveView(ActionView):
    http_method_names = ["get", "post"]  # the command palette's "Revoke" links here

    def consequence(self, request, pk):
        assignment = selectors.assignment_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "remove access")
        require_may_change_person(request.user, assignment.user, "roles")
        if assignment.ended_at is not None:
            return None  # refused by the service with its reason
        lines = [f"{assignment.user.full_name} loses {assignment.subject_label} at once."]
        if assignment.birthright_rule_id:
            lines.append("It came from a birthright rule: it stays off for this person.")
        return Consequence(
            title=f"Remove {assignment.subject_label} from {assignment.user.full_name}?",
            lines=tuple(lines),
            button="Remove",
        )

    def act(self, request, pk):
        assignment = selectors.assignment_get(user=request.user, pk=pk)
        svc.assignment_remove(actor=request.user, assignment=assignment)
        return (
            reverse("accounts:user_detail", args=[assignment.user_id]),
            f"{assignment.subject_label} removed from {assignment.user}.",
        )


class CompletionDeleteView(ActionView):
    def completion(self, request, pk):
        completion = selectors.completion_list(user=request.user).filter(pk=pk).first()
        if completion is None:
            raise NotFoundError("No such completion.")
        return completion

    def consequence(self, request, pk):
        completion = self.completion(request, pk)
        require(request.user, MANAGE, "remove training completions")
        require_may_change_person(request.user, completion.user, "training completions")
        person = completion.user.full_name
        return Consequence(
            title=f"Remove {person}'s {completion.training.name} completion?",
            lines=(
                f"Deletes the record that {person} completed {completion.training.name} on "
                f"{completion.completed_on:%Y-%m-%d}.",
                "Capabilities that need this training stop for them at once.",
            ),
            button="Remove",
        )

    def act(self, request, pk):
        completion = self.completion(request, pk)
        svc.training_completion_delete(actor=request.user, completion=completion)
        return reverse("accounts:user_detail", args=[completion.user_id]), "Completion removed."


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else errors[0]
    return "The form is not valid."


# --- Roles ---------------------------------------------------------------------------------


class RoleListView(FilteredListView):
    template_name = "access/role_list.html"
    partial_template_name = "access/_role_table.html"
    filterset_class = RoleFilter
    sortable = {
        "name": "name",
        "owner": "owner__full_name",
        "capabilities": "capability_count",
        "holders": "holder_count",
    }
    default_sort = "name"

    def get_queryset(self):
        return selectors.role_list(user=self.request.user, filters=self.request.GET)


class RoleDetailView(LoginRequiredMixin, TemplateView):
    template_name = "access/role_detail.html"

    def get_context_data(self, **kwargs):
        role = selectors.role_get(user=self.request.user, pk=kwargs["pk"])
        rules = list(role.capability_rules.prefetch_related("trainings"))
        for rule in rules:
            rule.meta = get_capability(rule.capability)
        return {
            **super().get_context_data(**kwargs),
            "role": role,
            "rules": rules,
            "birthright_rules": role.birthright_rules.all(),
            "holders": AccessAssignment.objects.filter(role=role, ended_at__isnull=True)
            .select_related("user")
            .order_by("user__full_name"),
            "can_manage": user_can(self.request.user, MANAGE),
            "capability_form": RoleCapabilityForm(),
            "birthright_form": BirthrightRuleForm(),
        }


class RoleCreateView(ServiceFormView):
    form_class = RoleForm
    capability = MANAGE
    title = "New role"
    pretitle = "Roles"
    submit_label = "Create role"

    def get_initial(self):
        return {"owner": self.request.user}

    def perform(self, form):
        role = svc.role_create(actor=self.request.user, **form.cleaned_data)
        return reverse("access:role_detail", args=[role.pk])


class RoleEditView(ServiceFormView):
    form_class = RoleForm
    capability = MANAGE
    pretitle = "Roles"
    submit_label = "Save changes"

    def get_role(self):
        return selectors.role_get(user=self.request.user, pk=self.kwargs["pk"])

    load_object = get_role

    def get_initial(self):
        role = self.get_role()
        self.title = f"Edit {role.name}"
        return {"name": role.name, "description": role.description, "owner": role.owner}

    def perform(self, form):
        role = svc.role_update(actor=self.request.user, role=self.get_role(), **form.cleaned_data)
        return reverse("access:role_detail", args=[role.pk])


class RoleDeleteView(ActionView):
    def consequence(self, request, pk):
        role = selectors.role_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "delete roles")
        if AccessAssignment.objects.filter(role=role).exists() or role.access_requests.exists():
            return None  # refused by the service with its reason
        rules = role.capability_rules.count()
        return Consequence(
            title=f"Delete the role {role.name}?",
            lines=(
                f"Deletes {role.name} with its {count_of(rules, 'capability rule')} and "
                f"{count_of(role.birthright_rules.count(), 'birthright rule')}.",
            ),
            button="Delete",
            final=True,
        )

    def act(self, request, pk):
        role = selectors.role_get(user=request.user, pk=pk)
        svc.role_delete(actor=request.user, role=role)
        return reverse("access:role_list"), f"Role {role.name} deleted."


class RoleCapabilitySetView(ActionView):
    def act(self, request, pk):
        role = selectors.role_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "edit roles")
        form = RoleCapabilityForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(_first_error(form), code=AccessErrorCode.INVALID_FORM)
        svc.role_capability_set(actor=request.user, role=role, **form.cleaned_data)
        code = form.cleaned_data["capability"]
        return reverse("access:role_detail", args=[pk]), f"{code} saved; holders updated."


class RoleCapabilityRemoveView(ActionView):
    def rule(self, pk) -> RoleCapability:
        rule = RoleCapability.objects.select_related("role").filter(pk=pk).first()
        if rule is None:
            raise NotFoundError("No such capability rule.")
        return rule

    def consequence(self, request, pk):
        rule = self.rule(pk)
        require(request.user, MANAGE, "edit roles")
        holders = AccessAssignment.objects.filter(role=rule.role, ended_at__isnull=True)
        people = holders.values("user").distinct().count()
        return Consequence(
            title=f"Remove “{capability_label(rule.capability)}” from {rule.role.name}?",
            lines=(
                f"{count_of(people, 'person', 'people')} holding {rule.role.name} lose "
                f"“{capability_label(rule.capability)}” at once, unless another role or grant "
                "gives it.",
            ),
            button="Remove",
        )

    def act(self, request, pk):
        rule = self.rule(pk)
        svc.role_capability_remove(actor=request.user, rule=rule)
        return reverse(
            "access:role_detail", args=[rule.role_id]
        ), f"“{capability_label(rule.capability)}” removed."


class BirthrightAddView(ActionView):
    def act(self, request, pk):
        role = selectors.role_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "edit birthright rules")
        form = BirthrightRuleForm(request.POST)
        if not form.is_valid():
            raise ApplicationError(_first_error(form), code=AccessErrorCode.INVALID_FORM)
        rule = svc.birthright_rule_add(actor=request.user, role=role, **form.cleaned_data)
        return reverse(
            "access:role_detail", args=[pk]
        ), f"Birthright rule added: {rule.describe()}."


class BirthrightRemoveView(ActionView):
    def rule(self, pk) -> BirthrightRule:
        rule = BirthrightRule.objects.select_related("role").filter(pk=pk).first()
        if rule is None:
            raise NotFoundError("No such birthright rule.")
        return rule

    def consequence(self, request, pk):
        rule = self.rule(pk)
        require(request.user, MANAGE, "edit birthright rules")
        people = (
            AccessAssignment.objects.filter(birthright_rule=rule, ended_at__isnull=True)
            .values("user")
            .distinct()
            .count()
        )
        return Consequence(
            title=f"Remove the birthright rule for {rule.role.name} ({rule.describe()})?",
            lines=(
                f"{count_of(people, 'person', 'people')} who hold {rule.role.name} through it "
                "lose it at once; new people no longer get it.",
            ),
            button="Remove",
        )

    def act(self, request, pk):
        rule = self.rule(pk)
        svc.birthright_rule_remove(actor=request.user, rule=rule)
        return reverse("access:role_detail", args=[rule.role_id]), "Birthright rule removed."


# --- Trainings --------------------------------------------------------------------------------


class TrainingListView(FilteredListView):
    template_name = "access/training_list.html"
    partial_template_name = "access/_training_table.html"
    filterset_class = TrainingFilter
    sortable = {
        "name": "name",
        "validity": "validity_days",
        "owner": "owner__full_name",
        "completions": "completion_count",
    }
    default_sort = "name"

    def get_queryset(self):
        return selectors.training_list(user=self.request.user, filters=self.request.GET)


class TrainingDetailView(LoginRequiredMixin, TemplateView):
    template_name = "access/training_detail.html"

    def get_context_data(self, **kwargs):
        training = selectors.training_get(user=self.request.user, pk=kwargs["pk"])
        today = timezone.localdate()
        completions = selectors.completion_list(
            user=self.request.user, filters={"training": training.pk}
        )
        return {
            **super().get_context_data(**kwargs),
            "training": training,
            "completions": completions,
            "required_by": training.required_by.select_related("role"),
            "today": today,
            "can_manage": user_can(self.request.user, MANAGE),
        }


class TrainingCreateView(ServiceFormView):
    form_class = TrainingForm
    capability = MANAGE
    title = "New training"
    pretitle = "Trainings"
    submit_label = "Create training"

    def perform(self, form):
        training = svc.training_create(actor=self.request.user, **form.cleaned_data)
        return reverse("access:training_detail", args=[training.pk])


class TrainingEditView(ServiceFormView):
    form_class = TrainingForm
    capability = MANAGE
    pretitle = "Trainings"
    submit_label = "Save changes"

    def get_training(self):
        return selectors.training_get(user=self.request.user, pk=self.kwargs["pk"])

    load_object = get_training

    def get_initial(self):
        training = self.get_training()
        self.title = f"Edit {training.name}"
        return {f: getattr(training, f) for f in svc.TRAINING_FIELDS}

    def perform(self, form):
        training = svc.training_update(
            actor=self.request.user, training=self.get_training(), **form.cleaned_data
        )
        return reverse("access:training_detail", args=[training.pk])


# --- Access requests -----------------------------------------------------------------------------


class RequestListView(FilteredListView):
    template_name = "access/request_list.html"
    partial_template_name = "access/_request_table.html"
    filterset_class = AccessRequestFilter
    sortable = {
        "number": "id",
        "requester": "requester__full_name",
        "days": "duration_days",
        "status": "status",
        "asked": "created_at",
        "decider": "decided_by__full_name",
    }
    default_sort = "-asked"

    def get_queryset(self):
        return selectors.access_request_list(user=self.request.user, filters=self.request.GET)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "inbox": selectors.access_request_inbox(user=self.request.user),
        }


class RequestCreateView(ServiceFormView):
    form_class = AccessRequestForm
    title = "Request access"
    pretitle = "Access requests"
    submit_label = "Send request"
    success_message = (
        "Request sent. Your manager or the role's owner decides it if they hold this access; "
        "otherwise an access administrator does."
    )

    def get_initial(self):
        initial = {}
        if self.request.GET.get("capability"):
            initial["capability"] = self.request.GET["capability"]
        if self.request.GET.get("role", "").isdigit():
            initial["role"] = self.request.GET["role"]
        return initial

    def perform(self, form):
        data = form.cleaned_data
        request = svc.access_request_create(
            requester=self.request.user,
            role=data["role"],
            capability=data["capability"],
            justification=data["justification"],
            duration_days=data["duration_days"],
        )
        return reverse("access:request_detail", args=[request.pk])


class RequestDetailView(LoginRequiredMixin, TemplateView):
    template_name = "access/request_detail.html"

    def get_context_data(self, **kwargs):
        request = selectors.access_request_get(user=self.request.user, pk=kwargs["pk"])
        pending = request.status == AccessRequestStatus.PENDING
        rule = capability_rule(request.capability) if request.capability else None
        available_on = rule.available_on(request.requester) if rule else None
        # Approving now ends the access after the requested days: say before the click when
        # tenure would come only after that, which the approval refuses.
        ends_on = timezone.localdate(timezone.now() + dt.timedelta(days=request.duration_days))
        return {
            **super().get_context_data(**kwargs),
            "access_request": request,
            "rule": rule,
            "rule_available_on": available_on,
            "approval_ends_on": ends_on,
            "tenure_after_end": pending and available_on is not None and available_on >= ends_on,
            "approvers": svc.access_request_approvers(request) if pending else [],
            "can_decide": pending and svc.access_request_can_decide(self.request.user, request),
            "can_cancel": pending and request.requester_id == self.request.user.pk,
            "decision_form": DecisionForm(),
        }


class _RequestAction(ActionView):
    verb = ""

    def question(self, request, pk):
        if self.verb == "cancel":
            return self.consequence(request, pk)
        access_request = selectors.access_request_get(user=request.user, pk=pk)
        svc.access_request_check_decider(actor=request.user, request=access_request)
        who = access_request.requester.full_name
        what = _capability_words(svc.requested_capabilities(access_request))
        if access_request.role_id:
            what = f"the {access_request.role.name} role ({what})"
        if self.verb == "approve":
            ends_on = timezone.localdate() + dt.timedelta(days=access_request.duration_days)
            lines = (
                f"{who} gets {what} for "
                f"{access_request.duration_days} days, until {ends_on:%Y-%m-%d}.",
                "They are told; the decision is in the audit log under your name.",
            )
            return Consequence(
                title=f"Approve request #{pk} from {who}?",
                lines=lines,
                button="Approve",
                danger=False,
            )
        return Consequence(
            title=f"Reject request #{pk} from {who}?",
            lines=(
                f"{who} does not get {what}.",
                "They are told; to get it, they ask again.",
            ),
            button="Reject",
        )

    def consequence(self, request, pk):
        if self.verb != "cancel":
            return None
        access_request = selectors.access_request_get(user=request.user, pk=pk)
        if (
            access_request.status != AccessRequestStatus.PENDING
            or access_request.requester_id != request.user.pk
        ):
            return None  # refused by the service with its reason
        return Consequence(
            title=f"Cancel request #{pk}?",
            lines=("Nobody decides on it any more; to get the access, ask again.",),
            button="Cancel the request",
            danger=False,
        )

    def act(self, request, pk):
        access_request = selectors.access_request_get(user=request.user, pk=pk)
        note = request.POST.get("note", "")
        if self.verb == "approve":
            svc.access_request_approve(actor=request.user, request=access_request, note=note)
        elif self.verb == "reject":
            svc.access_request_reject(actor=request.user, request=access_request, note=note)
        else:
            svc.access_request_cancel(actor=request.user, request=access_request)
        past = {"approve": "approved", "reject": "rejected", "cancel": "cancelled"}[self.verb]
        return reverse("access:request_detail", args=[pk]), f"Request #{pk} {past}."


class RequestApproveView(_RequestAction):
    http_method_names = ["get", "post"]  # the command palette's "Approve" links here
    verb = "approve"


class RequestRejectView(_RequestAction):
    http_method_names = ["get", "post"]  # the command palette's "Reject" links here
    verb = "reject"


class RequestCancelView(_RequestAction):
    verb = "cancel"


# --- Access reviews ---------------------------------------------------------------


class ReviewListView(FilteredListView):
    template_name = "access/review_list.html"
    partial_template_name = "access/_review_table.html"
    filterset_class = ReviewCampaignFilter
    sortable = {
        "name": "name",
        "progress": ("decided_count", "item_count"),
        "started": "created_at",
        "deadline": "deadline",
        "policy": "unreviewed_policy",
        "status": "closed_at",
    }
    default_sort = "-started"

    def get_queryset(self):
        queryset = selectors.review_list(user=self.request.user)
        return ReviewCampaignFilter(self.request.GET, queryset=queryset).qs

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "can_manage": user_can(self.request.user, MANAGE),
        }


class ReviewCreateView(ServiceFormView):
    form_class = ReviewCampaignForm
    capability = MANAGE
    title = "Start an access review"
    pretitle = "Access reviews"
    submit_label = "Start review"

    def get_initial(self):
        return {
            "deadline": timezone.localdate() + dt.timedelta(days=14),
            "unreviewed_policy": "keep",
        }

    def perform(self, form):
        data = form.cleaned_data
        campaign = svc.review_campaign_create(
            actor=self.request.user,
            name=data["name"],
            description=data["description"],
            roles=data["roles"],
            capabilities=data["capabilities"],
            deadline=_end_of(data["deadline"]),
            unreviewed_policy=data["unreviewed_policy"],
        )
        return reverse("access:review_detail", args=[campaign.pk])


class ReviewDetailView(LoginRequiredMixin, TemplateView):
    template_name = "access/review_detail.html"

    def get_context_data(self, **kwargs):
        campaign = selectors.review_get(user=self.request.user, pk=kwargs["pk"])
        items = list(selectors.review_items_for(user=self.request.user, campaign=campaign))
        for item in items:
            item.can_decide = campaign.is_open and svc.review_item_can_decide(
                self.request.user, item
            )
            item.withdraws = svc.review_item_withdraws(item)
            # A capability review shows the capabilities under review, not the whole role.
            item.shown = item.capabilities if item.withdraws is None else item.withdraws
            item.not_shown = len(set(item.capabilities) - set(item.shown))
        percent = (
            round(100 * campaign.decided_count / campaign.item_count)
            if campaign.item_count
            else 100
        )
        return {
            **super().get_context_data(**kwargs),
            "campaign": campaign,
            "items": items,
            "percent": percent,
            "can_manage": user_can(self.request.user, MANAGE),
        }


class ReviewItemDecideView(ActionView):
    def consequence(self, request, pk):
        item = selectors.review_item_get(user=request.user, pk=pk)
        if request.POST.get("decision") != "revoke" or item.decision != "pending":
            return None
        if not item.campaign.is_open or not svc.review_item_can_decide(request.user, item):
            return None  # refused by the service with its reason
        person = item.user.full_name
        withdrawn = svc.review_item_withdraws(item)
        if withdrawn is None:
            lines = [f"{person} loses {item.assignment.subject} and what it gives at once."]
        else:
            lines = [
                f"{person} loses {', '.join(withdrawn)} at once; the rest of the "
                f"{item.assignment.role.name} role stays."
            ]
        lines.append("Getting it back takes a new access request.")
        return Consequence(
            title=f"Revoke {person}'s {item.assignment.subject}?",
            lines=tuple(lines),
            button="Revoke",
        )

    def act(self, request, pk):
        item = selectors.review_item_get(user=request.user, pk=pk)
        decision = request.POST.get("decision", "")
        item = svc.review_item_decide(
            actor=request.user, item=item, decision=decision, note=request.POST.get("note", "")
        )
        return (
            reverse("access:review_detail", args=[item.campaign_id]),
            svc.review_item_outcome(item),
        )


class ReviewCloseView(ActionView):
    def consequence(self, request, pk):
        campaign = selectors.review_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "close access reviews")
        if not campaign.is_open:
            return None  # refused by the service with its reason
        pending = campaign.items.filter(decision="pending").count()
        revoke = campaign.unreviewed_policy == "revoke"
        lines = [f"Closes {campaign.name}: nobody can decide on it any more."]
        if pending:
            verb = "is" if pending == 1 else "are"
            outcome = "revoked: whoever holds it loses it at once" if revoke else "kept"
            lines.append(f"{count_of(pending, 'undecided item')} {verb} {outcome}.")
        return Consequence(
            title=f"Close {campaign.name} now?",
            lines=tuple(lines),
            button="Close now",
            danger=revoke and pending > 0,
        )

    def act(self, request, pk):
        campaign = selectors.review_get(user=request.user, pk=pk)
        svc.review_campaign_close(actor=request.user, campaign=campaign)
        return reverse("access:review_detail", args=[pk]), "Review closed; policy applied."
