from django.urls import path

from . import views

# The paths are the ones these pages had when they were part of accounts.
app_name = "access"

urlpatterns = [
    path("people/<int:pk>/roles/", views.PersonAssignRoleView.as_view(), name="user_assign_role"),
    path(
        "people/<int:pk>/trainings/", views.PersonCompletionView.as_view(), name="user_completion"
    ),
    path("access/me/", views.MyAccessView.as_view(), name="my_access"),
    path(
        "access/assignments/<int:pk>/remove/",
        views.AssignmentRemoveView.as_view(),
        name="assignment_remove",
    ),
    path(
        "access/completions/<int:pk>/delete/",
        views.CompletionDeleteView.as_view(),
        name="completion_delete",
    ),
    path("access/roles/", views.RoleListView.as_view(), name="role_list"),
    path("access/roles/new/", views.RoleCreateView.as_view(), name="role_create"),
    path("access/roles/<int:pk>/", views.RoleDetailView.as_view(), name="role_detail"),
    path("access/roles/<int:pk>/edit/", views.RoleEditView.as_view(), name="role_edit"),
    path("access/roles/<int:pk>/delete/", views.RoleDeleteView.as_view(), name="role_delete"),
    path(
        "access/roles/<int:pk>/capabilities/",
        views.RoleCapabilitySetView.as_view(),
        name="role_capability_set",
    ),
    path(
        "access/role-capabilities/<int:pk>/remove/",
        views.RoleCapabilityRemoveView.as_view(),
        name="role_capability_remove",
    ),
    path(
        "access/roles/<int:pk>/birthright/",
        views.BirthrightAddView.as_view(),
        name="birthright_add",
    ),
    path(
        "access/birthright-rules/<int:pk>/remove/",
        views.BirthrightRemoveView.as_view(),
        name="birthright_remove",
    ),
    path("access/trainings/", views.TrainingListView.as_view(), name="training_list"),
    path("access/trainings/new/", views.TrainingCreateView.as_view(), name="training_create"),
    path("access/trainings/<int:pk>/", views.TrainingDetailView.as_view(), name="training_detail"),
    path("access/trainings/<int:pk>/edit/", views.TrainingEditView.as_view(), name="training_edit"),
    path("access/requests/", views.RequestListView.as_view(), name="request_list"),
    path("access/requests/new/", views.RequestCreateView.as_view(), name="request_create"),
    path("access/requests/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path(
        "access/requests/<int:pk>/approve/",
        views.RequestApproveView.as_view(),
        name="request_approve",
    ),
    path(
        "access/requests/<int:pk>/reject/",
        views.RequestRejectView.as_view(),
        name="request_reject",
    ),
    path(
        "access/requests/<int:pk>/cancel/",
        views.RequestCancelView.as_view(),
        name="request_cancel",
    ),
    path("access/reviews/", views.ReviewListView.as_view(), name="review_list"),
    path("access/reviews/new/", views.ReviewCreateView.as_view(), name="review_create"),
    path("access/reviews/<int:pk>/", views.ReviewDetailView.as_view(), name="review_detail"),
    path("access/reviews/<int:pk>/close/", views.ReviewCloseView.as_view(), name="review_close"),
    path(
        "access/review-items/<int:pk>/decide/",
        views.ReviewItemDecideView.as_view(),
        name="review_item_decide",
    ),
]
