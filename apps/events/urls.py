from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("sources/", views.SourceListView.as_view(), name="source_list"),
    path("sources/new/", views.SourceCreateView.as_view(), name="source_create"),
    path("sources/<int:pk>/", views.SourceDetailView.as_view(), name="source_detail"),
    path("sources/<int:pk>/edit/", views.SourceEditView.as_view(), name="source_edit"),
    path("sources/<int:pk>/rotate-key/", views.KeyRotateView.as_view(), name="key_rotate"),
    path("sources/<int:pk>/keys/<int:key_pk>/revoke/", views.KeyRevokeView.as_view(),
         name="key_revoke"),
]  # fmt: skip
