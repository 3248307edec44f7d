"""The collection API's addresses, at the site root as Segment's SDKs expect them."""

from django.urls import path

from .collect import collect, consent

app_name = "collect"

urlpatterns = [
    path("v1/batch", collect, {"kind": None}, name="batch"),
    path("v1/consent", consent, name="consent"),
] + [
    path(f"v1/{kind}", collect, {"kind": kind}, name=kind)
    for kind in ("track", "identify", "page", "screen", "group", "alias")
]
