"""Databricks SQL warehouses, through ``databricks-sql-connector`` (Thrift over HTTPS).

Credentials are what a SQL warehouse's *Connection details* tab shows: the server hostname
(``dbc-…cloud.databricks.com``, ``adb-….azuredatabricks.net``, ``….gcp.databricks.com``)
and the HTTP path (``/sql/1.0/warehouses/<id>``), with either a personal access token
(``dapi…``) or a service principal's OAuth client ID and secret (machine-to-machine OAuth:
the console exchanges them at ``https://<host>/oidc/v1/token`` for an hour's token), and
the catalog and schema a model's unqualified names resolve in. The hostname may end in
``:port`` where a workspace is reached on another port than 443.

What may be read is decided in Databricks: a SQL warehouse has no read-only session, so the
boundary is the Unity Catalog privileges of the token's user or service principal. Give the
console its own service principal holding ``USE CATALOG``, ``USE SCHEMA`` and ``SELECT`` on
what the models read (and, to load, ``CREATE TABLE`` and ``MODIFY`` on the console's own
schema only); the model's SQL is checked as one read query before it is sent.

Every statement is limited by the session's ``STATEMENT_TIMEOUT`` (seconds; the warehouse
cancels a statement that runs longer), the connector's socket timeout is a little longer,
and its retries stop within the timeout too. The host is checked against the egress policy
before every connection (the connector then resolves the name again itself: it cannot be
pinned to the checked address) and the OAuth token is fetched through the console's egress
transport. Cloud fetch is off (results would otherwise come as links to the workspace's
cloud storage, hosts the console has not checked), and so is the connector's telemetry.

``MARTECH_DATABRICKS_CA_FILE`` names a PEM file of certificate authorities trusted besides
the system's (a workspace behind a TLS-inspecting proxy; the tests' loopback warehouse).
"""

from __future__ import annotations

import contextlib
import json
import re
import ssl
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from django.conf import settings
from sqlglot import exp

from apps.syncs.errors import SyncsErrorCode
from martech.common import egress
from martech.common.errors import ApplicationError

from .base import Cleaned, CredentialField, Table
from .sqlengine import SqlEngine

CA_FILE_SETTING = "MARTECH_DATABRICKS_CA_FILE"
DEFAULT_PORT = 443
OAUTH_PATH = "/oidc/v1/token"
# A write has no model's timeout: loads and deletes are limited to this.
WRITE_TIMEOUT = 3600
# Rows (and bytes of values) per MERGE: a statement stays far below the warehouse's limit on
# statement text.
LOAD_BATCH = 1000
LOAD_BATCH_BYTES = 4 * 1024 * 1024

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_HTTP_PATH = re.compile(
    r"/sql/1\.0/(?:warehouses|endpoints)/[0-9a-f]{16}"
    r"|/sql/protocolv1/o/[0-9]+/[0-9]{4}-[0-9]{6}-[a-z0-9]{8}"
)
_TOKEN = re.compile(r"dapi[0-9a-f]{32}(?:-[0-9]+)?")
_SECRET = re.compile(r"[\x21-\x7e]{16,256}")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,254}")

TYPES = {
    "string": "STRING",
    "integer": "BIGINT",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "json": "STRING",
}


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(
        message, code=SyncsErrorCode.INVALID_CREDENTIALS, details={"field": field}
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0] if exc.args else exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def split_host(text: str) -> tuple[str, int]:
    """``(host, port)`` of a server hostname as people paste it (a URL's scheme and a
    trailing slash are dropped); ``ValueError`` saying what is wrong."""
    value = text.strip()
    value = re.sub(r"^https://", "", value, flags=re.IGNORECASE).rstrip("/")
    if not value:
        raise ValueError("A Databricks connection needs the server hostname.")
    if "/" in value or "@" in value or "?" in value or "#" in value:
        raise ValueError(
            "Give the server hostname only (e.g. dbc-a1b2c3d4-e5f6.cloud.databricks.com), "
            "without a path; the HTTP path has its own field."
        )
    host, _, port_text = value.partition(":")
    port = DEFAULT_PORT
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError("The port after the server hostname is not a port number.")
        port = int(port_text)
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise ValueError(
            "The server hostname is not a host name (letters, digits, hyphens and dots, "
            "e.g. dbc-a1b2c3d4-e5f6.cloud.databricks.com)."
        )
    return host.lower(), port


