from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.errors import AccountsErrorCode
from apps.accounts.filters import ApiTokenFilter, UserFilter
from apps.accounts.models import ApiToken
from martech.common.api import ErrorSerializer, error_body

from .serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    TokenObtainSerializer,
    UserSerializer,
)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """The people directory."""

    lookup_value_regex = r"\d+"
    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["full_name", "email", "start_date", "team"]
    ordering = ["full_name"]

    def get_queryset(self):
        return selectors.user_list(user=self.request.user)


class MeView(APIView):
    """The person the request is authenticated as."""

    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)


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


class TokenObtainView(APIView):
    """Exchange an email and password for a new API token (throttled, with lockout)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token_obtain"

    @extend_schema(
        request=TokenObtainSerializer,
        responses={201: ApiTokenCreatedSerializer, 401: ErrorSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = TokenObtainSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if user is None:
            return Response(
                error_body(
                    AccountsErrorCode.INVALID_CREDENTIALS,
                    "That email and password do not match an active account.",
                ),
                status=status.HTTP_401_UNAUTHORIZED,
                headers={"WWW-Authenticate": 'Bearer realm="api"'},
            )
        token, raw = services.api_token_create(user=user, name=data["name"], days=data.get("days"))
        return Response(_created(token, raw), status=status.HTTP_201_CREATED)
