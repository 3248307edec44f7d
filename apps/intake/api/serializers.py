from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.intake.choices import Approach, Outcome, Part
from apps.intake.models import (
    Candidate,
    HistoryEntry,
    IntakeRequest,
    OnboardingTask,
    Stakeholder,
    Vote,
)
from apps.tools.choices import ToolCapability
from martech.common.api import BoundedDateField


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name"]


class StakeholderSerializer(serializers.ModelSerializer):
    person = PersonSerializer(read_only=True)

    class Meta:
        model = Stakeholder
        fields = ["id", "person", "part", "note", "added_at"]


class StakeholderCreateSerializer(serializers.Serializer):
    person = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    part = serializers.ChoiceField(choices=Part.choices)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class CandidateSerializer(serializers.ModelSerializer):
    tool = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Candidate
        fields = [
            "id",
            "name",
            "vendor",
            "tool",
            "estimated_annual_cost",
            "currency",
            "notes",
            "preferred",
            "added_at",
        ]


class CandidateCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    vendor = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    estimated_annual_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    currency = serializers.CharField(min_length=3, max_length=3, required=False, default="USD")
    notes = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class VoteSerializer(serializers.ModelSerializer):
    approver = PersonSerializer(read_only=True)

    class Meta:
        model = Vote
        fields = ["id", "approver", "round", "verdict", "comment", "decided_at"]


class OnboardingTaskSerializer(serializers.ModelSerializer):
    done_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = OnboardingTask
        fields = ["id", "position", "title", "done_at", "done_by"]


class HistoryEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = HistoryEntry
        fields = ["at", "actor_label", "kind", "message"]


class IntakeRequestSerializer(serializers.ModelSerializer):
    """A request as listed; the detail adds its people, candidates, votes and history."""

    requester = PersonSerializer(read_only=True)
    proposed_capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=ToolCapability.choices), required=False
    )
    approach = serializers.ChoiceField(choices=Approach.choices, required=False, allow_blank=True)
    cost_hours_per_month = serializers.DecimalField(
        max_digits=8, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    cost_money_per_month = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    cost_currency = serializers.CharField(min_length=3, max_length=3, required=False)
    tool = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    outcome = serializers.ChoiceField(
        choices=Outcome.choices, allow_blank=True, read_only=True, help_text="Empty while open."
    )

    class Meta:
        model = IntakeRequest
        fields = [
            "id",
            "title",
            "requester",
            "team",
            "stage",
            "stage_entered_at",
            "outcome",
            "problem_statement",
            "who_suffers",
            "cost_hours_per_month",
            "cost_money_per_month",
            "cost_currency",
            "evidence",
            "approach",
            "proposed_capabilities",
            "system_design",
            "round",
            "decided_at",
            "decision_note",
            "revisit_on",
            "tool",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "stage",
            "stage_entered_at",
            "outcome",
            "round",
            "decided_at",
            "decision_note",
            "revisit_on",
            "created_at",
            "updated_at",
        ]


class MissingSerializer(serializers.Serializer):
    problem = serializers.ListField(child=serializers.CharField())
    people = serializers.ListField(child=serializers.CharField())
    system = serializers.ListField(child=serializers.CharField())


class OverlapToolSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OverlapSerializer(serializers.Serializer):
    capability = serializers.CharField()
    label = serializers.CharField()
    sentence = serializers.CharField()
    tools = OverlapToolSerializer(many=True)
    annual_cost = serializers.DictField(
        child=serializers.DecimalField(max_digits=14, decimal_places=2),
        allow_null=True,
        help_text="Combined annual cost per currency; null without tools.view.",
    )


class IntakeRequestDetailSerializer(IntakeRequestSerializer):
    stakeholders = StakeholderSerializer(many=True, read_only=True)
    candidates = CandidateSerializer(many=True, read_only=True)
    votes = VoteSerializer(many=True, read_only=True)
    onboarding_tasks = OnboardingTaskSerializer(many=True, read_only=True)
    history = HistoryEntrySerializer(many=True, read_only=True)
    missing = serializers.SerializerMethodField()

    class Meta(IntakeRequestSerializer.Meta):
        fields = [
            *IntakeRequestSerializer.Meta.fields,
            "stakeholders",
            "candidates",
            "votes",
            "onboarding_tasks",
            "history",
            "missing",
        ]

    @extend_schema_field(MissingSerializer)
    def get_missing(self, obj):
        from apps.intake.services import people_gaps, problem_gaps, system_gaps

        return {
            "problem": problem_gaps(obj),
            "people": people_gaps(obj),
            "system": system_gaps(obj),
        }


class IntakeCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=160)
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    problem_statement = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    who_suffers = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    cost_hours_per_month = serializers.DecimalField(
        max_digits=8, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    cost_money_per_month = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    cost_currency = serializers.CharField(min_length=3, max_length=3, required=False)
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class IntakeUpdateSerializer(IntakeCreateSerializer):
    title = serializers.CharField(max_length=160, required=False)
    approach = serializers.ChoiceField(choices=Approach.choices, required=False, allow_blank=True)
    proposed_capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=ToolCapability.choices),
        required=False,
        max_length=len(ToolCapability.values),
    )
    system_design = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=4000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class DeferSerializer(serializers.Serializer):
    revisit_on = BoundedDateField()
    comment = serializers.CharField(max_length=4000)


class TaskUpdateSerializer(serializers.Serializer):
    done = serializers.BooleanField()
