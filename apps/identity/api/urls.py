from rest_framework.routers import SimpleRouter

from .views import IdentityLinkViewSet, ProfileViewSet

router = SimpleRouter()
router.register("profiles", ProfileViewSet, basename="profile")
router.register("identity-links", IdentityLinkViewSet, basename="identity-link")
urlpatterns = router.urls
