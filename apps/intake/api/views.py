from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.intake import selectors, services
from apps.intake.filters import IntakeFilter
from apps.intake.models import Candidate, IntakeRequest, OnboardingTask, Stakeholder
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import NotFoundError

from .serializers import (
    CandidateCreateSerializer,
    CandidateSerializer,
    CommentSerializer,
    DeferSerializer,
    IntakeCreateSerializer,
    IntakeRequestDetailSerializer,
    IntakeRequestSerializer,
    IntakeUpdateSerializer,
    NoteSerializer,
    OnboardingTaskSerializer,
    OverlapSerializer,
    StakeholderCreateSerializer,
    StakeholderSerializer,
    TaskUpdateSerializer,
)

CONFLICT = {409: ErrorSerializer}
DETAIL = {200: IntakeRequestDetailSerializer, **CONFLICT}
NO_LIST = {"pagination_class": None, "filterset_class": None}


class IntakeRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """PPS intake requests: Problem → People → System → Decision.

    Everyone sees the requests they started or are named on; intake.decide sees all.
    Stage transitions are actions; a stage that is not open answers 409 ``stage_locked``,
    and moving on with a stage incomplete answers 400 ``stage_incomplete`` with what is
    missing.
    """

    lookup_value_regex = r"\d+"
    serializer_class = IntakeRequestSerializer
    filterset_class = IntakeFilter
    ordering_fields = ["created_at", "updated_at", "stage_entered_at", "title", "stage"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IntakeRequest.objects.none()
        return selectors.intake_list(user=self.request.user)

    def get_object(self):
        return selectors.intake_get(user=self.request.user, pk=self.kwargs["pk"])

    def _detail(self, obj, code=status.HTTP_200_OK):
        obj = (
            IntakeRequest.objects.select_related("requester", "tool")
            .prefetch_related(
                Prefetch("stakeholders", Stakeholder.objects.select_related("person")),
                "candidates",
                "votes__approver",
                "onboarding_tasks",
                "history",
            )
            .get(pk=obj.pk)
        )
        return Response(IntakeRequestDetailSerializer(obj).data, status=code)

    @extend_schema(responses=IntakeRequestDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @extend_schema(request=IntakeCreateSerializer, responses={201: IntakeRequestDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Start a request at the Problem stage (intake.submit)."""
        data = validated_body(IntakeCreateSerializer, request)
        obj = services.intake_create(actor=request.user, **data)
        return self._detail(obj, status.HTTP_201_CREATED)

    @extend_schema(request=IntakeUpdateSerializer, responses=DETAIL)
    def partial_update(self, request, *args, **kwargs):
        """Change Problem facts (until Decision) or System facts (in the System stage)."""
        obj = self.get_object()
        services.require_editor(request.user, obj, "edit this request")
        serializer = IntakeUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        obj = services.intake_update(actor=request.user, request=obj, **serializer.validated_data)
        return self._detail(obj)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def advance(self, request, *args, **kwargs):
        """Move to the next stage once every stage so far is complete."""
        obj = services.intake_advance(actor=request.user, request=self.get_object())
        return self._detail(obj)

    @extend_schema(request=NoteSerializer, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        obj = self.get_object()
        services.require_editor(request.user, obj, "withdraw this request")
        note = validated_body(NoteSerializer, request)["note"]
        obj = services.intake_withdraw(actor=request.user, request=obj, note=note)
        return self._detail(obj)

    @extend_schema(request=CommentSerializer, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """Approve as one of the approvers; the last approval brings the tool in."""
        return self._vote(request, "approve")

    @extend_schema(request=CommentSerializer, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        """Reject as one of the approvers; one rejection closes the request."""
        return self._vote(request, "reject")

    def _vote(self, request, verdict):
        obj = self.get_object()
        services.require_approver(request.user, obj, "decide this request")
        comment = validated_body(CommentSerializer, request)["comment"]
        services.intake_vote(actor=request.user, request=obj, verdict=verdict, comment=comment)
        return self._detail(obj)

    @extend_schema(request=DeferSerializer, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def defer(self, request, *args, **kwargs):
        """Park the decision until a revisit date, when a reminder goes out."""
        obj = self.get_object()
        services.require_approver(request.user, obj, "defer this request")
        data = validated_body(DeferSerializer, request)
        obj = services.intake_defer(actor=request.user, request=obj, **data)
        return self._detail(obj)

    @extend_schema(request=None, responses=DETAIL)
    @action(detail=True, methods=["post"])
    def reopen(self, request, *args, **kwargs):
        """Bring a deferred request back to Decision for a new round."""
        obj = services.intake_reopen(actor=request.user, request=self.get_object())
        return self._detail(obj)

    @extend_schema(
        request=StakeholderCreateSerializer, responses={201: StakeholderSerializer, **CONFLICT}
    )
    @action(detail=True, methods=["post"], **NO_LIST)
    def stakeholders(self, request, *args, **kwargs):
        """Name a stakeholder and their part (People stage onwards, until Decision)."""
        obj = self.get_object()
        services.require_editor(request.user, obj, "name stakeholders")
        data = validated_body(StakeholderCreateSerializer, request)
        stakeholder = services.stakeholder_add(actor=request.user, request=obj, **data)
        return Response(StakeholderSerializer(stakeholder).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None, **CONFLICT})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"stakeholders/(?P<stakeholder_id>\d+)",
        url_name="stakeholder-remove",
    )
    def stakeholder_remove(self, request, *args, **kwargs):
        obj = self.get_object()
        stakeholder = obj.stakeholders.filter(pk=kwargs["stakeholder_id"]).first()
        if stakeholder is None:
            raise NotFoundError("The request has no such stakeholder.")
        services.stakeholder_remove(actor=request.user, stakeholder=stakeholder)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=CandidateCreateSerializer, responses={201: CandidateSerializer, **CONFLICT}
    )
    @action(detail=True, methods=["post"], **NO_LIST)
    def candidates(self, request, *args, **kwargs):
        """Add a candidate tool (System stage only)."""
        obj = self.get_object()
        services.require_editor(request.user, obj, "add candidate tools")
        data = validated_body(CandidateCreateSerializer, request)
        candidate = services.candidate_add(actor=request.user, request=obj, **data)
        return Response(CandidateSerializer(candidate).data, status=status.HTTP_201_CREATED)

    def _candidate(self, kwargs) -> Candidate:
        candidate = self.get_object().candidates.filter(pk=kwargs["candidate_id"]).first()
        if candidate is None:
            raise NotFoundError("The request has no such candidate.")
        return candidate

    @extend_schema(request=None, responses={204: None, **CONFLICT})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"candidates/(?P<candidate_id>\d+)",
        url_name="candidate-remove",
    )
    def candidate_remove(self, request, *args, **kwargs):
        services.candidate_remove(actor=request.user, candidate=self._candidate(kwargs))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: CandidateSerializer, **CONFLICT})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"candidates/(?P<candidate_id>\d+)/prefer",
        url_name="candidate-prefer",
    )
    def candidate_prefer(self, request, *args, **kwargs):
        """Make this the candidate an approval brings into the registry."""
        candidate = services.candidate_prefer(actor=request.user, candidate=self._candidate(kwargs))
        return Response(CandidateSerializer(candidate).data)

    @extend_schema(request=TaskUpdateSerializer, responses=OnboardingTaskSerializer)
    @action(
        detail=True,
        methods=["patch"],
        url_path=r"onboarding/(?P<task_id>\d+)",
        url_name="onboarding-task",
    )
    def onboarding_task(self, request, *args, **kwargs):
        """Tick or untick a step of an approved tool's onboarding checklist."""
        obj = self.get_object()
        task = OnboardingTask.objects.filter(request=obj, pk=kwargs["task_id"]).first()
        if task is None:
            raise NotFoundError("The request has no such onboarding step.")
        services.require_onboarder(request.user, obj)
        done = validated_body(TaskUpdateSerializer, request)["done"]
        task = services.onboarding_task_set(actor=request.user, task=task, done=done)
        return Response(OnboardingTaskSerializer(task).data)

    @extend_schema(responses=OverlapSerializer(many=True))
    @action(detail=True, methods=["get"], **NO_LIST)
    def overlap(self, request, *args, **kwargs):
        """Tools in use that already have the capabilities this request proposes."""
        overlaps = selectors.intake_overlap(user=request.user, request=self.get_object())
        return Response(OverlapSerializer(overlaps, many=True).data)
