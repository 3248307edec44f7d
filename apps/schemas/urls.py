from django.urls import path

from . import views

app_name = "schemas"

urlpatterns = [
    path("schemas/", views.SchemaListView.as_view(), name="schema_list"),
    path("schemas/new/", views.SchemaCreateView.as_view(), name="schema_create"),
    path("schemas/<int:pk>/", views.SchemaDetailView.as_view(), name="schema_detail"),
    path("schemas/<int:pk>/edit/", views.SchemaEditView.as_view(), name="schema_edit"),
    path("schemas/<int:pk>/draft/", views.DraftCreateView.as_view(), name="draft_create"),
    path(
        "schemas/<int:pk>/versions/<int:version_pk>/",
        views.VersionDetailView.as_view(),
        name="version_detail",
    ),
    path(
        "schemas/<int:pk>/versions/<int:version_pk>/edit/",
        views.VersionEditView.as_view(),
        name="version_edit",
    ),
    path(
        "schemas/<int:pk>/versions/<int:version_pk>/publish/",
        views.VersionPublishView.as_view(),
        name="version_publish",
    ),
    path(
        "schemas/<int:pk>/versions/<int:version_pk>/deprecate/",
        views.VersionDeprecateView.as_view(),
        name="version_deprecate",
    ),
    path(
        "schemas/<int:pk>/versions/<int:version_pk>/discard/",
        views.VersionDiscardView.as_view(),
        name="version_discard",
    ),
    path("tracking-plans/", views.PlanListView.as_view(), name="plan_list"),
    path("tracking-plans/new/", views.PlanFormView.as_view(), name="plan_create"),
    path("tracking-plans/import/", views.PlanImportView.as_view(), name="plan_import"),
    path("tracking-plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("tracking-plans/<int:pk>/edit/", views.PlanFormView.as_view(), name="plan_edit"),
    path("tracking-plans/<int:pk>/export/", views.PlanExportView.as_view(), name="plan_export"),
    path("schema-violations/", views.ViolationsView.as_view(), name="violations"),
    path(
        "schema-violations/observations/<int:pk>/draft/",
        views.ObservationDraftView.as_view(),
        name="observation_draft",
    ),
]
