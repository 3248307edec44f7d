from rest_framework.routers import SimpleRouter

from .views import DeadLetterViewSet, DeliveryViewSet, DestinationViewSet

router = SimpleRouter()
router.register("destinations", DestinationViewSet, basename="destination")
router.register("deliveries", DeliveryViewSet, basename="delivery")
router.register("dead-letters", DeadLetterViewSet, basename="dead-letter")
urlpatterns = router.urls
