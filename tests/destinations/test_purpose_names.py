"""People read consent purposes by their names on the destination pages, never as codes."""

from django.urls import reverse

from apps.destinations import services


def test_the_destination_pages_name_the_consent_purposes_it_requires(admin, admin_client, tool):
    # given a webhook that needs email marketing consent and an ad network (sale/share fixed)
    hook = services.destination_create(
        actor=admin,
        name="Newsletter hook",
        adapter="webhook",
        tool=tool,
        config={"url": "https://hooks.acme.example/news"},
        purposes=["email_marketing"],
    )
    ads = services.destination_create(
        actor=admin,
        name="Ads",
        adapter="meta_capi",
        tool=tool,
        config={"pixel_id": "123"},
    )
    # when the pages are read
    detail = admin_client.get(reverse("destinations:destination_detail", args=[hook.pk]))
    ads_detail = admin_client.get(reverse("destinations:destination_detail", args=[ads.pk]))
    listing = admin_client.get(reverse("destinations:destination_list"))
    # then the purposes read as names
    page = detail.content.decode()
    assert ">Email marketing</span>" in page
    assert "email_marketing" not in page
    ads_page = ads_detail.content.decode()
    assert ">Sale or sharing of personal data</span>" in ads_page
    assert "Sale or sharing of personal data: always required" in ads_page
    assert "sale_share" not in ads_page
    rows = listing.content.decode()
    assert ">Email marketing</span>" in rows
    assert ">email_marketing<" not in rows
