from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("sources/", views.SourceListView.as_view(), name="source_list"),
    path("sources/new/", views.SourceCreateView.as_view(), name="source_create"),
    path("sources/<int:pk>/", views.SourceDetailView.as_view(), name="source_detail"),
    path("sources/<int:pk>/edit/", views.SourceEditView.as_view(), name="source_edit"),
    path("sources/<int:pk>/rotate-key/", views.KeyRotateView.as_view(), name="key_rotate"),
    path("sources/<int:pk>/key/", views.KeyShownView.as_view(), name="key_shown"),
    path(
        "sources/<int:pk>/keys/<int:key_pk>/revoke/",
        views.KeyRevokeView.as_view(),
        name="key_revoke",
    ),
    path("sources/<int:pk>/replay/", views.SourceReplayView.as_view(), name="source_replay"),
    path("events/", views.EventListView.as_view(), name="event_list"),
    path("events/health/", views.PipelineHealthView.as_view(), name="health"),
    path("attribution/", views.AttributionView.as_view(), name="attribution"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="event_detail"),
    path("events/<int:pk>/replay/", views.EventReplayView.as_view(), name="event_replay"),
]
