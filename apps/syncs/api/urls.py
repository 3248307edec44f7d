from rest_framework.routers import SimpleRouter

from .views import SqlModelViewSet, WarehouseViewSet

router = SimpleRouter()
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("models", SqlModelViewSet, basename="model")
urlpatterns = router.urls
