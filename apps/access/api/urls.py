from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    AccessRequestViewSet,
    GrantViewSet,
    MePermissionsView,
    ReviewItemViewSet,
    ReviewViewSet,
    RoleAssignmentViewSet,
    RoleViewSet,
    TrainingCompletionViewSet,
    TrainingViewSet,
    UserAccessView,
)

router = SimpleRouter()
router.register("roles", RoleViewSet, basename="role")
router.register("trainings", TrainingViewSet, basename="training")
router.register("training-completions", TrainingCompletionViewSet, basename="training-completion")
router.register("role-assignments", RoleAssignmentViewSet, basename="role-assignment")
router.register("grants", GrantViewSet, basename="grant")
router.register("access-requests", AccessRequestViewSet, basename="access-request")
router.register("reviews", ReviewViewSet, basename="review")
router.register("review-items", ReviewItemViewSet, basename="review-item")

# The paths are the ones these endpoints had when they were part of the accounts API.
urlpatterns = [
    path("me/permissions/", MePermissionsView.as_view(), name="me-permissions"),
    path("users/<int:pk>/access/", UserAccessView.as_view(), name="user-access"),
    *router.urls,
]
