"""What a company warehouse's DSN may say, checked when it is saved and again at connect.

A DSN names one host reached over the network, a port, a database and credentials, and a
few transport settings. Options that make the console's server read a file (``sslkey``,
``passfile``, ``service`` …), a socket path as host, several hosts and a host the egress
policy refuses are refused. No message ever repeats the DSN or its password.
"""

from __future__ import annotations

import contextlib

import psycopg

from apps.syncs.errors import SyncsErrorCode
from martech.common import egress
from martech.common.errors import ApplicationError

# Options a DSN may set; everything else libpq knows is refused by name.
ALLOWED = frozenset(
    {
        "host",
        "port",
        "dbname",
        "user",
        "password",
        "sslmode",
        "sslnegotiation",
        "sslcompression",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "sslsni",
        "channel_binding",
        "require_auth",
        "gssencmode",
        "connect_timeout",
        "application_name",
        "fallback_application_name",
        "client_encoding",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    }
)
# Options that name a file on the console's server (or a key's passphrase, useless without
# one): the console would read its own files on the DSN writer's behalf.
FILE_OPTIONS = frozenset(
    {
        "sslkey",
        "sslcert",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslpassword",
        "passfile",
        "service",
        "servicefile",
        "sslcertmode",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
    }
)


def invalid(message: str) -> ApplicationError:
    return ApplicationError(message, code=SyncsErrorCode.INVALID_DSN)


def parse(dsn: str) -> dict[str, str]:
    """The DSN's parameters, or ``invalid_dsn`` saying what is wrong (never echoing it)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn or "")
    except psycopg.Error:
        raise invalid(
            "The DSN is not valid: write postgresql://user:password@host:5432/database "
            "(percent-encode special characters of the password, e.g. % as %25) or "
            "host=… port=… dbname=… user=… password=…."
        ) from None
    names = set(params)
    files = sorted(names & FILE_OPTIONS)
    if files:
        raise invalid(
            f"The DSN may not set {', '.join(files)}: options that read files on the "
            "console's server are not allowed."
        )
    if "hostaddr" in names:
        raise invalid("The DSN may not set hostaddr: name the host; the console resolves it.")
    others = sorted(names - ALLOWED)
    if others:
        raise invalid(f"The DSN may not set {', '.join(others)}.")
    host = (params.get("host") or "").strip()
    if not host:
        raise invalid("The DSN names no host: a warehouse is reached over the network.")
    if host.startswith(("/", "@")):
        raise invalid("The DSN's host is a socket path; name a network host.")
    if "," in host or "," in (params.get("port") or ""):
        raise invalid("The DSN names several hosts; name one.")
    port = (params.get("port") or "5432").strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise invalid("The DSN's port is not a port number.")
    return params


def check(dsn: str) -> dict[str, str]:
    """Parse the DSN and check its host against the egress policy (``EgressRefused``).

    A name that does not resolve yet is accepted: the connection resolves and checks it
    again, and connects to nothing else."""
    params = parse(dsn)
    with contextlib.suppress(egress.EgressUnresolved):
        egress.resolve(params["host"], int(params.get("port") or 5432))
    return params


def attempts(dsn: str) -> list[dict[str, str]]:
    """The connection parameters to try, one per address the host resolved to and the
    egress policy allowed, each pinned with ``hostaddr`` (no second DNS answer)."""
    params = parse(dsn)
    port = int(params.get("port") or 5432)
    return [{**params, "hostaddr": address} for address in egress.resolve(params["host"], port)]


def scrub(message: str, *secrets: str | None) -> str:
    """The message without any of the secrets in it."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return message
