from django.urls import path

from . import views

app_name = "syncs"

urlpatterns = [
    path("warehouses/", views.WarehouseListView.as_view(), name="warehouse_list"),
    path("warehouses/new/", views.WarehouseCreateView.as_view(), name="warehouse_create"),
    path("warehouses/<int:pk>/", views.WarehouseDetailView.as_view(), name="warehouse_detail"),
    path("warehouses/<int:pk>/edit/", views.WarehouseEditView.as_view(), name="warehouse_edit"),
    path("warehouses/<int:pk>/test/", views.WarehouseTestView.as_view(), name="warehouse_test"),
    path("models/", views.ModelListView.as_view(), name="model_list"),
    path("models/new/", views.ModelCreateView.as_view(), name="model_create"),
    path("models/<int:pk>/", views.ModelDetailView.as_view(), name="model_detail"),
    path("models/<int:pk>/edit/", views.ModelEditView.as_view(), name="model_edit"),
]
