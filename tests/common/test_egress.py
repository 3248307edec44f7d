"""The egress policy: which addresses, names and URLs the console may send to.

Name resolution is the one thing faked here (the test machine has no public DNS): a small
zone answers for names under ``.example.com``, everything else goes to the real resolver.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading

import httpx
import pytest

from martech.common import egress
from martech.common.egress import EgressRefused, EgressUnresolved

_real_getaddrinfo = socket.getaddrinfo


def _answer(address: str, port: int) -> tuple:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


@pytest.fixture
def zone(monkeypatch):
    """A DNS zone for names under example.com: name -> list of answers, one list per lookup."""
    records: dict[str, list[list[str]]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        name = str(host).rstrip(".").lower()
        if name in records:
            answers = records[name]
            current = answers.pop(0) if len(answers) > 1 else answers[0]
            return [_answer(address, int(port or 0)) for address in current]
        if name.endswith(".example.com"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return _real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records


@pytest.fixture
def nothing_allowed(settings):
    settings.MARTECH_EGRESS_ALLOW = []


REFUSED_ADDRESSES = [
    ("169.254.169.254", "link-local"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
    ("::", "unspecified"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::127.0.0.1", "loopback"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("fd00::1", "unique-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("100.64.0.1", "carrier-grade NAT"),  # shared address space: the provider's network
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", ""),
    ("198.18.0.1", "benchmarking"),
    ("192.0.2.1", ""),  # documentation range: not routed
]


@pytest.mark.parametrize(("address", "reason"), REFUSED_ADDRESSES)
def test_internal_addresses_are_not_allowed(nothing_allowed, address, reason):
    assert egress.address_allowed(address) is False
    assert egress.address_allowed(ipaddress.ip_address(address)) is False
    with pytest.raises(EgressRefused) as refused:
        egress.resolve(address)
    assert refused.value.code == "egress_refused"
    assert refused.value.status == 400
    assert reason in refused.value.message
    assert "MARTECH_EGRESS_ALLOW" in refused.value.message


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(nothing_allowed, address):
    assert egress.address_allowed(address) is True
    assert egress.resolve(address, 443) == [address]
    egress.check_url(f"https://{'[' + address + ']' if ':' in address else address}/v1/track")


def test_the_refusal_message_names_the_address_and_the_setting(nothing_allowed):
    with pytest.raises(EgressRefused) as refused:
        egress.check_url("http://169.254.169.254/latest/meta-data/")
    assert refused.value.message == (
        "169.254.169.254 is a link-local address; the console does not send there. "
        "An operator can allow it with MARTECH_EGRESS_ALLOW."
    )


REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://[::1]:8399/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://0.0.0.0:8399/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://0x08080808/",  # public, but only the canonical form is accepted
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/",
    "http://redis:6379/",
    "http://printer.local/",
    "http://user:pass@127.0.0.1/",
    "http://user:pass@93.184.215.14/",
    "http://token@93.184.215.14/",
    "https://93.184.215.14@127.0.0.1/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "ftp://93.184.215.14/",
    "//93.184.215.14/",
    "http:///path-only",
    "http://93.184.215.14:notaport/",
    "",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_urls_to_internal_or_ambiguous_targets_are_refused(nothing_allowed, url):
    with pytest.raises(EgressRefused) as refused:
        egress.check_url(url)
    assert refused.value.code == "egress_refused"
    with pytest.raises(EgressRefused):
        egress.check_url(url, resolve_name=False)


def test_a_public_url_is_allowed(nothing_allowed, zone):
    zone["api.vendor.example.com"] = [["93.184.215.14"]]
    egress.check_url("https://api.vendor.example.com/v2/track?x=1")
    egress.check_url("http://93.184.215.14:8080/hook")


def test_a_name_is_refused_when_any_address_it_resolves_to_is_internal(nothing_allowed, zone):
    zone["mixed.example.com"] = [["93.184.215.14", "127.0.0.1"]]
    with pytest.raises(EgressRefused) as refused:
        egress.resolve("mixed.example.com", 443)
    assert "mixed.example.com (127.0.0.1) is a loopback address" in refused.value.message
    zone["mapped.example.com"] = [["::ffff:169.254.169.254"]]
    with pytest.raises(EgressRefused):
        egress.check_url("https://mapped.example.com/")


def test_resolve_returns_the_checked_addresses_to_connect_to(nothing_allowed, zone):
    zone["api.vendor.example.com"] = [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]]
    assert egress.resolve("api.vendor.example.com", 443) == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


def test_a_name_that_does_not_resolve_is_unresolved_and_may_be_saved(nothing_allowed, zone):
    with pytest.raises(EgressUnresolved) as unresolved:
        egress.check_url("https://nowhere.example.com/")
    assert unresolved.value.code == "egress_unresolved"
    assert isinstance(unresolved.value, EgressRefused)
    egress.check_url("https://nowhere.example.com/", resolve_name=False)


def test_the_allow_setting_admits_a_network(settings):
    settings.MARTECH_EGRESS_ALLOW = ["10.20.0.0/16"]
    assert egress.address_allowed("10.20.3.4") is True
    assert egress.address_allowed("::ffff:10.20.3.4") is True
    assert egress.address_allowed("10.21.0.1") is False
    egress.check_url("http://10.20.3.4:8080/hook")
    with pytest.raises(EgressRefused):
        egress.check_url("http://10.21.0.1/")


def test_the_allow_setting_admits_a_host_by_name_whatever_it_resolves_to(settings, zone):
    settings.MARTECH_EGRESS_ALLOW = ["Warehouse.Corp.Example.com", "2001:db8::/32"]
    zone["warehouse.corp.example.com"] = [["10.1.2.3"]]
    assert egress.resolve("warehouse.corp.example.com.", 5432) == ["10.1.2.3"]
    egress.check_url("https://warehouse.corp.example.com/")
    assert egress.address_allowed("2001:db8::5") is True
    # The name is allowed, not the address it resolves to.
    assert egress.address_allowed("10.1.2.3") is False


def test_the_allow_setting_is_read_from_the_environment_as_a_comma_separated_list(settings):
    settings.MARTECH_EGRESS_ALLOW = "10.9.0.0/16, hooks.example.com"
    assert egress.address_allowed("10.9.1.1") is True
    egress.check_host("hooks.example.com", resolve_name=False)


def test_the_test_settings_allow_loopback_by_default():
    assert egress.address_allowed("127.0.0.1") is True
    assert egress.address_allowed("::1") is True
    assert egress.resolve("localhost", 80)
    assert egress.address_allowed("169.254.169.254") is False


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        return


@pytest.fixture
def loopback_server():
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client() -> httpx.Client:
    return httpx.Client(transport=egress.http_transport(), trust_env=False)


def test_the_network_backend_refuses_at_connect_time_before_anything_is_sent(
    nothing_allowed, loopback_server
):
    port = loopback_server.server_address[1]
    with _client() as client, pytest.raises(EgressRefused):
        client.get(f"http://127.0.0.1:{port}/secret")
    assert _Recorder.hits == []


def test_the_network_backend_connects_to_the_address_it_checked(settings, zone, loopback_server):
    # A name that answered a public address when it was checked at save time answers
    # loopback when the connection is opened (DNS rebinding): the connection is refused.
    settings.MARTECH_EGRESS_ALLOW = []
    port = loopback_server.server_address[1]
    zone["rebind.example.com"] = [["93.184.215.14"], ["127.0.0.1"]]
    egress.check_url(f"http://rebind.example.com:{port}/")
    with _client() as client, pytest.raises(EgressRefused):
        client.get(f"http://rebind.example.com:{port}/metadata")
    assert _Recorder.hits == []


def test_the_network_backend_keeps_the_name_for_the_host_header(settings, zone, loopback_server):
    settings.MARTECH_EGRESS_ALLOW = ["127.0.0.0/8"]
    port = loopback_server.server_address[1]
    zone["hooks.example.com"] = [["127.0.0.1"]]
    with _client() as client:
        response = client.get(f"http://hooks.example.com:{port}/hook")
    assert response.status_code == 200
    assert response.request.headers["host"] == f"hooks.example.com:{port}"
    assert _Recorder.hits == ["/hook"]
