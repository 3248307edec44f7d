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
