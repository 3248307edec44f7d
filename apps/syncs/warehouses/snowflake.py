"""Snowflake, through ``snowflake-connector-python``.

Credentials are those a Snowflake service user has: the account identifier
(``orgname-accountname``, or an account locator with its region such as
``xy12345.us-east-2.aws``), the user, the role and warehouse it works with, a database and
schema, and either a key pair (a private key in PEM, with its passphrase when it is
encrypted: Snowflake's way for a service user) or a password.

Where a connection goes: ``https://<account>.snowflakecomputing.com`` (``.cn`` for a China
region), the host built from the account identifier and checked against the egress policy
when the credentials are saved and again, resolved, before every connection; the connector
is given that host, so it connects to the name that was checked (it resolves the name again
itself: it cannot be handed an address to pin). A person cannot name any other host.
``MARTECH_SNOWFLAKE_URL`` (an operator's setting, e.g. a proxy; the tests' own Snowflake)
replaces it for every Snowflake warehouse, and its host passes the same check. The
connector's probes of the cloud metadata services (platform detection, which would call
169.254.169.254 and metadata.google.internal) are switched off, and so is its out-of-band
telemetry; what it still reaches besides the account's host is Snowflake's choice, not the
credentials': the certificate status responders of the account's TLS certificate, and the
cloud storage behind a stage (a load's file is PUT there) or a large result, at the address
Snowflake's answer names.

Reading: the boundary is the role. Snowflake has no read-only session; what a connection
may do is what its role is granted, so the account's administrator gives the console a role
with ``USAGE`` on the warehouse, database and schema and ``SELECT`` on the tables the
models read, and nothing else (``README``). The console adds a second wall in front of it
(``check_sql``: one read query in Snowflake's dialect) and limits every statement: the
session's ``STATEMENT_TIMEOUT_IN_SECONDS`` is the warehouse's statement timeout, so
Snowflake cancels a longer statement itself (error 000630, a ``query_failed`` that says so);
logging in and each request to Snowflake have timeouts of the connector's own
(``LOGIN_TIMEOUT``; ``NETWORK_TIMEOUT`` beyond the statement's), so a Snowflake that stops
answering does not hold a worker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import re
import secrets
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings

from apps.syncs.engine import sql as pg
from apps.syncs.errors import SyncsErrorCode
from martech.common import egress
from martech.common.errors import ApplicationError

from .base import Cleaned, Column, CredentialField, Table
from .sqlengine import SqlEngine, console_type

# One label of an account identifier: orgname-accountname, or a locator and its region
# and cloud (xy12345.us-east-2.aws), or those with .privatelink.
_ACCOUNT_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
# An object name as Snowflake reads it unquoted (it folds it to upper case), or quoted.
_IDENTIFIER = re.compile(r'[A-Za-z_][A-Za-z0-9_$]{0,254}|"[^"\x00-\x1f]{1,253}"')
_USER = re.compile(r"[^\x00-\x1f\x7f]{1,255}")

LOGIN_TIMEOUT = 30  # seconds to log in, retries included
NETWORK_TIMEOUT = 60  # seconds a request to Snowflake may take beyond the statement's own
# The connector's answers that mean the account refused the credentials, not the network.
_LOGIN_REFUSED = {
    390100: "the user name or password is not right",
    390144: "the key pair was refused (is the public key set on the user with "
    "ALTER USER … SET RSA_PUBLIC_KEY?)",
    394304: "the user has no public key set (ALTER USER … SET RSA_PUBLIC_KEY)",
    390189: "the role is not granted to the user",
    390201: "the database, schema or warehouse does not exist or is not authorised",
    390102: "the user is locked",
    390101: "the user is disabled",
}
_TIMEOUT_CODES = {630, 604}  # statement timeout; statement cancelled


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError(
        message, code=SyncsErrorCode.INVALID_CREDENTIALS, details={"field": field}
    )


def account_of(given: str) -> str:
    """The account identifier in what a person typed: an identifier, or the account's URL
    or host pasted whole (``https://acme-analytics.snowflakecomputing.com``)."""
    text = (given or "").strip()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    text = text.rstrip("/").rstrip(".")
    for suffix in (".snowflakecomputing.com", ".snowflakecomputing.cn"):
        if text.lower().endswith(suffix):
            text = text[: -len(suffix)]
    labels = text.split(".")
    if not text or len(labels) > 4 or not all(_ACCOUNT_LABEL.fullmatch(x) for x in labels):
        raise _invalid(
            "The account identifier is not valid: write it as orgname-accountname (e.g. "
            "acme-analytics), or as the account locator with its region (e.g. "
            "xy12345.us-east-2.aws), as shown under Admin > Accounts in Snowsight.",
            "account",
        )
    return text.lower()


def account_host(account: str) -> str:
    """The account's own host name."""
    labels = account.split(".")
    top = "cn" if len(labels) > 1 and labels[1].startswith("cn-") else "com"
    # Underscores in an account name are written as hyphens in its host name.
    return f"{account.replace('_', '-')}.snowflakecomputing.{top}"


def private_key(pem: str, passphrase: str = "") -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    """The key of a PEM text, or ``invalid_credentials`` saying what is wrong (never the key)."""
    text = (pem or "").strip()
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise _invalid(
            "The private key must be in PEM form: paste the whole file, from "
            "-----BEGIN PRIVATE KEY----- (or ENCRYPTED PRIVATE KEY) to its END line.",
            "private_key",
        )
    try:
        key = serialization.load_pem_private_key(
            text.encode(), password=passphrase.encode() if passphrase else None
        )
    except TypeError:
        if passphrase:
            raise _invalid(
                "The private key is not encrypted: leave the passphrase empty.",
                "private_key_passphrase",
            ) from None
        raise _invalid(
            "The private key is encrypted: enter its passphrase.", "private_key_passphrase"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        if passphrase and "ENCRYPTED" in text:
            raise _invalid(
                "The passphrase does not open the private key.", "private_key_passphrase"
            ) from None
        raise _invalid(
            "The private key could not be read: paste the PEM file exactly as openssl wrote it.",
            "private_key",
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise _invalid(
                "The private key is shorter than 2048 bits; Snowflake asks for an RSA key "
                "of at least 2048 bits.",
                "private_key",
            )
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key
    raise _invalid("The private key must be an RSA (or elliptic-curve) key.", "private_key")


class SnowflakeEngine(SqlEngine):
    kind = "snowflake"
    label = "Snowflake"
    dialect = "snowflake"
    # What Snowflake models use beyond the shared list: LATERAL FLATTEN of a variant, its
    # regular expressions, string and date helpers, its boolean and object aggregates.
    functions = pg._names(
        "flatten regexp_substr regexp_count regexp_like regexp_instr charindex strtok "
        "split_part array_to_string to_char to_number to_date to_timestamp date_part timeadd "
        "timediff booland_agg boolor_agg object_agg ratio_to_report try_to_varchar "
        "object_insert object_delete object_pick array_append array_prepend array_cat "
        "array_position is_null_value typeof as_varchar as_integer as_double as_boolean "
        "as_object as_array"
    )
    # The account's own catalogue: the SNOWFLAKE database (ACCOUNT_USAGE holds every user's
    # queries) and each database's INFORMATION_SCHEMA.
    system_schemas = frozenset(
        {"snowflake", "information_schema", "account_usage", "organization_usage"}
    )
    system_prefixes = ()
    fields = (
        CredentialField(
            "account",
            "Account identifier",
            help="orgname-accountname, or the account locator with its region "
            "(xy12345.us-east-2.aws).",
        ),
        CredentialField("user", "User", help="A service user for the console."),
        CredentialField(
            "role",
            "Role",
            help="A role that may only read: USAGE on the warehouse, database and schema, "
            "SELECT on the tables the models read.",
        ),
        CredentialField("warehouse", "Warehouse", help="The virtual warehouse queries run on."),
        CredentialField("database", "Database"),
        CredentialField("schema", "Schema", required=False, initial="PUBLIC"),
        CredentialField(
            "private_key",
            "Private key (PEM)",
            secret=True,
            required=False,
            multiline=True,
            help="Key-pair authentication: the private key whose public key is set on the "
            "user (ALTER USER … SET RSA_PUBLIC_KEY). Leave empty to use a password.",
        ),
        CredentialField(
            "private_key_passphrase",
            "Private key passphrase",
            secret=True,
            required=False,
            help="Only for an encrypted private key.",
        ),
        CredentialField(
            "password",
            "Password",
            secret=True,
            required=False,
            help="Only when the user signs in with a password instead of a key pair.",
        ),
    )

    # -- credentials ---------------------------------------------------------------------

    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        previous = previous or {}
        values = {f.name: str(given.get(f.name) or "").strip() for f in self.fields}
        values["account"] = account_of(values["account"])
        if not _USER.fullmatch(values["user"]):
            raise _invalid("Enter the user the console signs in as.", "user")
        values["schema"] = values["schema"] or "PUBLIC"
        for name in ("role", "warehouse", "database", "schema"):
            if not _IDENTIFIER.fullmatch(values[name]):
                raise _invalid(
                    f"The {name} name is not valid: a Snowflake name (letters, digits, _ and "
                    '$, not starting with a digit), or one written in double quotes ("My '
                    'Schema").',
                    name,
                )
        # Secrets left blank keep the previous ones; a new key or password replaces the other
        # way of signing in (a new key comes with its own passphrase, or none).
        if values["private_key"]:
            values["password"] = ""
        elif values["password"]:
            values["private_key_passphrase"] = ""
        elif previous.get("private_key"):
            values["private_key"] = previous["private_key"]
            values["private_key_passphrase"] = values["private_key_passphrase"] or previous.get(
                "private_key_passphrase", ""
            )
        elif previous.get("password"):
            values["password"] = previous["password"]
            values["private_key_passphrase"] = ""
        if values["private_key"]:
            private_key(values["private_key"], values["private_key_passphrase"])
        elif not values["password"]:
            raise _invalid(
                "Enter the private key of the user's key pair (or its password).", "private_key"
            )
        cleaned = {k: v for k, v in values.items() if v}
        for host, port in self.endpoints(cleaned):
            # A name that does not resolve yet is accepted here; the connection resolves and
            # checks it again and connects to nothing else.
            with contextlib.suppress(egress.EgressUnresolved):
                egress.resolve(host, port)
        display = (
            f"{cleaned['account']} · {cleaned['user']} · {cleaned['role']} · "
            f"{cleaned['database']}.{cleaned['schema']}"
        )
        return Cleaned(credentials=cleaned, display=display)

    def _address(self, credentials: dict[str, str]) -> tuple[str, str, int]:
        """(protocol, host, port) a connection goes to."""
        override = getattr(settings, "MARTECH_SNOWFLAKE_URL", "") or ""
        if override:
            parts = urlsplit(override)
            protocol = parts.scheme or "https"
            return (
                protocol,
                parts.hostname or "",
                parts.port or (443 if protocol == "https" else 80),
            )
        return "https", account_host(account_of(credentials.get("account", ""))), 443

    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        _, host, port = self._address(credentials)
        return [(host, port)]

    # -- reading -------------------------------------------------------------------------

    def connect(self, credentials: dict[str, str], *, timeout: int):
        """A connection as ``credentials``' user and role, each statement limited to
        ``timeout`` seconds by Snowflake. The host is checked first (``EgressRefused``)."""
        protocol, host, port = self._address(credentials)
        egress.resolve(host, port)  # before anything is sent
        import snowflake.connector
        from snowflake.connector import errors as sf_errors

        secret: dict[str, Any]
        if credentials.get("private_key"):
            secret = {
                "private_key": private_key(
                    credentials["private_key"], credentials.get("private_key_passphrase", "")
                )
            }
        else:
            secret = {"password": credentials.get("password", "")}
        try:
            return snowflake.connector.connect(
                account=account_of(credentials.get("account", "")),
                user=credentials.get("user", ""),
                role=credentials.get("role") or None,
                warehouse=credentials.get("warehouse") or None,
                database=credentials.get("database") or None,
                schema=credentials.get("schema") or None,
                host=host,
                port=port,
                protocol=protocol,
                application="MarTechConsole",
                login_timeout=LOGIN_TIMEOUT,
                network_timeout=timeout + NETWORK_TIMEOUT,
                socket_timeout=timeout + NETWORK_TIMEOUT,
                platform_detection_timeout_seconds=0.0,
                client_session_keep_alive=False,
                session_parameters={
                    "STATEMENT_TIMEOUT_IN_SECONDS": int(timeout),
                    "QUERY_TAG": "martech-console",
                    "CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False,
                    "CLIENT_TELEMETRY_ENABLED": False,
                },
                **secret,
            )
        except sf_errors.Error as exc:
            errno = getattr(exc, "errno", None)
            if errno in _LOGIN_REFUSED:
                raise ApplicationError(
                    f"Snowflake refused the sign-in: {_LOGIN_REFUSED[errno]}.",
                    code=SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED,
                    status=400,
                    details={"vendor_code": errno},
                ) from None
            text = self.scrub(getattr(exc, "msg", "") or str(exc), credentials)
            reason = (text.strip().splitlines() or [type(exc).__name__])[0][:300]
            raise ApplicationError(
                f"Cannot connect to Snowflake: {reason}",
                code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
                status=400,
            ) from None

    @contextmanager
    def session(self, credentials: dict[str, str], *, timeout: int):
        """``connect``, closed when the block ends."""
        conn = self.connect(credentials, timeout=timeout)
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def reading(self, credentials: dict[str, str], *, timeout: int):
        return self.session(credentials, timeout=timeout)

    def version(self, connection: Any) -> str:
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT CURRENT_VERSION()")
            (number,) = cursor.fetchone()
        finally:
            cursor.close()
        return f"Snowflake {number}"

    def query_errors(self) -> tuple[type[BaseException], ...]:
        from snowflake.connector import errors as sf_errors

        return (sf_errors.Error,)

    def reason(self, error: BaseException, credentials: dict[str, str] | None) -> str:
        if getattr(error, "errno", None) in _TIMEOUT_CODES:
            return "it ran longer than the warehouse's statement timeout and Snowflake cancelled it"
        text = getattr(error, "msg", None) or str(error)
        return self.scrub((text.strip().splitlines() or ["?"])[0][:300], credentials)

    def type_name(self, description: Sequence[Any]) -> str:
        from snowflake.connector.constants import FIELD_ID_TO_NAME

        return FIELD_ID_TO_NAME.get(description[1], str(description[1])).lower()

    # -- loading ---------------------------------------------------------------------------

    def writing(self, credentials: dict[str, str]):
        """A connection as the credentials' user and role, which must be a role that may
        create schemas and tables in the database (a loading role, not the reading one);
        each statement commits on its own, and a load's temporary stage and table end with
        the session."""
        return self.session(credentials, timeout=LOAD_TIMEOUT)

    def column_type(self, type_: str) -> str:
        return COLUMN_TYPES[type_]

    def tables(self, connection: Any, schema: str) -> dict[str, dict[str, str]]:
        """As the console names them (lower case): Snowflake stores them folded. A NUMBER
        of scale 0 is an integer, any other a float."""
        cursor = connection.cursor()
        try:
            cursor.execute(
                "SELECT table_name, column_name, data_type, numeric_scale "
                "FROM information_schema.columns WHERE table_schema = %s "
                "ORDER BY table_name, ordinal_position",
                (folded(schema),),
            )
            out: dict[str, dict[str, str]] = {}
            for table, column, native, scale in cursor.fetchall():
                kind = console_type(str(native))
                if str(native).upper() in ("NUMBER", "DECIMAL", "NUMERIC"):
                    kind = "integer" if scale in (0, None) else "float"
                out.setdefault(str(table).lower(), {})[str(column).lower()] = kind
            return out
        finally:
            cursor.close()

    def ensure(self, connection: Any, table: Table) -> list[Column]:
        cursor = connection.cursor()
        try:
            schema, name = ident(table.schema), ident(table.name)
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                (folded(table.schema), folded(table.name)),
            )
            have = {row[0] for row in cursor.fetchall()}
            if not have:  # a new table: no column was added to one that existed
                columns = ", ".join(
                    f"{ident(c.name)} {self.column_type(c.type)}"
                    + (" NOT NULL" if c.name == table.key else "")
                    for c in table.columns
                )
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} ({columns})")
                return []
            missing = [c for c in table.columns if folded(c.name) not in have]
            for column in missing:
                cursor.execute(
                    f"ALTER TABLE {schema}.{name} ADD COLUMN {ident(column.name)} "
                    f"{self.column_type(column.type)}"
                )
            return missing
        finally:
            cursor.close()

    def load(self, connection: Any, table: Table, rows: Sequence[tuple]) -> int:
        """Stage the rows as one gzipped CSV file (``PUT`` to a temporary stage), ``COPY``
        it into a temporary table of text columns, and insert into the table the rows whose
        key it does not hold yet, each value cast to its column's type (``PARSE_JSON`` for
        JSON): one statement per step whatever the number of rows, idempotent by key."""
        if not rows:
            return 0
        schema, name = ident(table.schema), ident(table.name)
        token = secrets.token_hex(6)
        stage = ident(f"martech_stage_{token}")
        staging = ident(f"MARTECH_LOAD_{token}")
        names = [ident(c.name) for c in table.columns]
        key = ident(table.key)
        values = ", ".join(
            _cast(f"s.{ident(c.name)}", self.column_type(c.type), c.type) for c in table.columns
        )
        with tempfile.TemporaryDirectory(prefix="martech-snowflake-") as folder:
            path = Path(folder) / f"{token}.csv.gz"
            with gzip.open(path, "wt", encoding="utf-8", newline="") as file:
                file.writelines(",".join(_csv_field(value) for value in row) + "\n" for row in rows)
            cursor = connection.cursor()
            try:
                # Stage and table are the session's own, gone when it ends; PURGE empties
                # the stage at once.
                cursor.execute(f"CREATE TEMPORARY STAGE {schema}.{stage}")
                cursor.execute(
                    f"PUT 'file://{path.as_posix()}' @{schema}.{stage} "
                    "AUTO_COMPRESS = FALSE OVERWRITE = TRUE"
                )
                text_columns = ", ".join(f"{n} VARCHAR" for n in names)
                cursor.execute(f"CREATE TEMPORARY TABLE {staging} ({text_columns})")
                cursor.execute(
                    f"COPY INTO {staging} FROM @{schema}.{stage} FILE_FORMAT = (TYPE = CSV "
                    "FIELD_OPTIONALLY_ENCLOSED_BY = '\"' COMPRESSION = GZIP NULL_IF = () "
                    "EMPTY_FIELD_AS_NULL = TRUE ESCAPE_UNENCLOSED_FIELD = NONE) PURGE = TRUE"
                )
                cursor.execute(
                    f"INSERT INTO {schema}.{name} ({', '.join(names)}) "  # noqa: S608
                    f"SELECT {values} FROM {staging} AS s WHERE s.{key} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {schema}.{name} AS t WHERE t.{key} = s.{key}) "
                    f"QUALIFY ROW_NUMBER() OVER (PARTITION BY s.{key} ORDER BY s.{key}) = 1"
                )
                (written,) = cursor.fetchone()
                cursor.execute(f"DROP TABLE IF EXISTS {staging}")
            finally:
                cursor.close()
        return int(written)

    def delete(
        self, connection: Any, table: str, schema: str, column: str, values: Sequence[str]
    ) -> int:
        """One statement whatever the number of values: they travel as one JSON array."""
        if not values:
            return 0
        cursor = connection.cursor()
        try:
            cursor.execute(
                f"DELETE FROM {ident(schema)}.{ident(table)} WHERE {ident(column)} IN "  # noqa: S608
                "(SELECT value::VARCHAR FROM TABLE(FLATTEN(input => PARSE_JSON(%s))))",
                (json.dumps([str(v) for v in values]),),
            )
            (deleted,) = cursor.fetchone()
        finally:
            cursor.close()
        return int(deleted)


# Snowflake's type for each of the console's column types.
COLUMN_TYPES = {
    "string": "VARCHAR",
    "integer": "NUMBER(38, 0)",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP_TZ",
    "json": "VARIANT",
}
LOAD_TIMEOUT = 3600  # seconds a loading statement may run


def folded(name: str) -> str:
    """A name of the console's (``order_completed``) as Snowflake stores it unquoted
    (``ORDER_COMPLETED``), so analysts write it without quotes, as Segment's tables are."""
    return name.upper()


def ident(name: str) -> str:
    return '"' + folded(name).replace('"', '""') + '"'


def _cast(value: str, snowflake_type: str, type_: str) -> str:
    if type_ == "string":
        return value
    if type_ == "json":
        return f"PARSE_JSON({value})"
    return f"TRY_CAST({value} AS {snowflake_type})"


def _csv_field(value: Any) -> str:
    """A value as the CSV file carries it: its text in double quotes, or nothing at all for
    null (an empty field not enclosed in quotes is null; ``""`` is the empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dt.datetime | dt.date):
        text = value.isoformat()
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = str(value)
    return '"' + text.replace('"', '""') + '"'


ENGINE = SnowflakeEngine()
