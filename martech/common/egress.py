"""The one egress policy: where the console may open a connection to.

Every outbound request (a vendor API, a webhook, a status URL a vendor returned, a
warehouse) is checked here. A target is refused when its host is a loopback, private,
link-local (cloud metadata), unique-local, multicast, unspecified, reserved or shared
(carrier-grade NAT) address, or an IPv4-mapped, IPv4-compatible, 6to4 or NAT64 form of one;
when its name is one that only means something inside the machine or the network
(``localhost``, ``*.internal``, ``*.local``, a single label such as ``redis``); when it is
written as an ambiguous number (``2130706433``, ``0x7f000001``, ``127.1``, ``0177.0.0.1``);
and, for URLs, when the scheme is not http(s) or the URL carries user-info.

``settings.MARTECH_EGRESS_ALLOW`` (host names and CIDRs, env ``MARTECH_EGRESS_ALLOW``
comma-separated, empty by default) lets an operator allow an internal target: an address
inside a listed network is allowed, and a host listed by name is allowed whatever it
resolves to.

The check is made on the resolved addresses, and the caller connects to exactly the
addresses ``resolve()`` returned, so a name cannot resolve to a public address for the
check and to an internal one for the connection (DNS rebinding). ``EgressNetworkBackend``
does that for httpx/httpcore: the connection is opened to the checked address while TLS
(SNI, certificate) and the Host header keep the name.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from .errors import ApplicationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_SETTING = "MARTECH_EGRESS_ALLOW"
_HINT = f"An operator can allow it with {ALLOW_SETTING}."

# Names that only mean something inside the machine or the local network, whatever they
# resolve to at the moment of the check.
_REFUSED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "ip6-localhost",
        "ip6-loopback",
        "metadata",
        "metadata.google.internal",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_REFUSED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan")

# Networks ipaddress does not flag (or does not flag on every supported Python).
_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_BENCHMARK_V4 = ipaddress.ip_network("198.18.0.0/15")
_NAT64_V6 = (
    ipaddress.ip_network("64:ff9b::/96"),  # well-known NAT64 prefix (RFC 6052)
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use NAT64 prefix (RFC 8215)
)
_SITE_LOCAL_V6 = ipaddress.ip_network("fec0::/10")
_UNIQUE_LOCAL_V6 = ipaddress.ip_network("fc00::/7")
# The last label of a host that a resolver reads as a number (WHATWG "ends in a number").
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)", re.IGNORECASE)


class EgressRefused(ApplicationError):
    """An outbound target the egress policy does not allow."""

    status = 400
    code = "egress_refused"


class EgressUnresolved(EgressRefused):
    """A host name that does not resolve (the target cannot be checked, so nothing is sent)."""

    code = "egress_unresolved"


# -- the allow-list -----------------------------------------------------------------------


@lru_cache(maxsize=32)
def _parse_allow(entries: tuple[str, ...]) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(_normalise_name(entry))
    return frozenset(names), tuple(networks)


def _allow() -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    configured = getattr(settings, ALLOW_SETTING, ()) or ()
    if isinstance(configured, str):
        configured = configured.split(",")
    return _parse_allow(tuple(str(entry) for entry in configured))


def _normalise_name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


# -- addresses ------------------------------------------------------------------------------


def _as_address(ip: str | IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    return ipaddress.ip_address(str(ip).strip().strip("[]"))


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _NAT64_V6):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    packed = int(address)
    # IPv4-compatible (::a.b.c.d, deprecated) and the SIIT form ::ffff:0:a.b.c.d.
    if packed >> 32 == 0 and packed > 0xFFFF:
        return ipaddress.IPv4Address(packed)
    if packed >> 32 == 0xFFFF0000:
        return ipaddress.IPv4Address(packed & 0xFFFFFFFF)
    return None


def _refusal(address: IPAddress) -> str:
    """Why an address is refused ('' when it is a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            address = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        embedded = _embedded_v4(address)
        if embedded is not None:
            inner = _refusal(embedded)
            return f"an IPv6 form of {inner}" if inner else ""
        if address in _SITE_LOCAL_V6:
            return "a site-local address"
        if address in _UNIQUE_LOCAL_V6:
            return "a unique-local address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED_V4:
        return "a shared (carrier-grade NAT) address"
    if isinstance(address, ipaddress.IPv4Address) and address in _BENCHMARK_V4:
        return "a benchmarking address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "a non-public address"
    return ""


def _in_allowed_network(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        bare = ipaddress.IPv6Address(str(address).split("%", 1)[0])
        candidates.append(bare)
        embedded = _embedded_v4(bare)
        if embedded is not None:
            candidates.append(embedded)
    return any(
        candidate.version == network.version and candidate in network
        for candidate in candidates
        for network in networks
    )


def name_allowed(host: str) -> bool:
    """Answer whether ``host`` is a name the operator lists in ``MARTECH_EGRESS_ALLOW``."""
    names, _ = _allow()
    return _normalise_name(host) in names


def address_allowed(ip: str | IPAddress) -> bool:
    """Answer whether the console may connect to this address."""
    try:
        address = _as_address(ip)
    except ValueError:
        return False
    if not _refusal(address):
        return True
    _, networks = _allow()
    return _in_allowed_network(address, networks)


def _check_address(address: IPAddress, *, host: str) -> None:
    reason = _refusal(address)
    if not reason:
        return
    _, networks = _allow()
    if _in_allowed_network(address, networks):
        return
    shown = str(address)
    label = shown if _normalise_name(host) == shown else f"{host} ({shown})"
    raise EgressRefused(
        f"{label} is {reason}; the console does not send there. {_HINT}",
        details={"host": host, "address": shown},
    )


# -- host names -----------------------------------------------------------------------------


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_name(name: str, *, host: str) -> None:
    if not name:
        raise EgressRefused("The address has no host.", details={"host": host})
    last = name.rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last):
        # A resolver reads this as an IPv4 number (127.1, 2130706433, 0x7f000001, 0177.0.0.1);
        # only the canonical dotted quad is accepted, and that is a literal, not a name.
        raise EgressRefused(
            f"{host} is not a canonical IP address; write the address as a.b.c.d.",
            details={"host": host},
        )
    if name in _REFUSED_NAMES or name.endswith(_REFUSED_SUFFIXES):
        raise EgressRefused(
            f"{host} is a local or internal host name; the console does not send there. {_HINT}",
            details={"host": host},
        )
    if "." not in name:
        raise EgressRefused(
            f"{host} is a single-label (local network) host name; the console does not send "
            f"there. {_HINT}",
            details={"host": host},
        )


def resolve(host: str, port: int | None = None) -> list[str]:
    """Resolve ``host`` once and return the addresses the caller must connect to.

    Raises ``EgressRefused`` when the name is refused or any address it resolves to is not
    allowed, and ``EgressUnresolved`` (a subclass) when it does not resolve. A host listed by
    name in ``MARTECH_EGRESS_ALLOW`` is allowed whatever it resolves to.
    """
    name = _normalise_name(host)
    literal = _literal(name)
    if literal is not None:
        _check_address(literal, host=host)
        return [str(literal)]
    allowed_names, _ = _allow()
    named_allowed = name in allowed_names
    if not named_allowed:
        _check_name(name, host=host)
    try:
        infos = socket.getaddrinfo(name, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise EgressUnresolved(
            f"{host} does not resolve; nothing was sent.", details={"host": host}
        ) from exc
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        text = str(sockaddr[0])
        if text in addresses:
            continue
        if not named_allowed:
            _check_address(_as_address(text), host=host)
        addresses.append(text)
    if not addresses:
        raise EgressUnresolved(
            f"{host} does not resolve; nothing was sent.", details={"host": host}
        )
    return addresses


def check_host(host: str, *, resolve_name: bool = True) -> None:
    """Refuse a host the policy does not allow.

    With ``resolve_name=False`` only what the host says by itself is checked (a literal
    address, a refused or numeric name): used where a name that does not resolve yet is not
    an error (saving a configuration), because the send resolves and checks it again.
    """
    if resolve_name:
        resolve(host)
        return
    name = _normalise_name(host)
    literal = _literal(name)
    if literal is not None:
        _check_address(literal, host=host)
        return
    allowed_names, _ = _allow()
    if name not in allowed_names:
        _check_name(name, host=host)


def check_url(url: str, *, resolve_name: bool = True) -> None:
    """Refuse a URL the policy does not allow: http(s) only, no user-info, an allowed host.

    Raises ``EgressRefused``. By default the host is resolved and every address checked (a
    name that does not resolve raises ``EgressUnresolved``); ``resolve_name=False`` accepts
    a name that does not resolve yet, see ``check_host``.
    """
    text = str(url or "").strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as exc:
        raise EgressRefused("The address is not a valid URL.", details={"url": "invalid"}) from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise EgressRefused(
            "Only http and https addresses are allowed.", details={"scheme": parts.scheme}
        )
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise EgressRefused(
            "The address must not carry a user name or password; put credentials in the "
            "destination's credentials.",
            details={"user_info": True},
        )
    if any(ch.isspace() or ord(ch) < 0x20 or ch in "\\" for ch in parts.netloc):
        raise EgressRefused("The address is not a valid URL.", details={"url": "invalid"})
    if not host:
        raise EgressRefused("The address has no host.", details={"url": "invalid"})
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise EgressRefused("The address's host is not a valid name.") from exc
    check_host(host, resolve_name=resolve_name)


# -- connect time -----------------------------------------------------------------------------


class EgressNetworkBackend(httpcore.SyncBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    The host is resolved and checked when the connection is opened, and the socket is
    connected to the checked address itself; httpcore keeps the name for TLS and the Host
    header. A refused host raises ``EgressRefused`` before any packet leaves the machine.
    """

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in resolve(host, port):
            try:
                return super().connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None  # resolve() returns at least one address
        raise last_error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ):
        raise EgressRefused("Connections to local sockets are not allowed.")


def http_transport(
    *, limits: httpx.Limits | None = None, ssl_context: ssl.SSLContext | None = None
) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through ``EgressNetworkBackend``.

    Give it to ``httpx.Client(transport=...)``: a client given a transport takes no proxy from
    the environment (a proxy would connect on the console's behalf, past the check).
    ``ssl_context`` replaces the default verification (certifi's authorities), e.g. to trust
    an operator's own authority as well.
    """
    limits = limits or httpx.Limits()
    transport = httpx.HTTPTransport(limits=limits)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=ssl_context or httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=EgressNetworkBackend(),
    )
    return transport


def request(
    method: str,
    url: str,
    *,
    data: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[int, bytes]:
    """One request outside a vendor adapter (a warehouse's OAuth token endpoint, a sign-in
    provider's discovery, keys, token and userinfo endpoints): the URL checked, the
    connection pinned to the checked address, no redirect followed and no proxy taken.
    Returns the status and the body; raises ``EgressRefused``, or ``ConnectionError`` (its
    message without the request's content) when the target cannot be reached."""
    check_url(url)
    transport = http_transport(ssl_context=ssl_context)
    try:
        with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client:
            answer = client.request(method, url, data=data, auth=auth, headers=headers)
            return answer.status_code, answer.content
    except httpx.HTTPError as exc:
        raise ConnectionError(f"{type(exc).__name__}: {exc}") from None
