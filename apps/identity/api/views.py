from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.access.rules import require
from apps.identity import selectors, services
from apps.identity.filters import ProfileFilter
from apps.identity.models import Link, Merge, Profile
from martech.common.api import ErrorSerializer, validated_body
from martech.common.errors import NotFoundError

from .serializers import (
    LinkSerializer,
    MergeRequestSerializer,
    ProfileDetailSerializer,
    ProfileSerializer,
    ReviewSerializer,
    UnmergeSerializer,
)

CONFLICT = {409: ErrorSerializer}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "identifier", str, description="type:value, e.g. email:ana@example.com"
            )
        ]
    )
)
class ProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Profiles of the identity graph (identity.view). Look one up with
    ``?identifier=<type>:<value>``; merge and unmerge need identity.manage."""

    lookup_value_regex = r"\d+"
    serializer_class = ProfileSerializer
    filterset_class = ProfileFilter
    ordering_fields = ["updated_at", "created_at", "id"]
    ordering = ["-updated_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Profile.objects.none()
        return selectors.profile_list(user=self.request.user).prefetch_related("identifiers")

    def get_object(self):
        return selectors.profile_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(responses=ProfileDetailSerializer)
    def retrieve(self, request, *args, **kwargs):
        return Response(ProfileDetailSerializer(self.get_object()).data)

    @extend_schema(
        request=MergeRequestSerializer, responses={200: ProfileDetailSerializer, **CONFLICT}
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def merge(self, request, *args, **kwargs):
        """Merge with another profile: a deterministic link with you as its provenance.
        A limit (such as two different user ids) answers 409 ``merge_conflict``."""
        profile = self.get_object()
        require(request.user, "identity.manage", "merge profiles")
        data = validated_body(MergeRequestSerializer, request)
        other = selectors.profile_get(user=request.user, pk=data["other"])
        services.profile_merge(actor=request.user, profile=profile, other=other, note=data["note"])
        profile.refresh_from_db()
        target = selectors.profile_get(user=request.user, pk=profile.merged_into_id or profile.pk)
        return Response(ProfileDetailSerializer(target).data)

    @extend_schema(request=UnmergeSerializer, responses={200: ProfileDetailSerializer, **CONFLICT})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def unmerge(self, request, *args, **kwargs):
        """Undo one of this profile's merges; the profiles split again."""
        profile = self.get_object()
        require(request.user, "identity.manage", "undo merges")
        data = validated_body(UnmergeSerializer, request)
        merge = Merge.objects.filter(pk=data["merge"], winner=profile).first()
        if merge is None:
            raise NotFoundError("This profile has no such merge.")
        services.merge_undo(actor=request.user, merge=merge)
        return Response(ProfileDetailSerializer(self.get_object()).data)


class IdentityLinkViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Identity links. ``?status=pending`` is the review queue; confirm or reject with
    identity.manage."""

    lookup_value_regex = r"\d+"
    serializer_class = LinkSerializer
    filterset_fields = {"status": ["exact"], "kind": ["exact"]}
    ordering_fields = ["observed_at", "confidence", "id"]
    ordering = ["-observed_at", "-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Link.objects.none()
        require(self.request.user, "identity.view", "see identity links")
        return Link.objects.select_related("a", "b").all()

    def get_object(self):
        return selectors.link_get(user=self.request.user, pk=self.kwargs["pk"])

    def _review(self, request, confirm):
        link = self.get_object()
        require(request.user, "identity.manage", "review identity links")
        note = validated_body(ReviewSerializer, request)["note"]
        link = services.link_review(actor=request.user, link=link, confirm=confirm, note=note)
        return Response(LinkSerializer(link).data)

    @extend_schema(request=ReviewSerializer, responses={200: LinkSerializer, **CONFLICT})
    @action(detail=True, methods=["post"], pagination_class=None)
    def confirm(self, request, *args, **kwargs):
        """Confirm a probabilistic link: it becomes deterministic and may merge profiles."""
        return self._review(request, True)

    @extend_schema(request=ReviewSerializer, responses={200: LinkSerializer, **CONFLICT})
    @action(detail=True, methods=["post"], pagination_class=None)
    def reject(self, request, *args, **kwargs):
        """Reject a probabilistic link: it never merges."""
        return self._review(request, False)
