from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    AccessRequestViewSet,
    ApiTokenViewSet,
    GrantViewSet,
    MePermissionsView,
    MeView,
    ReviewItemViewSet,
    ReviewViewSet,
    RoleAssignmentViewSet,
    RoleViewSet,
    TokenObtainView,
    TrainingCompletionViewSet,
    TrainingViewSet,
    UserViewSet,
)

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("tokens", ApiTokenViewSet, basename="api-token")
router.register("roles", RoleViewSet, basename="role")
router.register("trainings", TrainingViewSet, basename="training")
router.register("training-completions", TrainingCompletionViewSet, basename="training-completion")
router.register("role-assignments", RoleAssignmentViewSet, basename="role-assignment")
router.register("grants", GrantViewSet, basename="grant")
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("reviews", ReviewViewSet, basename="review")
router.register("review-items", ReviewItemViewSet, basename="review-item")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/permissions/", MePermissionsView.as_view(), name="me-permissions"),
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    *router.urls,
]
