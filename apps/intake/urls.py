from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("intake/", views.BoardView.as_view(), name="board"),
    path("intake/requests/", views.RequestListView.as_view(), name="request_list"),
    path("intake/new/", views.RequestCreateView.as_view(), name="request_create"),
    path("intake/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("intake/<int:pk>/problem/", views.ProblemEditView.as_view(), name="problem_edit"),
    path("intake/<int:pk>/system/", views.SystemEditView.as_view(), name="system_edit"),
    path("intake/<int:pk>/advance/", views.AdvanceView.as_view(), name="advance"),
    path("intake/<int:pk>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
    path("intake/<int:pk>/approve/", views.VoteView.as_view(), name="approve"),
    path("intake/<int:pk>/reject/", views.RejectView.as_view(), name="reject"),
    path("intake/<int:pk>/defer/", views.DeferView.as_view(), name="defer"),
    path("intake/<int:pk>/reopen/", views.ReopenView.as_view(), name="reopen"),
    path(
        "intake/<int:pk>/stakeholders/",
        views.StakeholderAddView.as_view(),
        name="stakeholder_add",
    ),
    path("intake/<int:pk>/candidates/", views.CandidateAddView.as_view(), name="candidate_add"),
    path(
        "intake/stakeholders/<int:pk>/remove/",
        views.StakeholderRemoveView.as_view(),
        name="stakeholder_remove",
    ),
    path(
        "intake/candidates/<int:pk>/prefer/",
        views.CandidatePreferView.as_view(),
        name="candidate_prefer",
    ),
    path(
        "intake/candidates/<int:pk>/remove/",
        views.CandidateRemoveView.as_view(),
        name="candidate_remove",
    ),
    path("intake/onboarding/<int:pk>/", views.TaskSetView.as_view(), name="task_set"),
]
