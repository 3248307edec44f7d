"""Serializers of the accounts API: people and API tokens.

Output serializers are read-only views of the models. Input serializers (``*InputSerializer``,
``*CreateSerializer``, …) only check the shape of a request body and turn ids into objects;
the service they feed decides whether the change is allowed and consistent.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.accounts.models import ApiToken, User
from martech.common.api import BoundedDateField, NonEmptyPatchMixin


def _user_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), **kwargs)


# --- People ---------------------------------------------------------------------------------


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


class UserCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=200)
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    manager = _user_field(required=False, allow_null=True)
    start_date = BoundedDateField(required=False, help_text="Defaults to today.")
    password = serializers.CharField(
        required=False,
        write_only=True,
        trim_whitespace=False,
        max_length=128,
        style={"input_type": "password"},
        help_text="Without one, the person cannot sign in with a password.",
    )

    def validate(self, attrs):
        password = attrs.get("password")
        if password:
            candidate = User(email=attrs["email"], full_name=attrs["full_name"])
            try:
                password_validation.validate_password(password, candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": exc.messages}) from exc
        return attrs


class UserUpdateSerializer(NonEmptyPatchMixin, serializers.Serializer):
    full_name = serializers.CharField(max_length=200, required=False)
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)
    job_title = serializers.CharField(max_length=150, required=False, allow_blank=True)
    manager = _user_field(required=False, allow_null=True)
    start_date = BoundedDateField(required=False)
    is_active = serializers.BooleanField(
        required=False, help_text="False deactivates the person: their access stops at once."
    )

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True  # every field is optional
        super().__init__(*args, **kwargs)


# --- API tokens -------------------------------------------------------------------------------


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
    code = serializers.CharField(
        write_only=True,
        required=False,
        max_length=64,
        help_text="With two-step sign-in: the authenticator app's current code, or a recovery "
        "code (spent).",
    )
