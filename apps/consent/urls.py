from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("consent/", views.LookupView.as_view(), name="lookup"),
    path("consent/record/", views.RecordView.as_view(), name="record"),
    path("consent/purposes/", views.PurposeListView.as_view(), name="purpose_list"),
    path("consent/purposes/new/", views.PurposeCreateView.as_view(), name="purpose_create"),
    path("consent/purposes/<int:pk>/edit/", views.PurposeEditView.as_view(), name="purpose_edit"),
]
