from django.urls import path

from . import views

app_name = "tools"

urlpatterns = [
    path("tools/", views.ToolListView.as_view(), name="tool_list"),
    path("tools/new/", views.ToolCreateView.as_view(), name="tool_create"),
    path("tools/redundancy/", views.RedundancyView.as_view(), name="redundancy"),
    path("tools/renewals/", views.RenewalsView.as_view(), name="renewals"),
    path("tools/advisor/", views.AdvisorView.as_view(), name="advisor"),
    path("tools/export.csv", views.ToolExportView.as_view(), name="tool_export"),
    path("tools/import/", views.ToolImportView.as_view(), name="tool_import"),
    path("tools/<int:pk>/", views.ToolDetailView.as_view(), name="tool_detail"),
    path("tools/<int:pk>/edit/", views.ToolEditView.as_view(), name="tool_edit"),
]
