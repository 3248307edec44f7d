from django.urls import path

from . import views

app_name = "erasure"

urlpatterns = [
    path("erasure/", views.RequestListView.as_view(), name="request_list"),
    path("erasure/new/", views.RequestCreateView.as_view(), name="request_create"),
    path("erasure/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("erasure/<int:pk>/evidence/", views.EvidenceView.as_view(), name="evidence"),
    path("erasure/<int:pk>/evidence.csv", views.EvidenceCsvView.as_view(), name="evidence_csv"),
    path("erasure/<int:pk>/verify/", views.RequestVerifyView.as_view(), name="request_verify"),
    path("erasure/<int:pk>/approve/", views.RequestApproveView.as_view(), name="request_approve"),
    path("erasure/<int:pk>/extend/", views.RequestExtendView.as_view(), name="request_extend"),
    path(
        "erasure/<int:pk>/identifiers/<int:identifier_pk>/decide/",
        views.IdentifierDecideView.as_view(),
        name="identifier_decide",
    ),
    path("erasure/tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("erasure/tasks/<int:pk>/retry/", views.TaskRetryView.as_view(), name="task_retry"),
    path("erasure/tasks/<int:pk>/confirm/", views.TaskConfirmView.as_view(), name="task_confirm"),
    path(
        "erasure/tasks/<int:pk>/not-applicable/",
        views.TaskNotApplicableView.as_view(),
        name="task_not_applicable",
    ),
]
