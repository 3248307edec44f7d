from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("audit/", views.AuditEventListView.as_view(), name="event_list"),
    path("audit/export/", views.AuditEventExportView.as_view(), name="event_export"),
    path("audit/<int:pk>/", views.AuditEventDetailView.as_view(), name="event_detail"),
]
