from django.urls import path

from . import views
from . import views_access as access

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/tokens/", views.ApiTokenListView.as_view(), name="token_list"),
    path(
        "account/tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="token_revoke"
    ),
    path("people/", views.UserListView.as_view(), name="user_list"),
    path("people/new/", access.PersonCreateView.as_view(), name="user_create"),
    path("people/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("people/<int:pk>/edit/", access.PersonEditView.as_view(), name="user_edit"),
    path("people/<int:pk>/active/", access.PersonActiveView.as_view(), name="user_active"),
    path("people/<int:pk>/roles/", access.PersonAssignRoleView.as_view(), name="user_assign_role"),
    path(
        "people/<int:pk>/trainings/", access.PersonCompletionView.as_view(), name="user_completion"
    ),
    path("access/me/", access.MyAccessView.as_view(), name="my_access"),
    path("notifications/", access.NotificationListView.as_view(), name="notification_list"),
    path(
        "notifications/read/",
        access.NotificationsReadView.as_view(),
        name="notifications_read_all",
    ),
    path(
        "access/assignments/<int:pk>/remove/",
        access.AssignmentRemoveView.as_view(),
        name="assignment_remove",
    ),
    path(
        "access/completions/<int:pk>/delete/",
        access.CompletionDeleteView.as_view(),
        name="completion_delete",
    ),
    path("access/roles/", access.RoleListView.as_view(), name="role_list"),
    path("access/roles/new/", access.RoleCreateView.as_view(), name="role_create"),
    path("access/roles/<int:pk>/", access.RoleDetailView.as_view(), name="role_detail"),
    path("access/roles/<int:pk>/edit/", access.RoleEditView.as_view(), name="role_edit"),
    path("access/roles/<int:pk>/delete/", access.RoleDeleteView.as_view(), name="role_delete"),
    path(
        "access/roles/<int:pk>/capabilities/",
        access.RoleCapabilitySetView.as_view(),
        name="role_capability_set",
    ),
    path(
        "access/role-capabilities/<int:pk>/remove/",
        access.RoleCapabilityRemoveView.as_view(),
        name="role_capability_remove",
    ),
    path(
        "access/roles/<int:pk>/birthright/",
        access.BirthrightAddView.as_view(),
        name="birthright_add",
    ),
    path(
        "access/birthright-rules/<int:pk>/remove/",
        access.BirthrightRemoveView.as_view(),
        name="birthright_remove",
    ),
    path("access/trainings/", access.TrainingListView.as_view(), name="training_list"),
    path("access/trainings/new/", access.TrainingCreateView.as_view(), name="training_create"),
    path("access/trainings/<int:pk>/", access.TrainingDetailView.as_view(), name="training_detail"),
    path(
        "access/trainings/<int:pk>/edit/", access.TrainingEditView.as_view(), name="training_edit"
    ),
    path("access/requests/", access.RequestListView.as_view(), name="request_list"),
    path("access/requests/new/", access.RequestCreateView.as_view(), name="request_create"),
    path("access/requests/<int:pk>/", access.RequestDetailView.as_view(), name="request_detail"),
    path(
        "access/requests/<int:pk>/approve/",
        access.RequestApproveView.as_view(),
        name="request_approve",
    ),
    path(
        "access/requests/<int:pk>/reject/",
        access.RequestRejectView.as_view(),
        name="request_reject",
    ),
    path(
        "access/requests/<int:pk>/cancel/",
        access.RequestCancelView.as_view(),
        name="request_cancel",
    ),
    path("access/reviews/", access.ReviewListView.as_view(), name="review_list"),
    path("access/reviews/new/", access.ReviewCreateView.as_view(), name="review_create"),
    path("access/reviews/<int:pk>/", access.ReviewDetailView.as_view(), name="review_detail"),
    path("access/reviews/<int:pk>/close/", access.ReviewCloseView.as_view(), name="review_close"),
    path(
        "access/review-items/<int:pk>/decide/",
        access.ReviewItemDecideView.as_view(),
        name="review_item_decide",
    ),
]