class _ServicePrincipal:
    """The connector's credentials provider for OAuth M2M: a token from the workspace's
    token endpoint (client credentials, scope ``all-apis``), fetched through the egress
    transport when the connection opens; the connector asks for headers on every request."""

    def __init__(self, engine: DatabricksEngine, credentials: dict[str, str], timeout: int):
        self.engine = engine
        self.credentials = credentials
        self.timeout = timeout

    def auth_type(self) -> str:
        return "oauth-m2m"

    def __call__(self, *args, **kwargs):
        token, expires = "", 0.0

        def headers() -> dict[str, str]:
            nonlocal token, expires
            if time.monotonic() >= expires:  # a stream may outlast one token
                token, lifetime = self.engine.oauth_token(self.credentials, timeout=self.timeout)
                expires = time.monotonic() + max(lifetime - 60, 30)
            return {"Authorization": f"Bearer {token}"}

        headers()  # refused credentials fail the connection before any request
        return headers


class DatabricksEngine(SqlEngine):
    kind: ClassVar[str] = "databricks"
    label: ClassVar[str] = "Databricks SQL"
    dialect: ClassVar[str] = "databricks"
    # The workspace's system catalog (audit logs, billing, lineage) and every catalog's
    # information schema are not a model's to read.
    system_schemas: ClassVar[frozenset[str]] = frozenset({"system", "information_schema"})
    functions: ClassVar[frozenset[str]] = frozenset(
        (
            "get_json_object",
            "json_tuple",
            "named_struct",
            "array",
            "map",
            "try_divide",
            "try_element_at",
            "to_date",
            "to_timestamp",
            "date_part",
            "ifnull",
            "nanvl",
        )
    )
    fields: ClassVar[tuple[CredentialField, ...]] = (
        CredentialField(
            "server_hostname",
            "Server hostname",
            help="From the SQL warehouse's Connection details, e.g. "
            "dbc-a1b2c3d4-e5f6.cloud.databricks.com.",
        ),
        CredentialField(
            "http_path",
            "HTTP path",
            help="From the same tab, e.g. /sql/1.0/warehouses/1234567890abcdef.",
        ),
        CredentialField(
            "access_token",
            "Personal access token",
            secret=True,
            required=False,
            help="dapi…; or leave it empty and give a service principal's OAuth client below.",
        ),
        CredentialField(
            "client_id",
            "OAuth client ID",
            required=False,
            help="A service principal's application ID, for machine-to-machine OAuth.",
        ),
        CredentialField("client_secret", "OAuth secret", secret=True, required=False),
        CredentialField(
            "catalog",
            "Catalog",
            required=False,
            help="Where unqualified table names resolve; empty for the workspace's default.",
        ),
        CredentialField("schema", "Schema", required=False, initial="default"),
    )

    # -- credentials ---------------------------------------------------------------------

    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        previous = previous or {}

        def value(name: str) -> str:
            return str(given.get(name) or "").strip()

        try:
            host, port = split_host(value("server_hostname"))
        except ValueError as exc:
            raise _invalid(str(exc), "server_hostname") from None
        path = value("http_path")
        if path and not path.startswith("/"):
            path = "/" + path
        if not _HTTP_PATH.fullmatch(path):
            raise _invalid(
                "The HTTP path is not a SQL warehouse's (/sql/1.0/warehouses/ and 16 "
                "hexadecimal characters) or a cluster's (/sql/protocolv1/o/…/…): copy it from "
                "the Connection details tab.",
                "http_path",
            )
        credentials = {
            "server_hostname": host if port == DEFAULT_PORT else f"{host}:{port}",
            "http_path": path,
        }
        client_id = value("client_id")
        if client_id:
            try:
                uuid.UUID(client_id)
            except ValueError:
                raise _invalid(
                    "The OAuth client ID is a service principal's application ID, a UUID "
                    "(e.g. 6f1c2e5a-8d4b-4c3e-9a7f-2b1d0e9c8a71).",
                    "client_id",
                ) from None
            secret = value("client_secret") or (
                previous.get("client_secret", "") if previous.get("client_id") == client_id else ""
            )
            if not secret:
                raise _invalid("Give the service principal's OAuth secret.", "client_secret")
            if not _SECRET.fullmatch(secret):
                raise _invalid(
                    "The OAuth secret is not one Databricks issues (16 to 256 printable "
                    "characters, no spaces).",
                    "client_secret",
                )
            credentials.update(client_id=client_id.lower(), client_secret=secret)
            who = f"service principal {client_id.lower()}"
        else:
            token = value("access_token") or previous.get("access_token", "")
            if not token:
                raise _invalid(
                    "Give a personal access token, or a service principal's OAuth client ID "
                    "and secret.",
                    "access_token",
                )
            if not _TOKEN.fullmatch(token):
                raise _invalid(
                    "The personal access token is not one Databricks issues (dapi and 32 "
                    "hexadecimal characters): create one under Settings > Developer.",
                    "access_token",
                )
            credentials["access_token"] = token
            who = "a personal access token"
        for name in ("catalog", "schema"):
            text = value(name)
            if text and not _NAME.fullmatch(text):
                raise _invalid(
                    f"The {name} is not a Unity Catalog name (letters, digits, _ and -).", name
                )
            if text:
                credentials[name] = text
        for host_, port_ in self.endpoints(credentials):
            with contextlib.suppress(egress.EgressUnresolved):
                egress.resolve(host_, port_)
        egress.check_url(self._token_url(credentials), resolve_name=False)
        where = ".".join(credentials[n] for n in ("catalog", "schema") if credentials.get(n))
        display = f"{credentials['server_hostname']}{path}"
        display += f" · {where}" if where else ""
        return Cleaned(credentials=credentials, display=f"{display} as {who}")

    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        return [split_host(credentials.get("server_hostname", ""))]

    def _token_url(self, credentials: dict[str, str]) -> str:
        host, port = split_host(credentials.get("server_hostname", ""))
        where = host if port == DEFAULT_PORT else f"{host}:{port}"
        return f"https://{where}{OAUTH_PATH}"

    # -- connecting ----------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        ca_file = getattr(settings, CA_FILE_SETTING, "")
        if ca_file:
            context.load_verify_locations(cafile=ca_file)
        return context

    def oauth_token(self, credentials: dict[str, str], *, timeout: int) -> tuple[str, int]:
        """An access token for the service principal (client credentials grant) and the
        seconds it is valid for."""
        try:
            status, body = egress.request(
                "POST",
                self._token_url(credentials),
                data={"grant_type": "client_credentials", "scope": "all-apis"},
                auth=(credentials["client_id"], credentials["client_secret"]),
                timeout=min(timeout, 30) or 30,
                ssl_context=self._ssl_context(),
            )
        except ConnectionError as exc:
            raise ApplicationError(
                f"Cannot reach {credentials['server_hostname']} for an OAuth token: "
                f"{self.scrub(_first_line(exc), credentials)}",
                code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
            ) from None
        if status in (400, 401, 403):
            raise ApplicationError(
                "Databricks refused the service principal's OAuth client ID or secret "
                "(check both, and that the secret has not expired).",
                code=SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED,
                details={"field": "client_secret"},
            )
        token, lifetime = "", 3600
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            answer = json.loads(body)
            token = str(answer.get("access_token") or "")
            lifetime = int(answer.get("expires_in") or lifetime)
        if status != 200 or not token:
            raise ApplicationError(
                f"{credentials['server_hostname']} gave no OAuth token (HTTP {status}).",
                code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
            )
        return token, lifetime

    def _connect(self, credentials: dict[str, str], *, timeout: int):
        from databricks import sql as databricks_sql

        host, port = split_host(credentials.get("server_hostname", ""))
        egress.resolve(host, port)
        options: dict[str, Any] = {
            "server_hostname": host,
            "http_path": credentials.get("http_path", ""),
            "catalog": credentials.get("catalog") or None,
            "schema": credentials.get("schema") or None,
            "session_configuration": {"STATEMENT_TIMEOUT": str(int(timeout))},
            "_port": port,
            "_socket_timeout": timeout + 30,
            "_retry_stop_after_attempts_count": 5,
            "_retry_stop_after_attempts_duration": timeout + 30,
            "enable_telemetry": False,
            "use_cloud_fetch": False,
            "user_agent_entry": "martech-console",
        }
        ca_file = getattr(settings, CA_FILE_SETTING, "")
        if ca_file:
            options["_tls_trusted_ca_file"] = ca_file
        if credentials.get("client_id"):
            options["credentials_provider"] = _ServicePrincipal(self, credentials, timeout)
        else:
            options["access_token"] = credentials.get("access_token", "")
        try:
            return databricks_sql.connect(**options)
        except ApplicationError:
            raise
        except Exception as exc:  # the connector raises its own errors and urllib3's
            raise self._connect_error(exc, credentials) from None

    def _connect_error(self, exc: Exception, credentials: dict[str, str]) -> ApplicationError:
        context = getattr(exc, "context", None) or {}
        code = context.get("http-code") if isinstance(context, dict) else None
        if code in (401, 403):
            who = "service principal" if credentials.get("client_id") else "access token"
            return ApplicationError(
                f"Databricks refused the {who} (its token may be mistyped, expired or "
                "revoked, or it may not use this SQL warehouse).",
                code=SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED,
                details={"field": "client_id" if credentials.get("client_id") else "access_token"},
            )
        if code == 404:
            return ApplicationError(
                "There is no SQL warehouse at this HTTP path on this workspace.",
                code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
                details={"field": "http_path"},
            )
        reason = self.scrub(_first_line(exc), credentials)
        return ApplicationError(
            f"Cannot connect to {credentials.get('server_hostname', '')}: {reason}",
            code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
        )

    @contextmanager
    def _session(self, credentials: dict[str, str], *, timeout: int) -> Iterator[Any]:
        connection = self._connect(credentials, timeout=timeout)
        try:
            yield connection
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    # -- reading -------------------------------------------------------------------------

    @contextmanager
    def reading(self, credentials: dict[str, str], *, timeout: int) -> Iterator[Any]:
        """A connection whose statements are cancelled by the warehouse after ``timeout``
        seconds. Read-only only as far as the token's grants make it (see the module)."""
        with self._session(credentials, timeout=timeout) as connection:
            yield connection

    def version(self, connection: Any) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_version()")
            row = cursor.fetchone()
        value = row[0] if row else None
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, dict):
            if value.get("dbsql_version"):
                return f"Databricks SQL {value['dbsql_version']}"
            if value.get("dbr_version"):
                return f"Databricks Runtime {value['dbr_version']}"
        return "Databricks SQL"

    def query_errors(self) -> tuple[type[BaseException], ...]:
        from databricks.sql import exc as errors

        return (errors.Error,)

    def reason(self, error: BaseException, credentials: dict[str, str] | None) -> str:
        text = self.scrub(_first_line(error), credentials)
        if "TIMEOUT" in text.upper():
            return f"it ran longer than the statement timeout ({text})"
        return text

    def type_name(self, description: Sequence[Any]) -> str:
        return str(description[1]).upper()

    def key_text(self, expression: exp.Expression) -> exp.Expression:
        # A catalog or schema may set another default collation (UTF8_LCASE): the key is
        # compared byte by byte whatever it is.
        return exp.Collate(this=super().key_text(expression), expression=exp.var("UTF8_BINARY"))

    # -- loading -------------------------------------------------------------------------

    @contextmanager
    def writing(self, credentials: dict[str, str]) -> Iterator[Any]:
        """A connection for the console's own tables; a statement that fails in it is a
        400 (``query_failed``) saying why."""
        with (
            self.failures(credentials),
            self._session(credentials, timeout=WRITE_TIMEOUT) as connection,
        ):
            yield connection

    def column_type(self, type_: str) -> str:
        return TYPES[type_]

    def _value(self, value: Any, type_: str) -> exp.Expression:
        if value is None:
            return exp.Null()
        if type_ == "json" and not isinstance(value, str):
            value = json.dumps(value, default=str, separators=(",", ":"))
        elif type_ == "timestamp" and not isinstance(value, str):
            value = value.isoformat()
        return exp.convert(value)

    def load(self, connection: Any, table: Table, rows: Sequence[tuple]) -> int:
        """MERGE the rows into the table, a VALUES list of at most ``LOAD_BATCH`` rows (and
        ``LOAD_BATCH_BYTES`` of text) at a time: a row whose key the table holds is
        skipped, and of rows repeating a key in one load the first is written."""
        key = [c.name for c in table.columns].index(table.key)
        seen: set = set()
        written = 0
        batch: list[exp.Tuple] = []
        size = 0
        for row in rows:
            if row[key] is None or row[key] in seen:
                continue
            seen.add(row[key])
            values = exp.Tuple(
                expressions=[
                    self._value(v, c.type) for v, c in zip(row, table.columns, strict=True)
                ]
            )
            batch.append(values)
            size += sum(len(str(v)) + 4 for v in row)
            if len(batch) >= LOAD_BATCH or size >= LOAD_BATCH_BYTES:
                written += self._merge(connection, table, batch)
                batch, size = [], 0
        if batch:
            written += self._merge(connection, table, batch)
        return written

    def _merge(self, connection: Any, table: Table, batch: list[exp.Tuple]) -> int:
        columns = [exp.to_identifier(c.name, quoted=True) for c in table.columns]
        source = exp.select(
            *[
                exp.cast(exp.column(name.copy(), table="v"), self.column_type(c.type)).as_(
                    name.copy()
                )
                for name, c in zip(columns, table.columns, strict=True)
            ]
        ).from_(
            exp.Values(
                expressions=batch,
                alias=exp.TableAlias(
                    this=exp.to_identifier("v"), columns=[c.copy() for c in columns]
                ),
            )
        )
        key = exp.to_identifier(table.key, quoted=True)
        target = self.table_name(table.schema, table.name)
        target.set("alias", exp.TableAlias(this=exp.to_identifier("t")))
        merge = exp.Merge(
            this=target,
            using=exp.Subquery(this=source, alias=exp.TableAlias(this=exp.to_identifier("s"))),
            on=exp.column(key.copy(), table="t").eq(exp.column(key.copy(), table="s")),
            whens=exp.Whens(
                expressions=[
                    exp.When(
                        matched=False,
                        then=exp.Insert(
                            this=exp.Tuple(expressions=[c.copy() for c in columns]),
                            expression=exp.Tuple(
                                expressions=[exp.column(c.copy(), table="s") for c in columns]
                            ),
                        ),
                    )
                ]
            ),
        )
        cursor = connection.cursor()
        try:
            cursor.execute(self.render(merge))
            return self.affected(cursor)
        finally:
            cursor.close()


ENGINE = DatabricksEngine()
