from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ConsentRecordViewSet, ConsentStateView, PurposeViewSet

router = SimpleRouter()
router.register("consent-records", ConsentRecordViewSet, basename="consent-record")
router.register("purposes", PurposeViewSet, basename="purpose")
urlpatterns = [
    path("consent-state/", ConsentStateView.as_view(), name="consent-state"),
    *router.urls,
]
