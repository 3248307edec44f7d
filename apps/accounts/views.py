"""Browser views of the accounts app: sign-in, password, tokens, people, notifications."""

import xml.etree.ElementTree as ET

import qrcode
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.safestring import mark_safe
from django.views.generic import TemplateView, View
from django_otp.plugins.otp_totp.models import TOTPDevice
from mozilla_django_oidc.views import OIDCAuthenticationRequestView
from qrcode.image.svg import SvgPathFillImage

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

from . import selectors, services, signin, sso
from .errors import AccountsErrorCode
from .filters import ApiTokenPageFilter, NotificationFilter, UserFilter
from .forms import (
    ApiTokenCreateForm,
    AuthenticatorConfirmForm,
    LoginForm,
    PersonForm,
    SecondFactorCodeForm,
)
from .lockout import lockout_response
from .models import ApiToken
from .notifications import notifications_mark_read

MANAGE = "accounts.manage_access"


class LoginView(auth_views.LoginView):
    """Sign in with email and password; someone who owes a second factor continues to the
    code page (or, if they must have one and have none, to setting one up) still signed out."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "sso_provider": sso.provider_name() if sso.enabled() else "",
            "sso_required": sso.sso_required(),
        }

    def form_valid(self, form):
        user = form.get_user()
        if not selectors.mfa_owed(user=user):
            return super().form_valid(form)
        signin.pending_start(self.request, user=user, next_url=self.get_success_url())
        enrolled = selectors.mfa_enrolled(user=user)
        return redirect("accounts:login_code" if enrolled else "accounts:mfa_setup")


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


# --- Multi-factor authentication ----------------------------------------------------------


_NEW_RECOVERY_CODES_ONCE = "accounts.recovery_codes_once"


def _code_subject(request) -> tuple[object | None, signin.Pending | None]:
    """Whose code this page takes: the sign-in waiting in this session, or the signed-in
    person whose session owes one; (None, None) when neither."""
    if request.user.is_authenticated:
        return (request.user if signin.owes_code(request) else None), None
    pending = signin.pending_get(request)
    return (pending.user if pending else None), pending


def _restart_sign_in(request):
    messages.info(request, "Sign in again: that sign-in was not finished within 10 minutes.")
    return redirect("accounts:login")


def _no_store(response):
    add_never_cache_headers(response)
    return response


class LoginCodeView(View):
    """The second step of signing in: a code from the authenticator app or a recovery code."""

    template_name = "accounts/login_code.html"

    def _next(self, request, pending):
        wanted = pending.next_url if pending else request.GET.get("next")
        return signin.safe_next(request, wanted or request.POST.get("next"))

    def _render(self, request, form, status=200):
        context = {"form": form, "next": request.GET.get("next", "")}
        return _no_store(render(request, self.template_name, context, status=status))

    def dispatch(self, request, *args, **kwargs):
        self.user, self.pending = _code_subject(request)
        if self.user is None:
            if request.user.is_authenticated:  # nothing owed: on to where they were going
                return redirect(self._next(request, None))
            return _restart_sign_in(request)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        if not selectors.mfa_enrolled(user=self.user):
            return redirect("accounts:mfa_setup")
        return self._render(request, SecondFactorCodeForm())

    def post(self, request):
        user, pending = self.user, self.pending
        form = SecondFactorCodeForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        if signin.code_locked(request, user=user):
            return lockout_response(request, credentials={"username": user.email})
        device = signin.code_check(request, user=user, code=form.cleaned_data["code"])
        if device is None:
            form.add_error("code", "That code is not right. Check the app's current code.")
            return self._render(request, form, status=400)
        next_url = self._next(request, pending)
        signin.complete(request, device=device, pending=pending)
        if services.mfa_device_kind(device) == "recovery_code":
            left = selectors.mfa_recovery_codes_left(user=user)
            messages.warning(
                request,
                f"You signed in with a recovery code; {left} left. "
                "Make new ones on your two-step sign-in page if you are running out.",
            )
        return redirect(next_url)


def _qr_code(uri: str) -> str:
    """Draw ``uri`` as an inline SVG QR code (no request leaves the page for it)."""
    svg = qrcode.make(uri, image_factory=SvgPathFillImage).get_image()
    svg.set("width", "200")
    svg.set("height", "200")
    svg.set("role", "img")
    svg.set("aria-label", "QR code of the secret, for an authenticator app to scan")
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # noqa: S308 - drawn by qrcode


class MfaSetupView(View):
    """Add an authenticator app: scan the QR code (or type the secret), confirm with a code.

    For the signed-in person from their account page, and for someone who must have a
    second factor and has none, as the second step of signing in.
    """

    def _subject(self, request):
        if request.user.is_authenticated:
            return request.user, None
        pending = signin.pending_get(request)
        return (pending.user if pending else None), pending

    def _render(self, request, user, pending, form, status=200):
        key = signin.setup_key(request, user=user)
        uri = TOTPDevice(user=user, key=key).config_url
        held = pending is not None or signin.owes_code(request)
        context = {
            "form": form,
            "qr_code": _qr_code(uri),
            "secret": _secret_groups(services.mfa_totp_secret(key)),
            "otpauth_uri": uri,
            "held": held,
            "person": user,
        }
        template = "accounts/login_setup.html" if held else "accounts/mfa_setup.html"
        return _no_store(render(request, template, context, status=status))

    def get(self, request):
        user, pending = self._subject(request)
        if user is None:
            return _restart_sign_in(request)
        if selectors.mfa_enrolled(user=user):
            return redirect("accounts:mfa" if pending is None else "accounts:login_code")
        return self._render(request, user, pending, AuthenticatorConfirmForm())

    def post(self, request):
        user, pending = self._subject(request)
        if user is None:
            return _restart_sign_in(request)
        form = AuthenticatorConfirmForm(request.POST)
        if not form.is_valid():
            return self._render(request, user, pending, form, status=400)
        key = signin.setup_key(request, user=user)
        try:
            device, codes = services.mfa_totp_enrol(
                user=user, key=key, code=form.cleaned_data["code"]
            )
        except ApplicationError as exc:
            if exc.code == AccountsErrorCode.MFA_ALREADY_ENROLLED:
                raise
            form.add_error("code", exc.message)
            return self._render(request, user, pending, form, status=400)
        signin.setup_done(request)
        next_url = pending.next_url if pending else request.GET.get("next")
        signin.complete(request, device=device, pending=pending)
        request.session[_NEW_RECOVERY_CODES_ONCE] = {
            "codes": codes,
            "next": signin.safe_next(request, next_url, default=""),
        }
        messages.success(request, "Two-step sign-in is on. Keep your recovery codes safe.")
        return redirect("accounts:mfa")


def _secret_groups(secret: str) -> str:
    """Write a base32 secret in groups of four, the way it is easiest to type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class MfaView(LoginRequiredMixin, TemplateView):
    """Your two-step sign-in: the second factor, recovery codes (new ones shown once), and
    the forms that make new recovery codes or remove it, each confirmed with a code."""

    template_name = "accounts/mfa.html"
    regenerate_form = None
    remove_form = None
    new_codes = None

    def get(self, request, *args, **kwargs):
        self.new_codes = request.session.pop(_NEW_RECOVERY_CODES_ONCE, None)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "devices": selectors.mfa_devices(user=user),
            "required": selectors.mfa_required_for(user=user),
            "recovery_codes_left": selectors.mfa_recovery_codes_left(user=user),
            "recovery_code_count": services.RECOVERY_CODE_COUNT,
            "new_codes": self.new_codes,
            "regenerate_form": self.regenerate_form or SecondFactorCodeForm(prefix="regenerate"),
            "remove_form": self.remove_form or SecondFactorCodeForm(prefix="remove"),
        }

    def render_to_response(self, context, **response_kwargs):
        return _no_store(super().render_to_response(context, **response_kwargs))


