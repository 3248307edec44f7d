from django.conf import settings
from rest_framework import serializers

from apps.accounts.models import ApiToken, User


class UserSerializer(serializers.ModelSerializer):
    manager_id = serializers.IntegerField(allow_null=True, read_only=True)
    tenure_days = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "team",
            "job_title",
            "manager_id",
            "start_date",
            "tenure_days",
            "is_active",
        ]
        read_only_fields = fields

    def get_tenure_days(self, obj: User) -> int:
        return obj.tenure_days()


class ApiTokenSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "status",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    days = serializers.IntegerField(
        min_value=1, max_value=settings.API_TOKEN_MAX_DAYS, required=False
    )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself, shown only once.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenObtainSerializer(ApiTokenCreateSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, trim_whitespace=False)
