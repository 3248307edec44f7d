from django.urls import path

from . import views

app_name = "destinations"

urlpatterns = [
    path("", views.DestinationListView.as_view(), name="destination_list"),
    path("new/", views.DestinationCreateView.as_view(), name="destination_create"),
    path("<int:pk>/", views.DestinationDetailView.as_view(), name="destination_detail"),
    path("<int:pk>/edit/", views.DestinationEditView.as_view(), name="destination_edit"),
    path("<int:pk>/test/", views.DestinationTestView.as_view(), name="destination_test"),
    path("<int:pk>/toggle/", views.DestinationToggleView.as_view(), name="destination_toggle"),
    path("<int:pk>/load/", views.DestinationLoadView.as_view(), name="destination_load"),
    path("<int:pk>/hash-key/", views.DestinationHashKeyView.as_view(), name="destination_hash_key"),
    path("deliveries/", views.DeliveryListView.as_view(), name="deliveries"),
    path("dead-letters/", views.DeadLetterListView.as_view(), name="dead_letters"),
    path("dead-letters/replay/", views.ReplayView.as_view(), name="replay"),
    path("inbox/", views.InboxView.as_view(), name="inbox"),
]
