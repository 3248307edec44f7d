from rest_framework.routers import SimpleRouter

from .views import IntakeRequestViewSet

router = SimpleRouter()
router.register("intake-requests", IntakeRequestViewSet, basename="intake-request")
urlpatterns = router.urls
