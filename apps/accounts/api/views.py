"""The accounts API: people and API tokens.

Views are thin: an input serializer checks the body, one service makes the change (it checks
the caller's capability and audits), an output serializer answers. Reads go through the
selectors, which hide what the caller may not see (404).
"""

from django.contrib.auth import authenticate
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts import selectors, services, signin, sso
from apps.accounts.errors import AccountsErrorCode
from apps.accounts.filters import ApiTokenFilter, UserFilter
from apps.accounts.lockout import lockout_clear_pair
from apps.accounts.models import ApiToken, User
from martech.common.api import ErrorSerializer, error_body, validated_body
from martech.common.errors import PermissionDeniedError
from martech.common.permissions import BodyParsed, CapabilityWritesMixin

from .serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    TokenObtainSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)

CONFLICT = {409: ErrorSerializer}


# --- People ---------------------------------------------------------------------------------


class ManageWritesMixin(CapabilityWritesMixin):
    write_capability = "accounts.manage_access"


class UserViewSet(
    ManageWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The people directory. Everyone signed in reads it; changing it needs
    accounts.manage_access."""

    manage_actions = frozenset({"create", "partial_update"})
    lookup_value_regex = r"\d+"
    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["full_name", "email", "start_date", "team"]
    ordering = ["full_name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return selectors.user_list(user=self.request.user)

    def get_object(self):
        return selectors.user_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=UserCreateSerializer, responses={201: UserSerializer, **CONFLICT})
    def create(self, request, *args, **kwargs):
        """Add a person; birthright rules give them their roles at once."""
        data = validated_body(UserCreateSerializer, request)
        person = services.user_create(actor=request.user, **data)
        return Response(UserSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change a person's attributes, or (de)activate them; access follows at once."""
        person = self.get_object()
        changes = validated_body(UserUpdateSerializer, request)
        active = changes.pop("is_active", None)
        # One answer for the whole body: a refused part undoes the others.
        with transaction.atomic():
            if changes:
                person = services.user_update(actor=request.user, user=person, **changes)
            if active is not None:
                person = services.user_set_active(actor=request.user, user=person, active=active)
        return Response(UserSerializer(person).data)


class MeView(APIView):
    """The person the request is authenticated as."""

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


# --- API tokens -------------------------------------------------------------------------------


def _created(token, raw) -> dict:
    data = ApiTokenSerializer(token).data
    data["token"] = raw
    return data


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API tokens. A token is shown once, when it is created; DELETE revokes it."""

    lookup_value_regex = r"\d+"
    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilter
    ordering_fields = ["created_at", "expires_at", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return selectors.api_token_list(user=self.request.user)

    def get_object(self):
        return selectors.api_token_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.api_token_create(user=request.user, **serializer.validated_data)
        return Response(_created(token, raw), status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 409: ErrorSerializer})
    def destroy(self, request, *args, **kwargs):
        services.api_token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _second_factor_refusal(request, user, code: str | None) -> Response | None:
    """Refuse a token to someone who owes a second factor and did not give it (or gave a
    wrong one, which counts as a failed sign-in); None when the sign-in is complete."""
    if not selectors.mfa_owed(user=user):
        return None
    if not selectors.mfa_enrolled(user=user):
        return Response(
            error_body(
                AccountsErrorCode.MFA_ENROLMENT_REQUIRED,
                "Your access needs two-step sign-in: sign in to the console to set it up, "
                "then ask for a token with a code.",
            ),
            status=status.HTTP_403_FORBIDDEN,
        )
    if not code:
        return _unauthorised(
            AccountsErrorCode.SECOND_FACTOR_REQUIRED,
            "Give `code`: your authenticator app's current code, or a recovery code.",
        )
    if signin.code_check(request, user=user, code=code) is None:
        return _unauthorised(AccountsErrorCode.INVALID_MFA_CODE, "That code is not right.")
    return None


def _unauthorised(code: str, message: str) -> Response:
    return Response(
        error_body(code, message),
        status=status.HTTP_401_UNAUTHORIZED,
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


class TokenObtainView(APIView):
    """Exchange an email and password (and, with two-step sign-in, a code) for a new API
    token (throttled, with lockout: wrong codes count as wrong passwords do)."""

    authentication_classes = []
    permission_classes = [AllowAny, BodyParsed]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token_obtain"

    @extend_schema(
        request=TokenObtainSerializer,
        responses={201: ApiTokenCreatedSerializer, 401: ErrorSerializer, 403: ErrorSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if sso.sso_required() and not sso.is_break_glass(data["email"]):
            # A password exchange is a password sign-in; tokens already issued keep working.
            raise PermissionDeniedError(sso.password_refusal(), code=AccountsErrorCode.SSO_REQUIRED)
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if user is None:
            return _unauthorised(
                AccountsErrorCode.INVALID_CREDENTIALS,
                "That email and password do not match an active account.",
            )
        refused = _second_factor_refusal(request._request, user, data.get("code"))
        if refused is not None:
            return refused
        lockout_clear_pair(request._request, data["email"])
        token, raw = services.api_token_create(user=user, name=data["name"], days=data.get("days"))
        return Response(_created(token, raw), status=status.HTTP_201_CREATED)
