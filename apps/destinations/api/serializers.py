from rest_framework import serializers

from apps.tools.models import Tool
from martech.common.api import MappingSerializer

from ..adapters import adapter_choices
from ..choices import DeliveryStatus, Environment, FilterReason, Sends
from ..models import Capture, Delivery, Destination, WarehouseLoad


class VendorTextField(serializers.CharField):
    """A vendor's words (an error body): given only to those who manage the destination
    (``selectors.vendor_text_reader``), null for everyone else."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault(
            "help_text",
            "The vendor's answer, for those who manage the "
            "destination; null for others (the status and code stay).",
        )
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        request = self.context.get("request")
        readers = self.context.setdefault("_vendor_text_reader", {})
        if "may_read" not in readers:
            from ..selectors import vendor_text_reader

            readers["may_read"] = vendor_text_reader(getattr(request, "user", None))
        destination = instance if isinstance(instance, Destination) else instance.destination
        return value if readers["may_read"](destination) else None


class DestinationSerializer(serializers.ModelSerializer):
    adapter = serializers.ChoiceField(choices=[])
    tool = serializers.PrimaryKeyRelatedField(queryset=Tool.objects.all())
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    sends = serializers.ChoiceField(choices=Sends.choices, required=False)
    config = serializers.DictField(required=False)
    purposes = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=30,
        help_text="Consent purposes an event's subject must grant. An adapter that sells or "
        "shares personal data (Meta Conversions API, Google Ads) always requires sale_share: "
        "it is stored and returned among them, and a list sent without it is refused with "
        "400 purpose_required.",
    )
    event_names = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=500
    )
    mappings = MappingSerializer(many=True, required=False)
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=4000, allow_blank=True),
        write_only=True,
        required=False,
        help_text="Write-only: stored encrypted, never returned. An empty "
        "value clears that credential; absent names are kept.",
    )
    last_error = VendorTextField()
    credentials_set = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Names of the credentials that are set.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["adapter"].choices = adapter_choices()

    class Meta:
        model = Destination
        fields = [
            "id",
            "name",
            "adapter",
            "tool",
            "environment",
            "description",
            "config",
            "credentials",
            "credentials_set",
            "base_url",
            "purposes",
            "sends",
            "event_names",
            "mappings",
            "is_enabled",
            "last_success_at",
            "last_error",
            "last_error_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "credentials_set",
            "last_success_at",
            "last_error",
            "last_error_at",
            "created_at",
            "updated_at",
        ]


class DeliverySerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    reason = serializers.ChoiceField(choices=FilterReason.choices, read_only=True)
    error = VendorTextField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "destination",
            "event_id",
            "message_id",
            "event_name",
            "status",
            "reason",
            "consent",
            "attempts",
            "first_attempt_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "response_code",
            "error",
            "replayed_at",
            "created_at",
        ]
        read_only_fields = fields


class CaptureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Capture
        fields = ["id", "destination", "method", "url", "headers", "body", "items", "created_at"]
        read_only_fields = fields


class WarehouseLoadSerializer(serializers.ModelSerializer):
    lag_seconds = serializers.SerializerMethodField(
        help_text="How long the newest event loaded waited for its load."
    )

    class Meta:
        model = WarehouseLoad
        fields = [
            "id",
            "destination",
            "status",
            "started_at",
            "finished_at",
            "after_event_id",
            "last_event_id",
            "events",
            "loaded",
            "filtered",
            "rows",
            "added",
            "conflicts",
            "newest_received_at",
            "lag_seconds",
            "error",
        ]
        read_only_fields = fields

    def get_lag_seconds(self, load) -> float | None:
        return load.lag.total_seconds() if load.lag is not None else None


class DeadLetterReplaySerializer(serializers.Serializer):
    deliveries = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=10_000
    )
    destination = serializers.IntegerField(
        min_value=1, required=False, help_text="Every dead letter of this destination."
    )


class DeadLettersReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()
    filtered = serializers.IntegerField(help_text="Consent or suppression changed since.")


class SendTestSerializer(serializers.Serializer):
    send = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also send the sample requests to the vendor and return its answers "
        "(a production destination needs destinations.send_production).",
    )


class VendorAnswerSerializer(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.CharField(help_text="Credentials in the query are masked.")
    status = serializers.IntegerField(allow_null=True, help_text="Null: no answer.")
    body = serializers.CharField(
        help_text="The vendor's answer, credentials scrubbed, at most 4000 characters."
    )
    error = serializers.CharField(help_text="Why nothing was sent or answered.")
    refused = serializers.BooleanField(help_text="Not sent: the egress policy refused it.")


class SendTestResultSerializer(serializers.Serializer):
    captures = CaptureSerializer(many=True)
    answers = VendorAnswerSerializer(many=True)


class HashKeySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Shown this once.")
    table = serializers.CharField(help_text="Where the warehouse holds it: <schema>.hash_key.")
    construction = serializers.CharField(help_text="How deleted_users' hashes are made.")
