from rest_framework.routers import SimpleRouter

from .views import SourceViewSet

router = SimpleRouter()
router.register("sources", SourceViewSet, basename="source")
urlpatterns = router.urls
