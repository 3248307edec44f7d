from rest_framework.routers import SimpleRouter

from .views import SchemaVersionViewSet, SchemaViewSet, TrackingPlanViewSet, ViolationViewSet

router = SimpleRouter()
router.register("schemas", SchemaViewSet, basename="schema")
router.register(
    r"schemas/(?P<schema_pk>\d+)/versions", SchemaVersionViewSet, basename="schema-version"
)
router.register("tracking-plans", TrackingPlanViewSet, basename="tracking-plan")
router.register("violations", ViolationViewSet, basename="violation")
urlpatterns = router.urls
