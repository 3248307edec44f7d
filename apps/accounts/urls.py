from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/sso/", views.SsoStartView.as_view(), name="sso_start"),
    path("login/sso/callback/", views.SsoCallbackView.as_view(), name="sso_callback"),
    path("login/code/", views.LoginCodeView.as_view(), name="login_code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/two-step/", views.MfaView.as_view(), name="mfa"),
    path("account/two-step/setup/", views.MfaSetupView.as_view(), name="mfa_setup"),
    path(
        "account/two-step/recovery-codes/",
        views.MfaRecoveryCodesView.as_view(),
        name="mfa_recovery_codes",
    ),
    path("account/two-step/remove/", views.MfaRemoveView.as_view(), name="mfa_remove"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/tokens/", views.ApiTokenListView.as_view(), name="token_list"),
    path(
        "account/tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="token_revoke"
    ),
    path("people/", views.UserListView.as_view(), name="user_list"),
    path("people/new/", views.PersonCreateView.as_view(), name="user_create"),
    path("people/<int:pk>/", views.UserDetailView.as_view(), name="user_detail"),
    path("people/<int:pk>/edit/", views.PersonEditView.as_view(), name="user_edit"),
    path("people/<int:pk>/active/", views.PersonActiveView.as_view(), name="user_active"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path(
        "notifications/read/",
        views.NotificationsReadView.as_view(),
        name="notifications_read_all",
    ),
]
