"""The audit log's filters, shared by the page and the API."""

import django_filters
from django import forms
from django.apps import apps
from django.core.cache import cache
from django.db.models import Q
from django.utils.text import capfirst

from martech.common.filters import StrictBooleanFilter, UtcIsoDateTimeFilter

from .models import AuditEvent

_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"})
_ACTIONS_CACHE_KEY = "audit:action-choices"
_ACTIONS_CACHE_SECONDS = 300


def action_words(action: str) -> str:
    """``tools.tool.created`` reads ``Tool created``: an audit action in words."""
    parts = action.split(".")
    words = " ".join(part.replace("_", " ") for part in parts[1:] or parts).strip()
    return capfirst(words)


def _app_name(app_label: str) -> str:
    try:
        return str(apps.get_app_config(app_label).verbose_name)
    except LookupError:
        return app_label


# Models that moved to another app keep answering to their old label (saved links, scripts).
MOVED_APPS = {"accounts": "access"}


def _target_types() -> set[str]:
    return {
        f"{m._meta.app_label}.{m._meta.model_name}"
        for m in apps.get_models()
        if m.__module__.startswith("apps.")
    }


class TargetTypeField(forms.CharField):
    """``app.model`` of a kind of record the console keeps; an old label of a moved model
    reads as its new one, and anything else is an error rather than an empty list."""

    def clean(self, value):
        value = (super().clean(value) or "").strip().lower()
        if not value:
            return ""
        known = _target_types()
        if value in known:
            return value
        app_label, _, model = value.partition(".")
        moved = f"{MOVED_APPS.get(app_label, '')}.{model}"
        if moved in known:
            return moved
        raise forms.ValidationError(
            "Not a kind of record the console keeps: use app.model, e.g. tools.tool."
        )


class TargetTypeFilter(django_filters.CharFilter):
    field_class = TargetTypeField


def target_type_choices() -> list:
    """Every kind of record the console keeps, in words, grouped by area; the value is the
    ``app.model`` the filter (and the API) reads."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for model in apps.get_models():
        meta = model._meta
        if not model.__module__.startswith("apps."):
            continue
        value = f"{meta.app_label}.{meta.model_name}"
        groups.setdefault(_app_name(meta.app_label), []).append(
            (value, capfirst(str(meta.verbose_name)))
        )
    return [("", "Any")] + [
        (area, sorted(options, key=lambda option: option[1]))
        for area, options in sorted(groups.items())
    ]


def action_choices() -> list:
    """The actions the log holds, in words, grouped by area (read at most every few minutes)."""

    def read():
        actions = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
        groups: dict[str, list[tuple[str, str]]] = {}
        for action in sorted(actions):
            groups.setdefault(_app_name(action.split(".", 1)[0]), []).append(
                (action, action_words(action))
            )
        return [("", "Any"), *sorted(groups.items())]

    return cache.get_or_set(_ACTIONS_CACHE_KEY, read, _ACTIONS_CACHE_SECONDS)


class AuditEventFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Action, actor or target"}),
    )
    # A choice list on the page; the API still takes any prefix (``tools.``, ``tools.tool``).
    action = django_filters.CharFilter(
        field_name="action",
        lookup_expr="startswith",
        label="Action",
        widget=forms.Select(choices=action_choices),
    )
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="iexact", label="Actor")
    target_type = TargetTypeFilter(
        method="filter_target_type",
        label="Target type",
        widget=forms.Select(choices=target_type_choices),
    )
    target_id = django_filters.CharFilter(field_name="target_id", label="Target id")
    request_id = django_filters.CharFilter(field_name="request_id", label="Request id")
    occurred_after = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="From", widget=_DATETIME
    )
    occurred_before = UtcIsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label="Until", widget=_DATETIME
    )
    system = StrictBooleanFilter(
        field_name="actor", lookup_expr="isnull", label="Actor kind", yes="System", no="People"
    )

    class Meta:
        model = AuditEvent
        fields = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(action__icontains=value)
            | Q(actor_label__icontains=value)
            | Q(target_repr__icontains=value)
        )

    def filter_target_type(self, queryset, name, value):
        app_label, _, model = value.partition(".")
        return queryset.filter(target_type__app_label=app_label, target_type__model=model.lower())
