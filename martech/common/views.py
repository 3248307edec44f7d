"""Shared browser views: list pages, the dashboard, the palette and the error pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpResponse, HttpResponseServerError, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from .api import error_response
from .errors import ApplicationError
from .listing import SORT_PARAM, apply_sort, sort_state
from .navigation import palette_search


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class FilteredListView(LoginRequiredMixin, TemplateView):
    """A list page: a FilterSet form, a paginated table, and an htmx partial for the table.

    Subclasses set ``template_name``, ``partial_template_name``, ``filterset_class`` and
    ``get_queryset()`` (which calls a permission-restricted selector). ``sortable`` and
    ``default_sort`` declare the columns ``?sort=`` may order by (see ``martech.common.listing``).
    """

    filterset_class = None
    partial_template_name: str = ""
    paginate_by = 25
    sortable: dict = {}
    default_sort: str = ""

    def get_queryset(self):
        raise NotImplementedError

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.partial_template_name:
            return [self.partial_template_name]
        return [self.template_name]

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if getattr(self.request, "htmx", False):
            # Keep the address bar short: only the filters actually in use.
            query = QueryDict(mutable=True)
            for key, values in self.request.GET.lists():
                kept = [v for v in values if v]
                if kept:
                    query.setlist(key, kept)
            encoded = query.urlencode()
            response["HX-Push-Url"] = self.request.path + (f"?{encoded}" if encoded else "")
        return response

    def get_context_data(self, **kwargs):
        sort = sort_state(self.request.GET.get(SORT_PARAM), self.sortable, self.default_sort)
        queryset = apply_sort(self.get_queryset(), sort.requested, self.sortable)
        paginator = Paginator(queryset, self.paginate_by)
        page = paginator.get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        filter_form = self.filterset_class(self.request.GET).form
        # An invalid filter is ignored by the list; say so rather than fail silently.
        filter_errors = (
            []
            if filter_form.is_valid()
            else [
                f"{filter_form.fields[name].label or name}: {' '.join(errors)}"
                for name, errors in filter_form.errors.items()
            ]
        )
        return {
            **super().get_context_data(**kwargs),
            "filter_form": filter_form,
            "filter_errors": filter_errors,
            "page_obj": page,
            "object_list": page.object_list,
            "querystring": query.urlencode(),
            "list_sort": sort,
            "is_filtered": any(
                v for k, v in self.request.GET.items() if k not in ("page", SORT_PARAM)
            ),
        }


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard.html"

    def get_context_data(self, **kwargs):
        from apps.accounts.models import ApiToken, User
        from apps.audit.models import AuditEvent

        from .overview import action_words, attention_list, audit_noise, upcoming_grouped

        user = self.request.user
        today = timezone.localdate()
        since = today - dt.timedelta(days=13)
        can_audit = user.has_perm("audit.view")
        context = {
            **super().get_context_data(**kwargs),
            "attention": attention_list(user=user),
            "people_active": User.objects.filter(is_active=True).count(),
            "people_new": User.objects.filter(
                is_active=True, start_date__gt=today - dt.timedelta(days=90)
            ).count(),
            "my_tokens_active": ApiToken.objects.usable().filter(user=user).count(),
            "tenure_days": user.tenure_days(),
            "can_audit": can_audit,
            "upcoming": upcoming_grouped(user=user),
        }
        if can_audit:
            start = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
            per_day = dict(
                AuditEvent.objects.filter(occurred_at__gte=start)
                .annotate(day=TruncDate("occurred_at"))
                .values_list("day")
                .annotate(n=Count("id"))
                .values_list("day", "n")
            )
            days = [since + dt.timedelta(days=i) for i in range(14)]
            context["activity_chart"] = {
                "labels": [d.strftime("%b %d") for d in days],
                "values": [per_day.get(d, 0) for d in days],
            }
            context["changes_14d"] = sum(per_day.values())
            changes = AuditEvent.objects.exclude(action__in=audit_noise())
            recent = list(changes.select_related("target_type")[:8])
            for event in recent:
                event.action_words = action_words(event.action)
            context["recent_events"] = recent
        return context


def palette(request):
    """Answer the command palette: pages and objects whose names match ``q``, and the
    actions it asks for (links to their forms and confirmations)."""
    if not request.user.is_authenticated:
        return error_response(401, "not_authenticated", "Sign in to search.")
    query = request.GET.get("q", "")[:100]
    if "\x00" in query:
        return error_response(400, "invalid", "The search text contains a null character.")
    results = palette_search(request.user, query)
    return JsonResponse(
        {
            "query": query,
            "results": [
                {
                    "title": r.title,
                    "url": r.url,
                    "kind": r.kind,
                    "subtitle": r.subtitle,
                    "group": r.group,
                }
                for r in results
            ],
        }
    )


def _error_page(request, status: int, code: str, title: str, message: str, **extra):
    if _is_api(request):
        return error_response(status, code, message)
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "message": message, **extra},
        status=status,
    )


def bad_request(request, exception=None):
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return _error_page(
            request, 400, "payload_too_large", "Too large", f"The body is larger than {limit:,} KB."
        )
    return _error_page(request, 400, "bad_request", "Bad request", "The request was not valid.")


def permission_denied(request, exception=None):
    message = (
        str(exception)
        if exception and str(exception)
        else ("You can see this, but your access does not allow this action.")
    )
    missing = _missing_capability(request, exception)
    if missing is not None and not _is_api(request):
        message = message.replace(f"the {missing.code} capability", f"“{missing.label}”")
    return _error_page(
        request, 403, "permission_denied", "Not allowed", message, capability=missing
    )


def _missing_capability(request, exception):
    """The capability a refusal names, when the person could ask for it; else None."""
    from apps.access.registry import get_capability

    details = getattr(exception, "details", None) or {}
    code = details.get("capability") if isinstance(details, dict) else None
    user = getattr(request, "user", None)
    if not code or user is None or not user.is_authenticated:
        return None
    return get_capability(code)


def page_not_found(request, exception=None):
    return _error_page(
        request,
        404,
        "not_found",
        "Not found",
        "There is nothing here, or it is not visible to you.",
    )


REFUSAL_TITLES = {409: "Not possible now", 400: "Not possible"}


def application_error(request, exception: ApplicationError):
    """The one answer to a service's refusal that no view turned into a response (a page's
    GET, a plain view): 404 and 403 as their pages, any other status as a page (or the API
    error) with its message and a way back, never a 500."""
    if exception.status == 404:
        return page_not_found(request, exception)
    if exception.status == 403:
        return permission_denied(request, exception)
    if _is_api(request):
        return error_response(
            exception.status, exception.code, exception.message, exception.details or None
        )
    return _error_page(
        request,
        exception.status,
        exception.code,
        REFUSAL_TITLES.get(exception.status, "Not possible"),
        exception.message,
        back=_page_above(request.path),
    )


def method_not_allowed(request, response):
    """The branded page for a GET on an address that only takes a form (Django answers an
    empty 405), with a way back to the page above it when there is one; ``Allow`` is kept."""
    if _is_api(request):
        page = error_response(405, "method_not_allowed", f"{request.method} is not allowed here.")
    else:
        page = _error_page(
            request,
            405,
            "method_not_allowed",
            "Nothing to show here",
            "This address only takes a form you send from a page; it has nothing to show.",
            back=_page_above(request.path),
        )
    if response.has_header("Allow"):
        page["Allow"] = response["Allow"]
    return page


def _page_above(path: str) -> str | None:
    """The console page one level up from ``path`` that answers GET, if there is one."""
    from django.urls import Resolver404, resolve

    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    while parent != "/":
        try:
            match = resolve(parent)
        except Resolver404:
            match = None
        view = getattr(match.func, "view_class", None) if match else None
        if match and (view is None or "get" in view.http_method_names):
            return parent
        parent = parent.rstrip("/").rsplit("/", 1)[0] + "/"
    return None


def server_error(request):
    request_id = getattr(request, "request_id", "")
    if _is_api(request):
        return error_response(
            500, "server_error", "Something went wrong on our side.", {"request_id": request_id}
        )
    # Rendered without the request's context processors: they may need the database,
    # which may be what failed.
    body = loader.get_template("errors/500.html").render({"request_id": request_id})
    return HttpResponseServerError(body)


def csrf_failure(request, reason=""):
    return _error_page(
        request,
        403,
        "csrf_failed",
        "Form expired",
        "This form is out of date or was sent from another site. Reload the page and try again.",
    )


CONFIRM_HEADER = "X-Console-Confirm"


@dataclass(frozen=True)
class Consequence:
    """What a consequential action will do, said before it is done.

    ``title`` asks the question, ``lines`` say what happens (counts, names, environments,
    computed by the server), ``button`` labels the confirming button; ``final`` adds "This
    cannot be undone."; ``danger`` colours the button red.
    """

    title: str
    lines: tuple[str, ...] = ()
    button: str = "Confirm"
    final: bool = False
    danger: bool = True

    def as_dict(self) -> dict:
        return {
            "confirm": True,
            "title": self.title,
            "lines": list(self.lines),
            "button": self.button,
            "final": self.final,
            "danger": self.danger,
        }


def count_of(n: int, singular: str, plural: str = "") -> str:
    """``1 profile``, ``12,400 rows``: a number with its noun."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def _safe_url(request, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


