from rest_framework.routers import SimpleRouter

from .views import DbtRunViewSet, SqlModelViewSet, SyncRunViewSet, SyncViewSet, WarehouseViewSet

router = SimpleRouter()
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("models", SqlModelViewSet, basename="model")
router.register("syncs", SyncViewSet, basename="sync")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("dbt/runs", DbtRunViewSet, basename="dbt-run")
urlpatterns = router.urls
