"""Browser views of the accounts app: sign-in, password, tokens, people, notifications."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.generic import TemplateView, View
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from apps.access.forms import AssignRoleForm, CompletionForm
from apps.access.models import AccessAssignment
from apps.access.rules import (
    explain,
    may_change_person,
    require,
    require_may_change_person,
    status_groups,
    upcoming_messages,
    user_can,
)
from apps.access.selectors import can_view_access_of
from apps.audit.selectors import audit_history_for
from martech.common.errors import ApplicationError, PermissionDeniedError
from martech.common.views import (
    ActionView,
    Consequence,
    FilteredListView,
    ServiceFormView,
    count_of,
)

from . import selectors, services, sso
from .errors import AccountsErrorCode
from .filters import ApiTokenPageFilter, NotificationFilter, UserFilter
from .forms import ApiTokenCreateForm, LoginForm, PersonForm
from .models import ApiToken
from .notifications import notifications_mark_read

MANAGE = "accounts.manage_access"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "sso_provider": sso.provider_name() if sso.enabled() else "",
            "sso_required": sso.sso_required(),
        }


class SsoStartView(OIDCAuthenticationRequestView):
    """Send the browser to the provider: mozilla-django-oidc makes the state, the nonce and
    the PKCE pair and keeps them in the session; the endpoint comes from discovery."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the endpoints are read per request, from discovery

    def get(self, request):
        if not sso.enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = sso.provider().authorization_endpoint
        except sso.SsoRefused as refusal:
            return _sso_refused(request, refusal)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


def _sso_refused(request, refusal: sso.SsoRefused):
    """Tell the person why on the sign-in page, and audit the refusal with its reason."""
    services.sso_sign_in_refused(
        provider=sso.provider_name(), code=refusal.code, email=refusal.email
    )
    messages.error(request, refusal.message)
    return redirect("accounts:login")


class SsoCallbackView(View):
    """The provider's answer: the state must be one this browser's session was given (used
    once), then the backend verifies the code, the ID token and who the person is."""

    http_method_names = ["get"]

    def get(self, request):
        if not sso.enabled():
            raise Http404
        name = sso.provider_name()
        states = request.session.get("oidc_states")
        states = states if isinstance(states, dict) else {}
        # A state is used once, also when the provider answers with an error.
        issued = states.pop(request.GET.get("state", ""), None)
        request.session["oidc_states"] = states
        if request.GET.get("error"):
            return _sso_refused(
                request,
                sso.SsoRefused(
                    AccountsErrorCode.SSO_CANCELLED,
                    f"The sign-in with {name} was cancelled or refused there. Try again.",
                ),
            )
        if not isinstance(issued, dict) or not request.GET.get("code"):
            return _sso_refused(
                request,
                sso.SsoRefused(
                    AccountsErrorCode.SSO_STATE_MISMATCH,
                    f"This answer from {name} does not belong to a sign-in started in this "
                    "browser. Start the sign-in again.",
                ),
            )
        backend = sso.SsoBackend()
        try:
            user = backend.authenticate(
                request, nonce=issued.get("nonce"), code_verifier=issued.get("code_verifier")
            )
        except sso.SsoRefused as refusal:
            return _sso_refused(request, refusal)
        if user is None:
            return _sso_refused(
                request,
                sso.SsoRefused(
                    AccountsErrorCode.SSO_INVALID_TOKEN,
                    f"The answer from {name} could not be verified. Start the sign-in again.",
                ),
            )
        next_url = request.session.pop("oidc_login_next", None)
        user.backend = sso.BACKEND  # the sign-in's audit record names the provider by it
        login(request, user)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        # The new password and its audit record commit together.
        with transaction.atomic():
            response = super().form_valid(form)
            services.user_password_changed(user=self.request.user)
        messages.success(self.request, "Your password was changed.")
        return response


_NEW_TOKEN_ONCE = "accounts.api_token_once"  # noqa: S105 - a session key, not a secret