class ActionView(LoginRequiredMixin, View):
    """A POST-only action: call a service, then redirect with a message.

    Subclasses implement ``act(request, **kwargs)`` and return ``(url, message)`` (or a
    response, when the outcome is a page to show rather than a place to go). A
    validation or conflict error from the service comes back as an error message; a
    permission or not-found error becomes the 403 or 404 page.

    A consequential action also implements ``consequence(request, **kwargs)``: while the
    POST does not carry ``confirmed=1`` the action does nothing and answers with a page
    that states the consequence and posts the same form again with ``confirmed=1`` (it
    works without JavaScript). A POST with the ``X-Console-Confirm: ask`` header never
    acts: it answers the consequence as JSON (``{"confirm": false}`` when none is needed),
    which the page script shows in a dialog before posting with ``confirmed=1``.

    An action a link may lead to (the command palette's) also allows GET: it changes
    nothing and shows ``question()`` (by default the consequence) on the same confirmation
    page, whose button posts the link's query fields with ``confirmed=1``.
    """

    http_method_names = ["post"]  # ["get", "post"] for an action a link may lead to

    def act(self, request, **kwargs) -> tuple[str, str]:
        raise NotImplementedError

    def consequence(self, request, **kwargs) -> Consequence | None:
        """What the action will do when it must be confirmed first; None acts at once.

        Takes the arguments of ``act`` and changes nothing."""
        return None

    def question(self, request, **kwargs) -> Consequence | None:
        """What a link to the action asks before it acts: the consequence, or for an action
        its page does at once, the same words a link needs (a link is not a click)."""
        return self.consequence(request, **kwargs)

    def get(self, request, **kwargs):
        # The question reads the fields the page's form would post, here from the query.
        request.POST = request.GET.copy()
        try:
            question = self.question(request, **kwargs)
        except ApplicationError as exc:
            return self._refused(request, exc, **kwargs)
        if question is None:
            messages.info(request, "There is nothing to do.")
            return redirect(self.fallback_url(request, **kwargs))
        return self._confirmation_page(request, question, **kwargs)

    def fallback_url(self, request, **kwargs) -> str:
        return (
            _safe_url(request, request.POST.get("back"))
            or _safe_url(request, request.headers.get("Referer"))
            or "/"
        )

    def post(self, request, **kwargs):
        asking = request.headers.get(CONFIRM_HEADER) == "ask"
        if asking or request.POST.get("confirmed") != "1":
            try:
                consequence = self.consequence(request, **kwargs)
            except ApplicationError as exc:
                if asking:
                    return error_response(exc.status, exc.code, exc.message)
                return self._refused(request, exc, **kwargs)
            if asking:
                return JsonResponse(consequence.as_dict() if consequence else {"confirm": False})
            if consequence is not None:
                return self._confirmation_page(request, consequence, **kwargs)
        try:
            result = self.act(request, **kwargs)
        except ApplicationError as exc:
            return self._refused(request, exc, **kwargs)
        if isinstance(result, HttpResponse):
            return result  # an outcome shown on a page of its own rather than a redirect
        url, message = result
        if message:
            messages.success(request, message)
        return redirect(url)

    def _refused(self, request, exc: ApplicationError, **kwargs):
        if exc.status in (403, 404):
            raise exc
        messages.error(request, exc.message)
        return redirect(self.fallback_url(request, **kwargs))

    def _confirmation_page(self, request, consequence: Consequence, **kwargs):
        back = self.fallback_url(request, **kwargs)
        fields = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in ("csrfmiddlewaretoken", "confirmed", "back")
            for value in values
        ]
        return render(
            request,
            "confirm_page.html",
            {"consequence": consequence, "fields": fields, "back": back, "action": request.path},
        )


class ServiceFormView(LoginRequiredMixin, FormView):
    """A form page whose valid submission calls a service.

    ``capability`` (optional) is required to see the form at all. ``perform(form)`` calls
    the service and returns the URL to go to; a service error is shown on the form.
    """

    template_name = "form_page.html"
    capability: str | None = None
    title = ""
    pretitle = ""
    submit_label = "Save"
    success_message = ""

    def load_object(self):
        """Fetch the object the form edits (404 if unknown), before permissions are checked."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.load_object()
            if self.capability:
                from apps.access.rules import require

                require(request.user, self.capability, "use this form")
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form) -> str:
        raise NotImplementedError

    def cancel_url(self) -> str:
        return self.request.headers.get("Referer") or "/"

    def error_field(self, form, exc: ApplicationError) -> str | None:
        """The form field a service error is about (shown beside it); None: the form's."""
        return None

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "title": self.title,
            "pretitle": self.pretitle,
            "submit_label": self.submit_label,
            "cancel_url": self.cancel_url(),
        }

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        try:
            url = self.perform(form)
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_error(self.error_field(form, exc), exc.message)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message)
        return redirect(url)
