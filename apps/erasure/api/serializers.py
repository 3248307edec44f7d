from rest_framework import serializers

from ..models import Channel, ErasureIdentifier, ErasureRequest, ErasureTask, Jurisdiction


class ErasureTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = ErasureTask
        fields = [
            "id",
            "name",
            "kind",
            "destination",
            "tool",
            "status",
            "attempts",
            "next_attempt_at",
            "started_at",
            "finished_at",
            "receipt",
            "last_error",
            "assignee",
            "due_on",
            "confirmed_by",
            "confirmation",
            "reason",
            "evidence",
        ]
        read_only_fields = fields


class ErasureIdentifierSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(
        read_only=True,
        help_text="The decision as the request stands: Will be erased, Being erased, Erased…",
    )

    class Meta:
        model = ErasureIdentifier
        fields = ["id", "type", "masked", "value_hash", "origin", "decision", "state_label"]
        read_only_fields = fields


class ErasureRequestSerializer(serializers.ModelSerializer):
    identifier = serializers.CharField(
        write_only=True,
        max_length=400,
        help_text="The person: type:value (email:ana@x.com, user_id:cus_1), or a bare email, "
        "+E.164 phone or an id the console has seen as one type only.",
    )
    channel = serializers.ChoiceField(choices=Channel.choices)
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices)
    received_on = serializers.DateField(required=False)
    due = serializers.DateField(read_only=True)
    days_left = serializers.IntegerField(read_only=True)
    tasks = ErasureTaskSerializer(many=True, read_only=True)
    identifiers = ErasureIdentifierSerializer(many=True, read_only=True)

    class Meta:
        model = ErasureRequest
        fields = [
            "id",
            "reference",
            "identifier",
            "subject_type",
            "subject_masked",
            "channel",
            "jurisdiction",
            "received_on",
            "deadline",
            "extended_deadline",
            "extension_reason",
            "due",
            "days_left",
            "status",
            "duplicate_of",
            "notes",
            "verified_at",
            "approved_at",
            "completed_at",
            "retain_until",
            "local_erasure",
            "identifiers",
            "tasks",
            "created_at",
        ]
        read_only_fields = [
            "id",
            "reference",
            "subject_type",
            "subject_masked",
            "deadline",
            "extended_deadline",
            "extension_reason",
            "status",
            "duplicate_of",
            "verified_at",
            "approved_at",
            "completed_at",
            "retain_until",
            "local_erasure",
            "created_at",
        ]


class ErasureNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ErasureReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ErasureTaskActionSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
