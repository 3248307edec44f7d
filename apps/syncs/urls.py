from django.urls import path

from . import views

app_name = "syncs"

urlpatterns = [
    path("warehouses/", views.WarehouseListView.as_view(), name="warehouse_list"),
    path("warehouses/new/", views.WarehouseCreateView.as_view(), name="warehouse_create"),
    path("warehouses/<int:pk>/", views.WarehouseDetailView.as_view(), name="warehouse_detail"),
    path("warehouses/<int:pk>/edit/", views.WarehouseEditView.as_view(), name="warehouse_edit"),
    path("warehouses/<int:pk>/test/", views.WarehouseTestView.as_view(), name="warehouse_test"),
    path("warehouses/<int:pk>/dbt/", views.WarehouseDbtView.as_view(), name="warehouse_dbt"),
    path(
        "warehouses/<int:pk>/dbt/pick/",
        views.WarehouseDbtPickView.as_view(),
        name="warehouse_dbt_pick",
    ),
    path("models/", views.ModelListView.as_view(), name="model_list"),
    path("models/new/", views.ModelCreateView.as_view(), name="model_create"),
    path("models/<int:pk>/", views.ModelDetailView.as_view(), name="model_detail"),
    path("models/<int:pk>/edit/", views.ModelEditView.as_view(), name="model_edit"),
    path("syncs/", views.SyncListView.as_view(), name="sync_list"),
    path("syncs/new/", views.SyncCreateView.as_view(), name="sync_create"),
    path("syncs/<int:pk>/", views.SyncDetailView.as_view(), name="sync_detail"),
    path("syncs/<int:pk>/edit/", views.SyncEditView.as_view(), name="sync_edit"),
    path("syncs/<int:pk>/mappings/", views.SyncMappingsView.as_view(), name="sync_mappings"),
    path("syncs/<int:pk>/run/", views.SyncRunView.as_view(), name="sync_run"),
    path("syncs/<int:pk>/dry-run/", views.SyncDryRunView.as_view(), name="sync_dry_run"),
    path("syncs/<int:pk>/pause/", views.SyncPauseView.as_view(), name="sync_pause"),
    path("syncs/<int:pk>/resume/", views.SyncResumeView.as_view(), name="sync_resume"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/approve/", views.RunApproveView.as_view(), name="run_approve"),
    path("runs/<int:pk>/cancel/", views.RunCancelView.as_view(), name="run_cancel"),
]
