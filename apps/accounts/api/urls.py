from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ApiTokenViewSet, MeView, TokenObtainView, UserViewSet

router = SimpleRouter()
router.register("users", UserViewSet, basename="user")
router.register("tokens", ApiTokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    *router.urls,
]
