"""The attribution taxonomy of one arrival: referrer class, UTMs and ad click ids.

An arrival's channel is one of ``CHANNELS``, the classes the README documents.

Pure functions over the event's page URL, referrer and Segment ``context.campaign``. A
*marketing arrival* (UTMs, a click id, or a referrer from search, social, email or another
site) updates the profile's last touch; direct and internal navigation never do. The first
touch is the first arrival of any kind (internal navigation aside).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

# Click id -> (network, days the click stays attributable). The lifetimes are the networks'
# longest click-through windows, so a conversion inside them can still be credited.
CLICK_IDS: dict[str, tuple[str, int]] = {
    "gclid": ("google_ads", 90),
    "gbraid": ("google_ads", 90),
    "wbraid": ("google_ads", 90),
    "dclid": ("google_display", 90),
    "fbclid": ("meta", 28),
    "ttclid": ("tiktok", 28),
    "li_fat_id": ("linkedin", 90),
    "msclkid": ("microsoft_ads", 90),
    "twclid": ("x", 30),
    "sccid": ("snapchat", 28),
    "epik": ("pinterest", 30),
}
UTM = ("source", "medium", "campaign", "content", "term")
CHANNELS = ("search", "social", "email", "paid", "referral", "internal", "direct")
# Of a page URL or a referrer, only this much is read: browsers and ad networks keep links
# far shorter, and the parsed forms are remembered (4,096 of each), so an attacker's
# 32 KB "URL" neither costs more to parse nor holds more memory than a real one.
MAX_URL = 4096
_NOTHING_SAID = tuple((key, "") for key in UTM)  # no context.campaign
PAID_MEDIUMS = frozenset(
    {
        "cpc",
        "ppc",
        "paid",
        "paidsearch",
        "paid_search",
        "paidsocial",
        "paid_social",
        "display",
        "cpm",
        "banner",
        "affiliate",
        "retargeting",
    }
)
SEARCH_MEDIUMS = frozenset({"organic", "search", "seo"})
SEARCH = (
    "google.",
    "bing.com",
    "duckduckgo.com",
    "search.yahoo.",
    "yandex.",
    "baidu.com",
    "ecosia.org",
    "search.brave.com",
    "startpage.com",
)
SOCIAL = (
    "facebook.com",
    "instagram.com",
    "t.co",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "lnkd.in",
    "tiktok.com",
    "pinterest.",
    "reddit.com",
    "youtube.com",
    "snapchat.com",
    "threads.net",
)
EMAIL = (
    "mail.google.com",
    "outlook.live.com",
    "outlook.office.com",
    "mail.yahoo.com",
    "webmail.",
    "mail.proton.me",
)


# Pages, referrers and campaign links repeat from event to event: their parsing is kept.
@lru_cache(maxsize=4096)
def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _matches(host: str, patterns) -> bool:
    for pattern in patterns:
        if pattern.endswith("."):  # any country domain: google.de, search.yahoo.co.jp
            if host.startswith(pattern) or f".{pattern}" in host:
                return True
        elif host == pattern or host.endswith("." + pattern):
            return True
    return False


def _site(host: str) -> str:
    """The registrable part of a host, near enough: acme.example, acme.co.uk."""
    labels = host.split(".")
    if (
        len(labels) >= 3
        and len(labels[-1]) == 2
        and labels[-2] in ("co", "com", "org", "net", "ac", "gov")
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


@lru_cache(maxsize=4096)
def classify_referrer(referrer: str, page_host: str) -> str:
    """search, social, email, internal, referral, or direct (no referrer)."""
    host = _host(referrer)
    if not host:
        return "direct"
    if page_host and _site(host) == _site(page_host):
        return "internal"
    if _matches(host, EMAIL):
        return "email"
    if _matches(host, SEARCH):
        return "search"
    if _matches(host, SOCIAL):
        return "social"
    return "referral"


@lru_cache(maxsize=4096)
def _query(url: str) -> dict[str, str]:
    """The URL's query parameters, names lower-cased (shared between calls: never changed)."""
    try:
        return {k.lower(): v for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=False)}
    except ValueError:
        return {}


def extract(payload: dict, at: dt.datetime) -> dict | None:
    """The touch this event carries, or None when it is not an arrival (no page, no campaign)."""
    context = payload.get("context")
    context = context if isinstance(context, dict) else {}
    page = context.get("page")
    page = page if isinstance(page, dict) else {}
    props = payload.get("properties")
    props = props if isinstance(props, dict) else {}
    url = str(page.get("url") or props.get("url") or "")[:MAX_URL]
    referrer = str(page.get("referrer") or props.get("referrer") or "")[:MAX_URL]
    campaign = context.get("campaign")
    campaign = campaign if isinstance(campaign, dict) else {}
    if not url and not campaign and payload.get("type") not in ("page", "screen"):
        return None
    said = (
        tuple(
            (key, str(campaign.get("name" if key == "campaign" else key) or "")[:200])
            for key in UTM
        )
        if campaign
        else _NOTHING_SAID
    )  # Segment's context.campaign (name = campaign)
    touch, click = _touch(url, referrer, said)
    touch = dict(touch)  # the remembered one is shared
    if click:
        network, days = CLICK_IDS[click[0]]
        touch.update(
            click_id_type=click[0],
            click_id=click[1][:200],
            network=network,
            click_expires=(at + dt.timedelta(days=days)).isoformat(),
        )
    touch["marketing"] = touch["channel"] not in ("direct", "internal")
    return touch


@lru_cache(maxsize=4096)
def _touch(url: str, referrer: str, campaign: tuple) -> tuple[dict, tuple[str, str] | None]:
    """What a page, a referrer and a campaign make of a touch (all but the click's expiry,
    which depends on the moment), and the click id found: the same for every event that
    arrives the same way."""
    query = _query(url)
    utm = {key: str(query.get(f"utm_{key}") or "") for key in UTM}
    for key, value in campaign:
        if value and not utm[key]:
            utm[key] = value[:200]
    custom = {k: v[:200] for k, v in query.items() if k.startswith("utm_") and k[4:] not in UTM}
    click = next(((k, query[k]) for k in CLICK_IDS if query.get(k)), None)
    page_host = _host(url)
    referrer_class = classify_referrer(referrer, page_host)
    medium = utm["medium"].lower()
    if click or medium in PAID_MEDIUMS:
        channel = "paid"
    elif medium == "email" or referrer_class == "email":
        channel = "email"
    elif medium in ("social", "social-network", "sm") or referrer_class == "social":
        channel = "social"
    elif any(utm.values()) and referrer_class in ("direct", "internal"):
        # A tagged link that arrived without another site's referrer (an app, a QR code, a
        # mail client that hides it): still someone else's link, so a referral, unless its
        # medium says search. Only the documented channels are ever recorded.
        channel = "search" if medium in SEARCH_MEDIUMS else "referral"
    else:
        channel = referrer_class
    touch = {
        "channel": channel,
        "referrer_class": referrer_class,
        "referrer_host": _host(referrer),
        "landing_page": url[:500],
        **{k: v for k, v in utm.items() if v},
        **({"custom": custom} if custom else {}),
    }
    return touch, click