class ApiTokenListView(FilteredListView):
    """Your API tokens. A new token is created by POST and shown by the GET it redirects to,
    once (held in the session until then), so a reload neither resends the form nor shows
    the token again."""

    template_name = "accounts/token_list.html"
    partial_template_name = "accounts/_token_table.html"
    filterset_class = ApiTokenPageFilter
    sortable = {
        "name": "name",
        "token": "prefix",
        "created": "created_at",
        "expires": "expires_at",
        "last_used": "last_used_at",
    }
    default_sort = "-created"
    form = None
    new_token = None

    def get_queryset(self):
        tokens = selectors.api_token_list(user=self.request.user)
        return ApiTokenPageFilter(self.request.GET, queryset=tokens).qs

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "form": self.form or ApiTokenCreateForm(),
            "new_token": self.new_token,
        }

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # A new token is on this page once: never keep it in a cache or the history.
        add_never_cache_headers(response)
        return response

    def get(self, request, *args, **kwargs):
        once = request.session.pop(_NEW_TOKEN_ONCE, None) or {}
        token = selectors.api_token_list(user=request.user).filter(pk=once.get("token")).first()
        self.new_token = {"token": token, "raw": once["raw"]} if token is not None else None
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self.form = form = ApiTokenCreateForm(request.POST)
        if form.is_valid():
            try:
                token, raw = services.api_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                request.session[_NEW_TOKEN_ONCE] = {"token": token.pk, "raw": raw}
                return redirect("accounts:token_list")
        return self.render_to_response(self.get_context_data(), status=400)


class ApiTokenRevokeView(ActionView):
    def fallback_url(self, request, pk):
        return reverse("accounts:token_list")

    def consequence(self, request, pk):
        token = selectors.api_token_get(user=request.user, pk=pk)
        if token.revoked_at is not None:
            return None  # refused by the service with its reason
        used = (
            f"It was last used {token.last_used_at:%Y-%m-%d %H:%M}."
            if token.last_used_at
            else "It has not been used."
        )
        return Consequence(
            title=f"Revoke “{token.name}”?",
            lines=(f"Anything using {token.prefix}… gets 401 at once. {used}",),
            button="Revoke",
            final=True,
        )

    def act(self, request, pk):
        token = selectors.api_token_get(user=request.user, pk=pk)
        services.api_token_revoke(token=token)
        return reverse("accounts:token_list"), f"Token “{token.name}” was revoked."


class UserListView(FilteredListView):
    template_name = "accounts/user_list.html"
    filterset_class = UserFilter
    partial_template_name = "accounts/_user_table.html"
    sortable = {
        "name": ("full_name", "email"),
        "team": "team",
        "title": "job_title",
        "manager": "manager__full_name",
        "tenure": "-start_date",
        "status": "is_active",
    }
    default_sort = "name"

    def get_queryset(self):
        return selectors.user_list(user=self.request.user, filters=self.request.GET)


class UserDetailView(LoginRequiredMixin, TemplateView):
    """A person: profile, and for those allowed, each capability and why (or what is missing)."""

    template_name = "accounts/user_detail.html"

    def get_context_data(self, **kwargs):
        viewer = self.request.user
        person = selectors.user_get(user=viewer, pk=kwargs["pk"])
        can_see_access = can_view_access_of(viewer, person)
        context = {
            **super().get_context_data(**kwargs),
            "person": person,
            "reports": person.reports.order_by("full_name"),
            "history": audit_history_for(user=viewer, target=person),
            "can_see_access": can_see_access,
            "can_manage": user_can(viewer, "accounts.manage_access"),
            # Nobody changes their own access, and only a superuser a superuser's.
            "can_change_access": user_can(viewer, "accounts.manage_access")
            and may_change_person(viewer, person),
        }
        if can_see_access:
            context.update(
                groups=status_groups(explain(person, viewer=viewer)),
                upcoming=upcoming_messages(person) if person.pk == viewer.pk else [],
                assignments=person.assignments.filter(ended_at__isnull=True)
                .select_related("role", "birthright_rule", "access_request")
                .order_by("role__name", "capability"),
                completions=person.training_completions.select_related("training"),
                today=timezone.localdate(),
                assign_form=AssignRoleForm(),
                completion_form=CompletionForm(),
            )
        return context


