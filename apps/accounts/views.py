"""Browser views of the accounts app: sign-in, password, tokens, people."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.generic import TemplateView

from apps.audit.selectors import audit_history_for
from martech.common.errors import ApplicationError
from martech.common.views import ActionView, Consequence, FilteredListView

from . import selectors, services
from .access import explain, may_change_person, status_groups, upcoming_messages, user_can
from .filters import ApiTokenPageFilter, UserFilter
from .forms import ApiTokenCreateForm, AssignRoleForm, CompletionForm, LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


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
        can_see_access = selectors.can_view_access_of(viewer, person)
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
