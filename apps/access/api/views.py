"""The access API: who may do what (roles, trainings, assignments, grants, access requests,
reviews) and why.

Views are thin: an input serializer checks the body, one service makes the change (it checks
the caller's capability and audits), an output serializer answers. Reads go through the
selectors, which hide what the caller may not see (404).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.access import selectors, services
from apps.access.filters import (
    AccessRequestFilter,
    AssignmentFilter,
    CompletionFilter,
    GrantFilter,
    ReviewItemFilter,
    RoleFilter,
    TrainingFilter,
)
from apps.access.models import (
    AccessAssignment,
    AccessRequest,
    Grant,
    ReviewCampaign,
    ReviewItem,
    Role,
    Training,
    TrainingCompletion,
)
from apps.access.rules import explain, upcoming_messages
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import NotFoundError
from martech.common.permissions import CapabilityWritesMixin

from .serializers import (
    AccessRequestCreateSerializer,
    AccessRequestSerializer,
    AssignmentCreateSerializer,
    AssignmentSerializer,
    BirthrightRuleCreateSerializer,
    BirthrightRuleSerializer,
    CompletionCreateSerializer,
    CompletionSerializer,
    DecisionNoteSerializer,
    GrantSerializer,
    MyPermissionsSerializer,
    ReviewCampaignCreateSerializer,
    ReviewCampaignSerializer,
    ReviewDecideSerializer,
    ReviewItemSerializer,
    RoleCapabilitySerializer,
    RoleCapabilitySetSerializer,
    RoleInputSerializer,
    RoleSerializer,
    TrainingInputSerializer,
    TrainingSerializer,
    UserAccessSerializer,
)

CONFLICT = {409: ErrorSerializer}


class ManageWritesMixin(CapabilityWritesMixin):
    write_capability = services.MANAGE


# --- A person's access ---------------------------------------------------------------------


class UserAccessView(APIView):
    """Each capability with whether the person holds it, why, and until when.

    Visible to the person, their manager, and people who view or manage access.
    """

    @extend_schema(responses=UserAccessSerializer)
    def get(self, request, pk):
        person = selectors.user_access_get(user=request.user, pk=pk)
        data = {"user_id": person.pk, "capabilities": explain(person, viewer=request.user)}
        return Response(UserAccessSerializer(data).data)


class MePermissionsView(APIView):
    """What you may do, why, and what you will be able to do soon."""

    @extend_schema(responses=MyPermissionsSerializer)
    def get(self, request):
        data = {
            "capabilities": explain(request.user, viewer=request.user),
            "upcoming": upcoming_messages(request.user),
        }
        return Response(MyPermissionsSerializer(data).data)


# --- Roles ----------------------------------------------------------------------------------

CAPABILITY_PATH = OpenApiParameter(
    "capability",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    pattern=r"^[a-z_]+\.[a-z_]+$",
    description="A capability code, such as accounts.manage_access.",
)
RULE_ID_PATH = OpenApiParameter("rule_id", OpenApiTypes.INT, OpenApiParameter.PATH)
# The id of a role, typed here because a second path parameter hides its model field.
ROLE_ID_PATH = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


class RoleViewSet(ManageWritesMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Roles: named bundles of capabilities, each with its tenure and training rules, and
    the birthright rules that give the role automatically. Changes need
    accounts.manage_access; everyone signed in reads the catalogue."""

    manage_actions = frozenset(
        {
            "capabilities",
            "capability_remove",
            "birthright_rules",
            "partial_update",
            "birthright_rule_remove",
            "destroy",
            "create",
        }
    )
    lookup_value_regex = r"\d+"
    serializer_class = RoleSerializer
    filterset_class = RoleFilter
    ordering_fields = ["name", "created_at", "holder_count"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Role.objects.none()
        return selectors.role_list(user=self.request.user).prefetch_related(
            "capability_rules__trainings", "birthright_rules"
        )

    def get_object(self):
        return selectors.role_get(user=self.request.user, pk=self.kwargs["pk"])

    def _answer(self, role: Role, code: int = status.HTTP_200_OK) -> Response:
        # The list's queryset carries the holder count and the prefetched rules.
        fresh = self.get_queryset().get(pk=role.pk)
        return Response(RoleSerializer(fresh).data, status=code)

    @extend_schema(responses=RoleSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    @extend_schema(request=RoleInputSerializer, responses={201: RoleSerializer, **CONFLICT})
    def create(self, request, *args, **kwargs):
        data = validated_body(RoleInputSerializer, request)
        data.setdefault("owner", request.user)
        role = services.role_create(actor=request.user, **data)
        return self._answer(role, status.HTTP_201_CREATED)

    @extend_schema(request=RoleInputSerializer, responses={200: RoleSerializer, **CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        role = self.get_object()
        changes = validated_body(RoleInputSerializer, request, partial=True)
        role = services.role_update(actor=request.user, role=role, **changes)
        return self._answer(role)

    @extend_schema(responses={204: None, **CONFLICT})
    def destroy(self, request, *args, **kwargs):
        """Delete a role nobody holds any more."""
        services.role_delete(actor=request.user, role=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RoleCapabilitySetSerializer, responses=RoleCapabilitySerializer)
    @action(detail=True, methods=["post"], url_path="capabilities")
    def capabilities(self, request, *args, **kwargs):
        """Add a capability to the role, or change its tenure and training requirements."""
        role = self.get_object()
        data = validated_body(RoleCapabilitySetSerializer, request)
        rule = services.role_capability_set(actor=request.user, role=role, **data)
        return Response(RoleCapabilitySerializer(rule).data)

    @extend_schema(parameters=[ROLE_ID_PATH, CAPABILITY_PATH], request=None, responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"capabilities/(?P<capability>[a-z_]+\.[a-z_]+)",
    )
    def capability_remove(self, request, *args, **kwargs):
        """Take a capability away from the role (and from its holders, at once)."""
        role = self.get_object()
        rule = role.capability_rules.filter(capability=kwargs["capability"]).first()
        if rule is None:
            raise NotFoundError("The role does not give this capability.")
        services.role_capability_remove(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=BirthrightRuleCreateSerializer, responses={201: BirthrightRuleSerializer}
    )
    @action(detail=True, methods=["post"], url_path="birthright-rules")
    def birthright_rules(self, request, *args, **kwargs):
        """Give the role automatically to everyone whose team and job title match."""
        role = self.get_object()
        data = validated_body(BirthrightRuleCreateSerializer, request)
        rule = services.birthright_rule_add(actor=request.user, role=role, **data)
        return Response(BirthrightRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[ROLE_ID_PATH, RULE_ID_PATH], request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"birthright-rules/(?P<rule_id>\d+)")
    def birthright_rule_remove(self, request, *args, **kwargs):
        """Remove a birthright rule; the people it gave the role to lose it."""
        role = self.get_object()
        rule = role.birthright_rules.filter(pk=kwargs["rule_id"]).first()
        if rule is None:
            raise NotFoundError("The role has no such birthright rule.")
        services.birthright_rule_remove(actor=request.user, rule=rule)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Trainings -------------------------------------------------------------------------------


class TrainingViewSet(ManageWritesMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The training catalogue. Changes need accounts.manage_access."""

    manage_actions = frozenset({"create", "partial_update"})
    lookup_value_regex = r"\d+"
    serializer_class = TrainingSerializer
    filterset_class = TrainingFilter
    ordering_fields = ["name", "created_at", "completion_count"]
    ordering = ["name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Training.objects.none()
        return selectors.training_list(user=self.request.user)

    def get_object(self):
        return selectors.training_get(user=self.request.user, pk=self.kwargs["pk"])

    def _answer(self, training: Training, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=training.pk)  # with its completion count
        return Response(TrainingSerializer(fresh).data, status=code)

    @extend_schema(responses=TrainingSerializer)
    def retrieve(self, request, *args, **kwargs):
        return self._answer(self.get_object())

    @extend_schema(request=TrainingInputSerializer, responses={201: TrainingSerializer, **CONFLICT})
    def create(self, request, *args, **kwargs):
        data = validated_body(TrainingInputSerializer, request)
        training = services.training_create(actor=request.user, **data)
        return self._answer(training, status.HTTP_201_CREATED)

    @extend_schema(request=TrainingInputSerializer, responses={200: TrainingSerializer, **CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        training = self.get_object()
        changes = validated_body(TrainingInputSerializer, request, partial=True)
        training = services.training_update(actor=request.user, training=training, **changes)
        return self._answer(training)


class TrainingCompletionViewSet(
    ManageWritesMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Who completed which training, and until when it counts. You see your own and your
    reports' completions (everyone's with accounts.view_access); recording and removing
    them needs accounts.manage_access."""

    manage_actions = frozenset({"create"})
    lookup_value_regex = r"\d+"
    serializer_class = CompletionSerializer
    filterset_class = CompletionFilter
    ordering_fields = ["completed_on", "expires_on", "created_at"]
    ordering = ["-completed_on", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TrainingCompletion.objects.none()
        return selectors.completion_list(user=self.request.user)

    def get_object(self):
        found = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if found is None:
            raise NotFoundError("No such training completion.")
        return found

    @extend_schema(request=CompletionCreateSerializer, responses={201: CompletionSerializer})
    def create(self, request, *args, **kwargs):
        data = validated_body(CompletionCreateSerializer, request)
        completion = services.training_completion_record(actor=request.user, **data)
        return Response(CompletionSerializer(completion).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request, *args, **kwargs):
        services.training_completion_delete(actor=request.user, completion=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Assignments and grants ---------------------------------------------------------------------


class RoleAssignmentViewSet(
    ManageWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Who holds which role (or single capability), from where, and until when. DELETE ends
    an assignment; a birthright one then stays off for that person."""

    manage_actions = frozenset({"create"})
    lookup_value_regex = r"\d+"
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilter
    ordering_fields = ["created_at", "starts_at", "ends_at", "ended_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessAssignment.objects.none()
        return selectors.assignment_list(user=self.request.user)

    def get_object(self):
        return selectors.assignment_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        request=AssignmentCreateSerializer, responses={201: AssignmentSerializer, **CONFLICT}
    )
    def create(self, request, *args, **kwargs):
        """Give a person a role, optionally until a moment (time-bound)."""
        data = validated_body(AssignmentCreateSerializer, request)
        assignment = services.role_assign(actor=request.user, **data)
        return Response(AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **CONFLICT})
    def destroy(self, request, *args, **kwargs):
        services.assignment_remove(actor=request.user, assignment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class GrantViewSet(viewsets.ReadOnlyModelViewSet):
    """Effective capabilities, each with the reason it is held. Maintained by the access
    engine; read-only. You see your own and your reports' (everyone's with view_access)."""

    lookup_value_regex = r"\d+"
    serializer_class = GrantSerializer
    filterset_class = GrantFilter
    ordering_fields = ["granted_at", "expires_at", "capability"]
    ordering = ["capability", "-granted_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Grant.objects.none()
        return selectors.grant_list(user=self.request.user)

    def get_object(self):
        found = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if found is None:
            raise NotFoundError("No such grant.")
        return found


# --- Access requests ------------------------------------------------------------------------------


class AccessRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Ask for a role or a capability for a while. The role's owner or the requester's
    manager decides if they hold what is asked for (else the people who manage access;
    never the requester). Approved access keeps the capability's tenure and training rules
    (upcoming until met) and ends by itself."""

    lookup_value_regex = r"\d+"
    serializer_class = AccessRequestSerializer
    filterset_class = AccessRequestFilter
    ordering_fields = ["created_at", "expires_at", "status", "decided_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessRequest.objects.none()
        return selectors.access_request_list(user=self.request.user)

    def get_object(self):
        return selectors.access_request_get(user=self.request.user, pk=self.kwargs["pk"])

    def _answer(self, access_request, code: int = status.HTTP_200_OK) -> Response:
        context = {"request": self.request}
        return Response(AccessRequestSerializer(access_request, context=context).data, status=code)

    @extend_schema(
        request=AccessRequestCreateSerializer, responses={201: AccessRequestSerializer, **CONFLICT}
    )
    def create(self, request, *args, **kwargs):
        """Ask for either a role or a capability, with a justification and a duration."""
        data = validated_body(AccessRequestCreateSerializer, request)
        access_request = services.access_request_create(requester=request.user, **data)
        return self._answer(access_request, status.HTTP_201_CREATED)

    @extend_schema(
        request=DecisionNoteSerializer, responses={200: AccessRequestSerializer, **CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        """Approve: the access starts now and ends after the requested number of days."""
        access_request = self.get_object()
        note = validated_body(DecisionNoteSerializer, request)["note"]
        access_request = services.access_request_approve(
            actor=request.user, request=access_request, note=note
        )
        return self._answer(access_request)

    @extend_schema(
        request=DecisionNoteSerializer, responses={200: AccessRequestSerializer, **CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        access_request = self.get_object()
        note = validated_body(DecisionNoteSerializer, request)["note"]
        access_request = services.access_request_reject(
            actor=request.user, request=access_request, note=note
        )
        return self._answer(access_request)

    @extend_schema(request=None, responses={200: AccessRequestSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        """Withdraw your own pending request."""
        access_request = services.access_request_cancel(
            actor=request.user, request=self.get_object()
        )
        return self._answer(access_request)


# --- Access reviews ---------------------------------------------------------------------------


class ReviewViewSet(
    ManageWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Access reviews: who holds some roles or capabilities, item by item, to keep or revoke.
    Access managers see and run every review; reviewers see the ones they have items in."""

    manage_actions = frozenset({"create"})
    lookup_value_regex = r"\d+"
    serializer_class = ReviewCampaignSerializer
    ordering_fields = ["created_at", "deadline", "name"]
    ordering = ["-created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewCampaign.objects.none()
        return selectors.review_list(user=self.request.user).prefetch_related("roles")

    def get_object(self):
        return selectors.review_get(user=self.request.user, pk=self.kwargs["pk"])

    def _answer(self, campaign, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.review_get(user=self.request.user, pk=campaign.pk)  # with its progress
        return Response(ReviewCampaignSerializer(fresh).data, status=code)

    @extend_schema(
        request=ReviewCampaignCreateSerializer, responses={201: ReviewCampaignSerializer}
    )
    def create(self, request, *args, **kwargs):
        """Start a review of everyone holding these roles or capabilities now."""
        data = validated_body(ReviewCampaignCreateSerializer, request)
        campaign = services.review_campaign_create(actor=request.user, **data)
        return self._answer(campaign, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ReviewCampaignSerializer, **CONFLICT})
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        """Close the review now: undecided items follow its unreviewed-access policy."""
        campaign = services.review_campaign_close(campaign=self.get_object(), actor=request.user)
        return self._answer(campaign)


class ReviewItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The items of access reviews you may see: all of them for access managers, otherwise
    the ones you review."""

    lookup_value_regex = r"\d+"
    serializer_class = ReviewItemSerializer
    filterset_class = ReviewItemFilter
    ordering_fields = ["id", "decision", "decided_at"]
    ordering = ["id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReviewItem.objects.none()
        return selectors.review_item_list(user=self.request.user)

    def get_object(self):
        return selectors.review_item_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        request=ReviewDecideSerializer, responses={200: ReviewItemSerializer, **CONFLICT}
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs):
        """Keep or revoke; revoking ends the access at once."""
        item = self.get_object()
        data = validated_body(ReviewDecideSerializer, request)
        item = services.review_item_decide(actor=request.user, item=item, **data)
        return Response(ReviewItemSerializer(item, context={"request": request}).data)
