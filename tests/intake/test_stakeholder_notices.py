"""The notice a person gets when named on an intake request reads as a sentence."""

import pytest

from apps.accounts.models import Notification
from apps.intake import services

from .conftest import request_at


@pytest.mark.parametrize(
    ("part", "title"),
    [
        ("consulted", "You are consulted on: Push without engineers"),
        ("needs_training", "You will need training for: Push without engineers"),
        ("informed", "You are kept informed on: Push without engineers"),
    ],
)
def test_a_named_stakeholder_is_told_their_part_in_plain_words(cast, part, title):
    req = request_at(cast, "people")
    services.stakeholder_add(actor=cast.requester, request=req, person=cast.outsider, part=part)
    titles = list(Notification.objects.filter(user=cast.outsider).values_list("title", flat=True))
    assert titles == [title]


@pytest.mark.parametrize(
    ("part", "line", "sentence"),
    [
        ("approver", "Named Alice Approver as an approver.", "Alice Approver is an approver."),
        ("consulted", "Named Alice Approver to be consulted.", "Alice Approver is consulted."),
        (
            "needs_training",
            "Named Alice Approver as needing training.",
            "Alice Approver needs training.",
        ),
        (
            "informed",
            "Named Alice Approver to be kept informed.",
            "Alice Approver is kept informed.",
        ),
    ],
)
def test_naming_a_stakeholder_reads_as_a_sentence_in_the_history_and_on_the_page(
    cast, part, line, sentence
):
    req = request_at(cast, "people", approvers=[cast.bob])
    named = services.stakeholder_add(
        actor=cast.requester, request=req, person=cast.alice, part=part
    )
    assert req.history.values_list("message", flat=True).last() == line
    assert services.stakeholder_sentence(named) == sentence
