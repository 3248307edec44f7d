from rest_framework.routers import SimpleRouter

from .views import EventViewSet, SourceViewSet

router = SimpleRouter()
router.register("sources", SourceViewSet, basename="source")
router.register("events", EventViewSet, basename="event")
urlpatterns = router.urls
