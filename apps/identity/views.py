"""Browser views of the identity graph: find a profile, see it whole, review links."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.views.generic import TemplateView

from apps.access.rules import require, user_can
from martech.common.errors import ApplicationError
from martech.common.panels import render_panels
from martech.common.views import ActionView, Consequence, FilteredListView, count_of

from . import selectors, services
from .choices import LinkStatus
from .filters import ProfileFilter
from .forms import MergeForm, ReviewForm


def _profile_url(pk) -> str:
    return reverse("identity:profile_detail", args=[pk])


def _form(form):
    if form.is_valid():
        return form.cleaned_data
    name, errors = next(iter(form.errors.items()))
    raise ApplicationError(errors[0] if name == "__all__" else f"{name}: {errors[0]}")


class ProfileListView(FilteredListView):
    template_name = "identity/profile_list.html"
    partial_template_name = "identity/_profile_table.html"
    filterset_class = ProfileFilter
    sortable = {"profile": "id", "state": "state", "updated": "updated_at"}
    default_sort = "-updated"

    def get_queryset(self):
        form = ProfileFilter(self.request.GET).form
        if form.is_valid():
            filters = self.request.GET
        elif "identifier" in form.errors:
            # a lookup that could not be read finds nobody, not everyone
            return selectors.profile_list(user=self.request.user).none()
        else:
            filters = {}
        return selectors.profile_list(user=self.request.user, filters=filters).prefetch_related(
            "identifiers"
        )


class ProfileDetailView(LoginRequiredMixin, TemplateView):
    template_name = "identity/profile_detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        profile = selectors.profile_get(user=user, pk=kwargs["pk"])
        identifiers = list(profile.identifiers.all())
        links = list(selectors.profile_links(profile)[:200])
        merges = list(selectors.profile_merges(profile))
        timeline = sorted(
            [(link.observed_at, "link", link) for link in links]
            + [(m.at, "merge", m) for m in merges]
            + [(m.undone_at, "undo", m) for m in merges if m.undone_at],
            key=lambda row: row[0],
            reverse=True,
        )
        first = identifiers[0] if identifiers else None
        return {
            **super().get_context_data(**kwargs),
            "profile": profile,
            "identifiers": identifiers,
            "links": links,
            "merges": merges,
            "timeline": timeline[:50],
            "can_manage": user_can(user, "identity.manage"),
            "merge_form": MergeForm(),
            "panels": render_panels(
                "profile", request=self.request, profile=profile, identifier=first
            ),
        }


class ReviewQueueView(LoginRequiredMixin, TemplateView):
    template_name = "identity/review_queue.html"

    def get_context_data(self, **kwargs):
        queue = selectors.review_queue(user=self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "pending": list(queue.filter(status=LinkStatus.PENDING)[:100]),
            "conflicts": list(queue.filter(status=LinkStatus.CONFLICT)[:100]),
            "can_manage": user_can(self.request.user, "identity.manage"),
        }


def _profile_words(profile) -> str:
    return f"profile {profile.pk} ({count_of(profile.identifiers.count(), 'identifier')})"


class ProfileMergeView(ActionView):
    def fallback_url(self, request, pk):
        return _profile_url(pk)

    def consequence(self, request, pk):
        profile = selectors.profile_get(user=request.user, pk=pk)
        require(request.user, "identity.manage", "merge profiles")
        form = MergeForm(request.POST)
        if not form.is_valid() or form.cleaned_data["other"] == profile.pk:
            return None  # refused with the form's reason
        other = selectors.profile_get(user=request.user, pk=form.cleaned_data["other"])
        return Consequence(
            title=f"Merge profiles {profile.pk} and {other.pk}?",
            lines=(
                f"Joins {_profile_words(profile)} and {_profile_words(other)} as one person: "
                "their events, consent and syncs count as one person's from now on.",
                "An undo splits them again.",
            ),
            button="Merge",
        )

    def act(self, request, pk):
        profile = selectors.profile_get(user=request.user, pk=pk)
        require(request.user, "identity.manage", "merge profiles")
        data = _form(MergeForm(request.POST))
        other = selectors.profile_get(user=request.user, pk=data["other"])
        services.profile_merge(actor=request.user, profile=profile, other=other, note=data["note"])
        profile.refresh_from_db()
        target = profile.merged_into_id or profile.pk
        return _profile_url(target), f"Profiles {profile.pk} and {other.pk} are merged."


class MergeUndoView(ActionView):
    def consequence(self, request, pk):
        merge = selectors.merge_get(user=request.user, pk=pk)
        require(request.user, "identity.manage", "undo merges")
        if merge.undone_at or merge.link_id is None:
            return None  # refused by the service with its reason
        moved = count_of(len(merge.identifiers), "identifier")
        return Consequence(
            title=f"Undo the merge of profile {merge.loser_id} into profile {merge.winner_id}?",
            lines=(
                f"The link behind it stops counting: the {moved} "
                "it moved go back to a profile of their own, unless another link joins them.",
            ),
            button="Undo the merge",
        )

    def act(self, request, pk):
        merge = selectors.merge_get(user=request.user, pk=pk)
        services.merge_undo(actor=request.user, merge=merge)
        return _profile_url(merge.winner_id), "The merge is undone."


class LinkReviewView(ActionView):
    confirm = True

    def fallback_url(self, request, pk):
        return reverse("identity:review_queue")

    def consequence(self, request, pk):
        if not self.confirm:
            return None
        link = selectors.link_get(user=request.user, pk=pk)
        require(request.user, "identity.manage", "review identity links")
        if link.status != LinkStatus.PENDING:
            return None  # refused by the service with its reason
        lines = [f"Treats {link.a} and {link.b} as the same person for certain."]
        if link.a.profile_id != link.b.profile_id:
            lines.append(
                f"Merges {_profile_words(link.a.profile)} and {_profile_words(link.b.profile)}: "
                "their events, consent and syncs count as one person's from now on."
            )
        return Consequence(
            title=f"Confirm that {link.a} and {link.b} are one person?",
            lines=tuple(lines),
            button="Confirm the link",
        )

    def act(self, request, pk):
        link = selectors.link_get(user=request.user, pk=pk)
        note = _form(ReviewForm(request.POST))["note"]
        link = services.link_review(actor=request.user, link=link, confirm=self.confirm, note=note)
        verdict = "confirmed" if self.confirm else "rejected"
        return reverse("identity:review_queue"), f"Link {link.a} ~ {link.b} {verdict}."


class LinkRejectView(LinkReviewView):
    confirm = False
