"""The collection API's addresses, at the site root as Segment's SDKs expect them."""

from django.urls import path

from .collect import collect, consent
from .snowplow import pixel, tp2

app_name = "collect"

urlpatterns = [
    path("v1/batch", collect, {"kind": None}, name="batch"),
    path("v1/consent", consent, name="consent"),
    path("com.snowplowanalytics.snowplow/tp2", tp2, name="snowplow-tp2"),
    path("i", pixel, name="snowplow-pixel"),
] + [
    path(f"v1/{kind}", collect, {"kind": kind}, name=kind)
    for kind in ("track", "identify", "page", "screen", "group", "alias")
]
