"""Serializers of the access API: roles, trainings, assignments, grants, requests, reviews.

Output serializers are read-only views of the models. Input serializers (``*InputSerializer``,
``*CreateSerializer``, …) only check the shape of a request body and turn ids into objects;
the service they feed decides whether the change is allowed and consistent.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.access import services
from apps.access.models import (
    AccessAssignment,
    AccessRequest,
    AccessRequestStatus,
    BirthrightRule,
    Grant,
    ReviewCampaign,
    ReviewDecision,
    ReviewItem,
    ReviewPolicy,
    Role,
    RoleCapability,
    Training,
    TrainingCompletion,
)
from apps.access.registry import capability_choices, get_capability
from apps.accounts.models import User
from martech.common.api import (
    MAX_DAYS,
    MAX_TEXT,
    BoundedDateField,
    BoundedDateTimeField,
    NonEmptyPatchMixin,
)


def _user_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), **kwargs)


def _request_user(serializer: serializers.Serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class CapabilityField(serializers.ChoiceField):
    """A capability code from the registry, such as ``accounts.manage_access``."""

    def __init__(self, **kwargs):
        kwargs.pop("choices", None)
        # Read the registry when the field is built (serializers copy their fields per use),
        # so capabilities declared by any installed app are accepted.
        super().__init__(choices=capability_choices(), **kwargs)


CAPABILITY_PATTERN = r"^[a-z_]+\.[a-z_]+$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": CAPABILITY_PATTERN,
        "description": "A capability code, such as accounts.manage_access.",
    }
)
class CapabilityCodeField(CapabilityField):
    """A capability code, documented as a string rather than a second copy of the enum."""


# --- A person's access ---------------------------------------------------------------------


class CapabilityStatusSerializer(serializers.Serializer):
    """One capability, whether the person holds it, and why (or what is missing)."""

    code = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    sensitive = serializers.BooleanField(read_only=True)
    status = serializers.ChoiceField(
        choices=[("granted", "Granted"), ("upcoming", "Upcoming"), ("lacking", "Lacking")],
        read_only=True,
    )
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, read_only=True, help_text="When a granted capability lapses by itself."
    )


class UserAccessSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(read_only=True)
    capabilities = CapabilityStatusSerializer(many=True, read_only=True)


class MyPermissionsSerializer(serializers.Serializer):
    capabilities = CapabilityStatusSerializer(many=True, read_only=True)
    upcoming = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Sentences like “In 12 days you will be able to run production syncs.”",
    )


# --- Trainings -------------------------------------------------------------------------------


class TrainingRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Training
        fields = ["id", "name"]
        read_only_fields = fields


class TrainingSerializer(serializers.ModelSerializer):
    owner_id = serializers.IntegerField(allow_null=True, read_only=True)
    completion_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Training
        fields = [
            "id",
            "name",
            "description",
            "validity_days",
            "owner_id",
            "completion_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TrainingInputSerializer(NonEmptyPatchMixin, serializers.Serializer):
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    validity_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        allow_null=True,
        help_text="Days a completion stays valid. Empty: it never expires.",
    )
    owner = _user_field(required=False, allow_null=True)


class CompletionSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    training_id = serializers.IntegerField(read_only=True)
    training_name = serializers.CharField(source="training.name", read_only=True)
    recorded_by_id = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = TrainingCompletion
        fields = [
            "id",
            "user_id",
            "training_id",
            "training_name",
            "completed_on",
            "expires_on",
            "recorded_by_id",
            "created_at",
        ]
        read_only_fields = fields


class CompletionCreateSerializer(serializers.Serializer):
    user = _user_field()
    training = serializers.PrimaryKeyRelatedField(queryset=Training.objects.all())
    completed_on = BoundedDateField(help_text="Not in the future.")


# --- Roles ----------------------------------------------------------------------------------


class RoleCapabilitySerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()
    trainings = TrainingRefSerializer(many=True, read_only=True)

    class Meta:
        model = RoleCapability
        fields = ["capability", "label", "min_tenure_days", "trainings"]
        read_only_fields = fields

    def get_label(self, obj: RoleCapability) -> str:
        capability = get_capability(obj.capability)
        return capability.label if capability else obj.capability


class BirthrightRuleSerializer(serializers.ModelSerializer):
    role_id = serializers.IntegerField(read_only=True)
    description = serializers.CharField(source="describe", read_only=True)

    class Meta:
        model = BirthrightRule
        fields = ["id", "role_id", "team", "job_title_contains", "description", "created_at"]
        read_only_fields = fields


class RoleSerializer(serializers.ModelSerializer):
    owner_id = serializers.IntegerField(read_only=True)
    holder_count = serializers.IntegerField(
        read_only=True, help_text="People holding the role now."
    )
    capabilities = RoleCapabilitySerializer(source="capability_rules", many=True, read_only=True)
    birthright_rules = BirthrightRuleSerializer(many=True, read_only=True)

    class Meta:
        model = Role
        fields = [
            "id",
            "name",
            "description",
            "owner_id",
            "holder_count",
            "capabilities",
            "birthright_rules",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RoleInputSerializer(NonEmptyPatchMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    owner = _user_field(
        required=False, help_text="Approves requests for the role. Defaults to you."
    )


class RoleCapabilitySetSerializer(serializers.Serializer):
    capability = CapabilityField()
    min_tenure_days = serializers.IntegerField(min_value=0, max_value=MAX_DAYS, default=0)
    trainings = serializers.PrimaryKeyRelatedField(
        queryset=Training.objects.all(),
        many=True,
        required=False,
        help_text="Trainings a holder must have valid completions of.",
    )


class BirthrightRuleCreateSerializer(serializers.Serializer):
    team = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Exact team name, any case."
    )
    job_title_contains = serializers.CharField(max_length=150, required=False, allow_blank=True)


# --- Assignments and grants ---------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    role_id = serializers.IntegerField(allow_null=True, read_only=True)
    subject = serializers.CharField(read_only=True, help_text="The role's name, or the capability.")
    birthright_rule_id = serializers.IntegerField(allow_null=True, read_only=True)
    access_request_id = serializers.IntegerField(allow_null=True, read_only=True)
    assigned_by_id = serializers.IntegerField(allow_null=True, read_only=True)
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = AccessAssignment
        fields = [
            "id",
            "user_id",
            "role_id",
            "capability",
            "subject",
            "source",
            "birthright_rule_id",
            "access_request_id",
            "assigned_by_id",
            "starts_at",
            "ends_at",
            "ended_at",
            "end_reason",
            "is_active",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_active(self, obj: AccessAssignment) -> bool:
        return obj.is_active()


class AssignmentCreateSerializer(serializers.Serializer):
    user = _user_field()
    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all())
    ends_at = BoundedDateTimeField(
        required=False, allow_null=True, help_text="Time-bound: the role ends by itself here."
    )


class GrantSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    assignment_id = serializers.IntegerField(read_only=True)
    role_id = serializers.IntegerField(source="assignment.role_id", allow_null=True, read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "id",
            "user_id",
            "capability",
            "assignment_id",
            "role_id",
            "reason",
            "granted_at",
            "expires_at",
            "revoked_at",
            "revoke_reason",
            "in_force",
        ]
        read_only_fields = fields

    def get_in_force(self, obj: Grant) -> bool:
        return obj.revoked_at is None and (
            obj.expires_at is None or obj.expires_at > timezone.now()
        )


# --- Access requests ------------------------------------------------------------------------------


class AccessRequestSerializer(serializers.ModelSerializer):
    requester_id = serializers.IntegerField(read_only=True)
    role_id = serializers.IntegerField(allow_null=True, read_only=True)
    subject = serializers.CharField(read_only=True)
    decided_by_id = serializers.IntegerField(allow_null=True, read_only=True)
    approver_ids = serializers.SerializerMethodField(help_text="Who may approve or reject it.")
    can_decide = serializers.SerializerMethodField(help_text="Whether you may decide it now.")

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "requester_id",
            "role_id",
            "capability",
            "subject",
            "justification",
            "duration_days",
            "status",
            "created_at",
            "expires_at",
            "decided_by_id",
            "decided_at",
            "decision_note",
            "access_ends_at",
            "approver_ids",
            "can_decide",
        ]
        read_only_fields = fields

    def get_approver_ids(self, obj: AccessRequest) -> list[int]:
        return sorted(u.pk for u in services.access_request_approvers(obj))

    def get_can_decide(self, obj: AccessRequest) -> bool:
        user = _request_user(self)
        return bool(
            user is not None
            and obj.status == AccessRequestStatus.PENDING
            and obj.expires_at > timezone.now()
            and services.access_request_can_decide(user, obj)
        )


class AccessRequestCreateSerializer(serializers.Serializer):
    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, allow_null=True, default=None
    )
    capability = CapabilityField(required=False, allow_blank=True, default="")
    justification = serializers.CharField(max_length=MAX_TEXT)
    duration_days = serializers.IntegerField(min_value=1, max_value=services.MAX_REQUEST_DAYS)


class DecisionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")


# --- Access reviews ---------------------------------------------------------------------------


class ReviewCampaignSerializer(serializers.ModelSerializer):
    created_by_id = serializers.IntegerField(read_only=True)
    roles = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    capabilities = serializers.ListField(child=serializers.CharField(), read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    decided_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReviewCampaign
        fields = [
            "id",
            "name",
            "description",
            "created_by_id",
            "roles",
            "capabilities",
            "deadline",
            "unreviewed_policy",
            "created_at",
            "closed_at",
            "is_open",
            "item_count",
            "decided_count",
        ]
        read_only_fields = fields


class ReviewCampaignCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    roles = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), many=True, required=False
    )
    capabilities = serializers.ListField(child=CapabilityCodeField(), required=False)
    deadline = BoundedDateTimeField(help_text="Undecided items follow the policy after it.")
    unreviewed_policy = serializers.ChoiceField(choices=ReviewPolicy.choices)


class ReviewItemSerializer(serializers.ModelSerializer):
    campaign_id = serializers.IntegerField(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    assignment_id = serializers.IntegerField(read_only=True)
    subject = serializers.CharField(source="assignment.subject", read_only=True)
    reviewer_id = serializers.IntegerField(allow_null=True, read_only=True)
    capabilities = serializers.ListField(child=serializers.CharField(), read_only=True)
    decided_by_id = serializers.IntegerField(allow_null=True, read_only=True)
    can_decide = serializers.SerializerMethodField(help_text="Whether you may decide it now.")

    class Meta:
        model = ReviewItem
        fields = [
            "id",
            "campaign_id",
            "user_id",
            "assignment_id",
            "subject",
            "reviewer_id",
            "capabilities",
            "decision",
            "decided_by_id",
            "decided_at",
            "note",
            "by_policy",
            "can_decide",
        ]
        read_only_fields = fields

    def get_can_decide(self, obj: ReviewItem) -> bool:
        user = _request_user(self)
        return bool(
            user is not None and obj.campaign.is_open and services.review_item_can_decide(user, obj)
        )


class ReviewDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[ReviewDecision.KEEP, ReviewDecision.REVOKE])
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
