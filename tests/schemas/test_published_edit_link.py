"""The edit address of a version that is published answers with the version, not a 500."""

from django.contrib.messages import get_messages
from django.urls import reverse


def test_editing_a_published_version_shows_the_version_and_says_why(admin_client, order):
    # given the edit address of a published version (an old link to a draft)
    url = reverse("schemas:version_edit", args=[order.schema_id, order.pk])
    # when it is opened
    response = admin_client.get(url)
    # then it leads to the version's page with the reason
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "schemas:version_detail", args=[order.schema_id, order.pk]
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Published versions never change: start a new draft."]
