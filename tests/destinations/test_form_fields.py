"""The destination form offers each vendor API's settings as fields (from its configuration
schema) and its credentials as password inputs; problems are told under their field."""

from django.urls import reverse

from apps.destinations.models import Destination
from martech.common import crypto

from .conftest import hook
from .vendors import FakeVendor

NEW = "/destinations/new/"


def _post(tool, **fields):
    return {
        "name": "Orders hook",
        "adapter": "webhook",
        "tool": tool.pk,
        "environment": "sandbox",
        "sends": "events",
        **fields,
    }


def test_the_form_renders_the_webhook_url_field_and_password_inputs_for_credentials(
    admin_client,
):
    html = admin_client.get(NEW).content.decode()

    assert 'type="url" name="cfg_webhook__url"' in html
    assert 'type="password" name="cred_webhook__signing_secret"' in html
    assert 'type="password" name="cred_hubspot__access_token"' in html
    assert 'type="number" name="cfg_webhook__requests_per_second"' in html
    assert "Where batches are POSTed." in html  # the schema's description is the help text
    assert 'data-adapter-group="meta_capi"' in html
    assert '<option value="website">website</option>' in html  # an enum is a select


def test_a_webhook_destination_is_created_from_its_fields_without_json(admin_client, tool):
    with FakeVendor("webhook") as vendor:
        url = vendor.base_url + "/hooks/martech"
        response = admin_client.post(
            NEW,
            _post(
                tool,
                cfg_webhook__url=url,
                cfg_webhook__requests_per_second="5",
                cred_webhook__signing_secret=vendor.credentials["signing_secret"],
                # another vendor's settings on the same page are not read
                cfg_braze__alias_label="ignored",
                cred_braze__api_key="ignored",
            ),
        )

    assert response.status_code == 302, response.context["form"].errors
    destination = Destination.objects.get()
    assert destination.config == {"url": url, "requests_per_second": 5}
    assert crypto.decrypt(destination.credentials_token) == dict(vendor.credentials)


def test_a_missing_url_is_told_in_words_under_the_url_field(admin_client, tool):
    response = admin_client.post(NEW, _post(tool))

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["cfg_webhook__url"] == ["Enter the endpoint URL (https://…)."]
    assert not form.non_field_errors()
    assert not Destination.objects.exists()


def test_an_invalid_or_refused_url_is_one_error_under_the_url_field_and_none_on_the_json(
    admin_client, tool
):
    for typed in ("https://", "not a url", "https://169.254.169.254/latest/meta-data/"):
        response = admin_client.post(NEW, _post(tool, cfg_webhook__url=typed))

        assert response.status_code == 400
        form = response.context["form"]
        assert len(form.errors["cfg_webhook__url"]) == 1, typed
        assert set(form.errors) == {"cfg_webhook__url"}, (typed, form.errors)
    assert not Destination.objects.exists()


def test_an_http_url_to_a_public_host_is_an_error_on_the_url_field(admin_client, tool):
    response = admin_client.post(NEW, _post(tool, cfg_webhook__url="http://hooks.acme.example/in"))

    assert response.status_code == 400
    [error] = response.context["form"].errors["cfg_webhook__url"]
    assert error.startswith("Enter an https:// address")
    assert not Destination.objects.exists()


def test_an_http_url_in_the_json_configuration_is_refused_too(admin_client, tool):
    response = admin_client.post(NEW, _post(tool, config='{"url": "http://hooks.acme.example/in"}'))

    assert response.status_code == 400
    assert "https://" in response.context["form"].errors["config"][0]


def test_a_value_the_schema_refuses_is_told_under_its_field(admin_client, tool):
    response = admin_client.post(
        NEW,
        _post(
            tool,
            adapter="meta_capi",
            cfg_meta_capi__pixel_id="pixel-one",
            purposes=["sale_share"],
        ),
    )

    assert response.status_code == 400
    [error] = response.context["form"].errors["cfg_meta_capi__pixel_id"]
    assert error.startswith("This is not a valid pixel ID")


def test_the_edit_form_shows_the_settings_in_fields_never_the_secret_and_keeps_it(
    admin_client, admin, tool
):
    with FakeVendor("webhook") as vendor:
        destination = hook(admin, tool, vendor)
        url = reverse("destinations:destination_edit", args=[destination.pk])
        html = admin_client.get(url).content.decode()
        secret = vendor.credentials["signing_secret"]
        assert secret not in html
        assert f'value="{destination.config["url"]}"' in html
        assert "Set: leave empty to keep it." in html

        new_url = vendor.base_url + "/hooks/martech?v=2"
        response = admin_client.post(
            url,
            _post(
                tool,
                name=destination.name,
                cfg_webhook__url=new_url,
                cred_webhook__signing_secret="",
            ),
        )

    assert response.status_code == 302, response.context["form"].errors
    destination.refresh_from_db()
    assert destination.config == {"url": new_url}
    assert crypto.decrypt(destination.credentials_token) == {"signing_secret": secret}


def test_a_typed_secret_is_not_sent_back_after_an_error_and_the_field_says_to_enter_it_again(
    admin_client, tool
):
    response = admin_client.post(
        NEW, _post(tool, cfg_webhook__url="", cred_webhook__signing_secret="whsec_typed_once_1234")
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "whsec_typed_once_1234" not in html
    assert "Not kept after an error: enter it again." in html