class _MfaCodeActionView(MfaView):
    """A change to your two-step sign-in, confirmed by a code (checked like a password)."""

    http_method_names = ["post"]
    prefix = ""

    def act(self, code: str) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        form = SecondFactorCodeForm(request.POST, prefix=self.prefix)
        setattr(self, f"{self.prefix}_form", form)
        if form.is_valid():
            if signin.code_locked(request, user=request.user):
                return lockout_response(request, credentials={"username": request.user.email})
            try:
                message = self.act(form.cleaned_data["code"])
            except ApplicationError as exc:
                if exc.code != AccountsErrorCode.INVALID_MFA_CODE:
                    raise
                signin.code_refused(request, user=request.user)
                form.add_error("code", exc.message)
            else:
                messages.success(request, message)
                return redirect("accounts:mfa")
        return self.render_to_response(self.get_context_data(), status=400)


class MfaRecoveryCodesView(_MfaCodeActionView):
    prefix = "regenerate"

    def act(self, code):
        codes = services.mfa_recovery_codes_regenerate(user=self.request.user, code=code)
        self.request.session[_NEW_RECOVERY_CODES_ONCE] = {"codes": codes, "next": ""}
        return "New recovery codes made; the old ones no longer work."


class MfaRemoveView(_MfaCodeActionView):
    prefix = "remove"

    def act(self, code):
        services.mfa_remove(user=self.request.user, code=code)
        return "Two-step sign-in was removed. You sign in with your password alone."