class PersonCreateView(ServiceFormView):
    form_class = PersonForm
    capability = MANAGE
    title = "Add a person"
    pretitle = "People"
    submit_label = "Add person"
    success_message = "Person added. Their birthright roles apply at once."

    def get_initial(self):
        return {"start_date": timezone.localdate()}

    def perform(self, form):
        data = form.cleaned_data
        person = services.user_create(
            actor=self.request.user,
            email=data["email"],
            full_name=data["full_name"],
            team=data["team"],
            job_title=data["job_title"],
            manager=data["manager"],
            start_date=data["start_date"],
            password=data["password"] or None,
        )
        return reverse("accounts:user_detail", args=[person.pk])


class PersonEditView(ServiceFormView):
    form_class = PersonForm
    capability = MANAGE
    pretitle = "People"
    submit_label = "Save changes"
    success_message = "Saved. Access follows the new attributes at once."

    def get_person(self):
        return selectors.user_get(user=self.request.user, pk=self.kwargs["pk"])

    def load_object(self):
        person = self.get_person()
        if person.is_superuser and not self.request.user.is_superuser:
            raise PermissionDeniedError(
                "Only a superuser can change a superuser's record.",
                code=AccountsErrorCode.SUPERUSER_PROTECTED,
            )
        return person

    def get_form_kwargs(self):
        person = self.get_person()
        own = person.pk == self.request.user.pk
        return {**super().get_form_kwargs(), "editing": person, "own": own}

    def get_initial(self):
        person = self.get_person()
        self.title = f"Edit {person.full_name}"
        return {f: getattr(person, f) for f in services.PERSON_FIELDS}

    def perform(self, form):
        person = self.get_person()
        services.user_update(actor=self.request.user, user=person, **form.cleaned_data)
        return reverse("accounts:user_detail", args=[person.pk])


class PersonActiveView(ActionView):
    def consequence(self, request, pk):
        person = selectors.user_get(user=request.user, pk=pk)
        require(request.user, MANAGE, "activate or deactivate people")
        if request.POST.get("active") != "false" or not person.is_active:
            return None
        if person.pk == request.user.pk:
            return None  # refused by the service with its reason
        require_may_change_person(request.user, person, "active state")
        tokens = ApiToken.objects.usable().filter(user=person).count()
        held = AccessAssignment.objects.filter(user=person, ended_at__isnull=True).count()
        return Consequence(
            title=f"Deactivate {person.full_name}?",
            lines=(
                f"Their sign-in and their access "
                f"({count_of(held, 'role or grant', 'roles and grants')}) stop at once.",
                f"{count_of(tokens, 'API token')} of theirs {'is' if tokens == 1 else 'are'} "
                "revoked for good: reactivating them does not bring tokens back.",
            ),
            button="Deactivate",
        )

    def act(self, request, pk):
        person = selectors.user_get(user=request.user, pk=pk)
        choice = request.POST.get("active")
        if choice not in ("true", "false"):
            raise ApplicationError("Say whether to activate (true) or deactivate (false).")
        active = choice == "true"
        services.user_set_active(actor=request.user, user=person, active=active)
        state = "reactivated" if active else "deactivated; their access ended"
        return reverse("accounts:user_detail", args=[pk]), f"{person.full_name} was {state}."


# --- Notifications ----------------------------------------------------------------------


class NotificationListView(FilteredListView):
    template_name = "accounts/notification_list.html"
    partial_template_name = "accounts/_notification_table.html"
    filterset_class = NotificationFilter
    sortable = {"title": "title", "received": "created_at", "read": "read_at"}
    default_sort = "-received"

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user, filters=self.request.GET)


class NotificationsReadView(ActionView):
    def act(self, request):
        count = notifications_mark_read(user=request.user)
        return reverse("accounts:notification_list"), f"{count} marked as read." if count else ""
