"""Google BigQuery, through ``google-cloud-bigquery`` (its REST API) with a service
account's JSON key.

Credentials are what a BigQuery admin hands over: the project the queries run (and are
billed) in, the location of its datasets, the dataset a model's unqualified table names
mean, and the service account's JSON key. The key is checked when it is saved: a
``service_account`` key whose private key is an RSA key in PEM, a service-account email, and
a ``token_uri`` that is Google's (``MARTECH_BIGQUERY_TOKEN_URIS`` may name others, an
operator's proxy or a test server) — the key is signed and sent there, so it is checked by
the egress policy like every host. The API is ``https://bigquery.googleapis.com`` unless
``MARTECH_BIGQUERY_API_ENDPOINT`` says otherwise; never a user's input.

Every request goes through a ``requests`` session that resolves a host once, checks every
address against the egress policy and connects to the address checked (the name stays for
TLS), and takes no proxy from the environment.

**Read-only boundary.** BigQuery has no read-only session: what a service account may do is
what its IAM roles allow. Grant the account ``roles/bigquery.jobUser`` on the project (to
run queries) and ``roles/bigquery.dataViewer`` on the datasets models read, nothing that
writes; the guard (``check_sql``) refuses any statement but one read query besides. Loading
events needs ``roles/bigquery.dataEditor`` on the console's own dataset only. Every read
runs as a query job with ``jobTimeoutMs`` (BigQuery stops it) and, where the warehouse sets
one, ``maximumBytesBilled`` (BigQuery refuses a query that would bill more); no request of
the connector waits longer than the timeout and ``WAIT_MARGIN`` seconds for an answer.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from sqlglot import exp

from apps.syncs.errors import SyncsErrorCode
from martech.common import egress
from martech.common.errors import ApplicationError

from .base import Cleaned, Column, CredentialField, Table
from .sqlengine import SqlEngine, console_type

GOOGLE_API = "https://bigquery.googleapis.com"
# The token endpoints Google's own keys name (the second in keys made before 2019).
GOOGLE_TOKEN_URIS = (
    "https://oauth2.googleapis.com/token",
    "https://accounts.google.com/o/oauth2/token",
)
SCOPES = ("https://www.googleapis.com/auth/bigquery",)
UNIVERSE = "googleapis.com"

# A project id (optionally domain-scoped, "example.com:project"), a dataset, a location.
_PROJECT = re.compile(r"(?:[a-z][a-z0-9.-]{0,61}[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
_LOCATION = re.compile(r"[A-Za-z]{2}|[a-z]+-[a-z]+[0-9]{1,2}")
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}@[a-z0-9][a-z0-9.:-]*\.gserviceaccount\.com")
# What a failure's text may carry of a secret: a private key, an access token, a JWT.
_SECRETS = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----|"
    r"ya29\.[A-Za-z0-9._-]+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
    re.DOTALL,
)
# The fields of a key the connection uses; the rest (links to Google's pages) is dropped.
_KEY_FIELDS = (
    "type",
    "project_id",
    "private_key_id",
    "private_key",
    "client_email",
    "client_id",
    "token_uri",
    "universe_domain",
)
# One load job's upload stays under BigQuery's multipart limit (5 MB).
UPLOAD_BYTES = 4 * 1024 * 1024
# Rows of one page of a query's results (each page is one request; memory holds one).
PAGE_ROWS = 5000
# Seconds a request waits to connect, and beyond the statement timeout for an answer (BigQuery
# stops the job itself at the timeout; this bounds a request that hangs).
CONNECT_TIMEOUT = 10
WAIT_MARGIN = 30
LOAD_WAIT = 300  # seconds a request of a load (an upload, a job's state) waits for an answer
STAGE_HOURS = 6  # a staging table left by a failed load expires after this
STAGE_PREFIX = "__martech_stage_"

_TYPES = {
    "string": "STRING",
    "integer": "INT64",
    "float": "FLOAT64",
    "boolean": "BOOL",
    "timestamp": "TIMESTAMP",
    "json": "JSON",
}


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(
        message, code=SyncsErrorCode.INVALID_CREDENTIALS, status=400, details={"field": field}
    )


def _api_endpoint() -> str:
    return (getattr(settings, "MARTECH_BIGQUERY_API_ENDPOINT", "") or GOOGLE_API).rstrip("/")


def _allowed_token_uris() -> tuple[str, ...]:
    extra = getattr(settings, "MARTECH_BIGQUERY_TOKEN_URIS", ()) or ()
    if isinstance(extra, str):
        extra = extra.split(",")
    return GOOGLE_TOKEN_URIS + tuple(u.strip() for u in extra if u.strip())


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _key(credentials: dict[str, str]) -> dict[str, str]:
    return json.loads(credentials["service_account_json"])


def _check_key(text: str) -> dict[str, str]:
    """A service account's JSON key, checked; ``ApplicationError`` naming what is wrong."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    field = "service_account_json"
    try:
        key = json.loads(text)
    except ValueError:
        raise _invalid(
            field, "The service-account key is not JSON: paste the whole .json file."
        ) from None
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise _invalid(
            field,
            'The key is not a service account\'s ("type": "service_account"): create a key '
            "for a service account under IAM → Service accounts → Keys.",
        )
    missing = [
        name for name in ("private_key", "client_email", "private_key_id") if not key.get(name)
    ]
    if missing or not all(isinstance(key.get(n, ""), str) for n in _KEY_FIELDS):
        raise _invalid(field, f"The key lacks {', '.join(missing) or 'a text field'}.")
    if not _EMAIL.fullmatch(key["client_email"]):
        raise _invalid(field, "The key's client_email is not a service account's address.")
    try:
        private = load_pem_private_key(key["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise _invalid(field, "The key's private_key is not a PEM private key.") from None
    if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < 2048:
        raise _invalid(field, "The key's private_key is not an RSA key of 2048 bits or more.")
    universe = key.get("universe_domain") or UNIVERSE
    if universe != UNIVERSE:
        raise _invalid(
            field, f"The key belongs to another universe ({universe}), not Google Cloud's."
        )
    token_uri = key.get("token_uri") or GOOGLE_TOKEN_URIS[0]
    if token_uri not in _allowed_token_uris():
        raise _invalid(
            field,
            f"The key's token_uri is not Google's ({GOOGLE_TOKEN_URIS[0]}); the key is sent "
            "there to sign in. An operator can allow another with MARTECH_BIGQUERY_TOKEN_URIS.",
        )
    kept = {name: key[name] for name in _KEY_FIELDS if key.get(name)}
    kept["token_uri"] = token_uri
    return kept


# -- connections pinned to the addresses the egress policy allowed ------------------------------


def egress_session(read_timeout: float = 300):
    """A ``requests`` session whose connections go only to addresses the egress policy allows
    (resolved once, connected to as checked), that takes no proxy from the environment, and
    whose requests wait at most ``read_timeout`` seconds for an answer where the connector
    sets no timeout of its own."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    from urllib3.util import connection

    class Pinned:
        def _new_conn(self):
            failure: OSError | None = None
            for address in egress.resolve(self._dns_host, self.port):
                try:
                    return connection.create_connection(
                        (address, self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except TimeoutError as exc:
                    raise ConnectTimeoutError(
                        self, f"Connection to {self.host} timed out."
                    ) from exc
                except OSError as exc:
                    failure = exc
            raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")

    class PinnedHTTP(Pinned, HTTPConnection):
        pass

    class PinnedHTTPS(Pinned, HTTPSConnection):
        pass

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = PinnedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = PinnedHTTPS

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": HTTPPool, "https": HTTPSPool}

        def send(self, request, timeout=None, **kwargs):
            if timeout is None:
                timeout = (CONNECT_TIMEOUT, read_timeout)
            return super().send(request, timeout=timeout, **kwargs)

    session = requests.Session()
    session.trust_env = False
    adapter = Adapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class BigQueryConnection:
    """The DB-API connection of ``google.cloud.bigquery.dbapi`` with its client at hand (for
    the REST calls loading makes). A statement runs exactly as written: the DB-API's
    ``%`` escaping is undone before it is sent, and results come in pages of ``PAGE_ROWS``."""

    def __init__(self, client):
        from google.cloud.bigquery import dbapi

        self.client = client
        self.dbapi = dbapi.connect(client, prefer_bqstorage_client=False)

    def cursor(self):
        cursor = self.dbapi.cursor()
        cursor.arraysize = PAGE_ROWS
        execute = cursor.execute

        def exact(operation, parameters=None, **kwargs):
            if not parameters:
                operation = operation.replace("%", "%%")
            return execute(operation, parameters, **kwargs)

        cursor.execute = exact
        return cursor

    def close(self) -> None:
        self.dbapi.close()


class BigQueryEngine(SqlEngine):
    kind = "bigquery"
    label = "Google BigQuery"
    dialect = "bigquery"
    fields = (
        CredentialField(
            "project_id",
            "Project ID",
            help="The Google Cloud project the queries run in and are billed to, e.g. "
            "acme-analytics.",
        ),
        CredentialField(
            "location",
            "Location",
            help="Where the datasets are: US, EU or a region such as europe-west2.",
            initial="US",
        ),
        CredentialField(
            "dataset",
            "Dataset",
            help="The dataset a model's table names mean when they name none, e.g. analytics.",
        ),
        CredentialField(
            "service_account_json",
            "Service-account key (JSON)",
            secret=True,
            multiline=True,
            help="The JSON key of a service account with BigQuery Job User on the project and "
            "BigQuery Data Viewer on the datasets models read.",
        ),
        CredentialField(
            "maximum_bytes_billed",
            "Maximum bytes billed per query",
            required=False,
            help="BigQuery refuses a query that would bill more, e.g. 100000000000 (100 GB). "
            "Empty: the project's own limit.",
        ),
    )
    # BigQuery's catalog views and the legacy table listings.
    system_schemas: ClassVar[frozenset[str]] = frozenset({"information_schema"})
    system_prefixes: ClassVar[tuple[str, ...]] = ("__tables", "__partitions")
    cte_column_names: ClassVar[bool] = False

    # -- credentials ---------------------------------------------------------------------

    def clean(self, given: dict[str, str], previous: dict[str, str] | None = None) -> Cleaned:
        values = {f.name: str(given.get(f.name) or "").strip() for f in self.fields}
        if not values["service_account_json"] and previous:
            values["service_account_json"] = previous.get("service_account_json", "")
        for field in self.fields:
            if field.required and not values[field.name]:
                raise _invalid(field.name, f"{field.label} is required.")
        if not _PROJECT.fullmatch(values["project_id"]):
            raise _invalid(
                "project_id",
                "The project ID is 6 to 30 lowercase letters, digits and hyphens, starting "
                "with a letter (the ID, not the project's name).",
            )
        if not _LOCATION.fullmatch(values["location"]):
            raise _invalid("location", "The location is US, EU or a region such as europe-west2.")
        values["location"] = (
            values["location"].upper() if len(values["location"]) == 2 else values["location"]
        )
        if not _DATASET.fullmatch(values["dataset"]):
            raise _invalid("dataset", "A dataset name has only letters, digits and underscores.")
        budget = values["maximum_bytes_billed"].replace("_", "").replace(",", "")
        if budget and (not budget.isdigit() or int(budget) < 10 * 1024 * 1024):
            raise _invalid(
                "maximum_bytes_billed",
                "The maximum bytes billed is a whole number of bytes, at least 10485760 (10 MB, "
                "the least BigQuery bills a query).",
            )
        values["maximum_bytes_billed"] = budget
        key = _check_key(values["service_account_json"])
        values["service_account_json"] = json.dumps(key, separators=(",", ":"))
        for url in (_api_endpoint(), key["token_uri"]):
            egress.check_url(url, resolve_name=False)
        stored = {name: value for name, value in values.items() if value}
        return Cleaned(
            credentials=stored,
            display=f"{values['project_id']}.{values['dataset']} ({values['location']}) as "
            f"{key['client_email']}",
        )

    def endpoints(self, credentials: dict[str, str]) -> list[tuple[str, int]]:
        token_uri = _key(credentials).get("token_uri") or GOOGLE_TOKEN_URIS[0]
        found = [_host_port(_api_endpoint()), _host_port(token_uri)]
        return list(dict.fromkeys(found))

    # -- connecting ------------------------------------------------------------------------

    def _client(self, credentials: dict[str, str], *, timeout: int | None):
        """A BigQuery client signed in as the service account, every host checked first."""
        from google.api_core.client_options import ClientOptions
        from google.auth import exceptions as auth_errors
        from google.auth.transport.requests import AuthorizedSession, Request
        from google.cloud import bigquery
        from google.oauth2 import service_account

        key = _key(credentials)
        if key.get("token_uri", GOOGLE_TOKEN_URIS[0]) not in _allowed_token_uris():
            raise _invalid(
                "service_account_json",
                "The key's token_uri is no longer allowed; paste the key again.",
            )
        for host, port in self.endpoints(credentials):
            egress.resolve(host, port)
        signer = service_account.Credentials.from_service_account_info(key, scopes=list(SCOPES))
        session = egress_session(int(timeout) + WAIT_MARGIN if timeout else LOAD_WAIT)
        try:
            signer.refresh(Request(session=session))
        except auth_errors.RefreshError as exc:
            raise ApplicationError(
                "Google refused the service account's key: "
                f"{self.scrub(_first_line(exc.args[0] if exc.args else exc), credentials)}. "
                "Check that the key is still active (IAM → Service accounts → Keys) and "
                "paste a new one if it was deleted.",
                code=SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED,
                status=400,
            ) from None
        except auth_errors.TransportError as exc:
            raise self._unreachable(exc, credentials) from None
        authorized = AuthorizedSession(signer, auth_request=Request(session=session))
        authorized.trust_env = False
        for scheme in ("http://", "https://"):
            authorized.mount(scheme, session.get_adapter(f"{scheme}x"))
        job_config = bigquery.QueryJobConfig(
            default_dataset=f"{credentials['project_id']}.{credentials['dataset']}",
            use_legacy_sql=False,
            labels={"application": "martech-console"},
        )
        if timeout:
            job_config.job_timeout_ms = int(timeout) * 1000
        if credentials.get("maximum_bytes_billed"):
            job_config.maximum_bytes_billed = int(credentials["maximum_bytes_billed"])
        return bigquery.Client(
            project=credentials["project_id"],
            credentials=signer,
            location=credentials["location"],
            _http=authorized,
            client_options=ClientOptions(api_endpoint=_api_endpoint()),
            default_query_job_config=job_config,
        )

    def _unreachable(self, exc: BaseException, credentials) -> ApplicationError:
        return ApplicationError(
            f"Cannot reach BigQuery: {self.scrub(_first_line(exc), credentials)}",
            code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
            status=400,
        )

    @contextmanager
    def _connected(self, credentials: dict[str, str], *, timeout: int | None) -> Iterator[Any]:
        import requests
        from google.api_core import exceptions as api_errors

        client = self._client(credentials, timeout=timeout)
        connection = BigQueryConnection(client)
        try:
            with self.failures(credentials):
                yield connection
        except (api_errors.Unauthorized, api_errors.Forbidden) as exc:
            raise ApplicationError(
                f"BigQuery refused the service account: {self.reason(exc, credentials)}",
                code=SyncsErrorCode.WAREHOUSE_LOGIN_REFUSED,
                status=400,
            ) from None
        except (TimeoutError, requests.ConnectionError, requests.Timeout) as exc:
            raise self._unreachable(exc, credentials) from None
        finally:
            connection.close()
            client.close()

    def reading(self, credentials: dict[str, str], *, timeout: int):
        return self._connected(credentials, timeout=timeout)

    def writing(self, credentials: dict[str, str]):
        return self._connected(credentials, timeout=None)

    def version(self, connection: BigQueryConnection) -> str:
        """The dataset as BigQuery describes it, once a query has run as the account."""
        from google.api_core import exceptions as api_errors

        client = connection.client
        dataset_id = client.default_query_job_config.default_dataset.dataset_id
        try:
            dataset = client.get_dataset(dataset_id)
        except api_errors.NotFound:
            raise ApplicationError(
                f"BigQuery has no dataset {dataset_id} in project {client.project} that this "
                "service account may see.",
                code=SyncsErrorCode.WAREHOUSE_UNREACHABLE,
                status=400,
                details={"field": "dataset"},
            ) from None
        cursor = connection.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            cursor.close()
        return (
            f"Google BigQuery, dataset {client.project}.{dataset.dataset_id} ({dataset.location})"
        )

    def query_errors(self) -> tuple[type[BaseException], ...]:
        from google.api_core import exceptions as api_errors
        from google.cloud.bigquery import dbapi

        return (dbapi.Error, api_errors.BadRequest, api_errors.NotFound)

    def reason(self, error: BaseException, credentials: dict[str, str] | None) -> str:
        """BigQuery's own message, without the request's URL and the job's footer."""
        inner = error.args[0] if error.args and isinstance(error.args[0], BaseException) else error
        text = getattr(inner, "message", None) or str(inner)
        text = re.sub(r"^(?:\d{3} )?(?:GET|POST|PATCH|PUT|DELETE) \S+: ", "", _first_line(text))
        return self.scrub(text, credentials)

    def scrub(self, text: str, credentials: dict[str, str] | None) -> str:
        text = _SECRETS.sub("***", super().scrub(str(text), credentials))
        key = (credentials or {}).get("service_account_json")
        if key:
            private = _key({"service_account_json": key}).get("private_key", "")
            for line in private.splitlines():
                if len(line) >= 16:
                    text = text.replace(line, "***")
        return text

    # -- SQL in BigQuery's dialect -----------------------------------------------------------

    def text_size(self, expression: exp.Expression) -> exp.Expression:
        """The bytes of a value as JSON text: BigQuery casts no ARRAY or STRUCT to STRING."""
        value = expression.this if isinstance(expression, exp.Cast) else expression
        return exp.func("BYTE_LENGTH", exp.func("TO_JSON_STRING", value))

    def fingerprint(self, columns: Sequence[str], table: str) -> exp.Expression:
        """The MD5 (bytes) of the values as JSON, one after another: a JSON value ends where
        it ends, a null is ``null``, and arrays and structs hash like every other type."""
        parts: list[exp.Expression] = []
        for name in columns:
            column = exp.Column(
                this=exp.to_identifier(name, quoted=True), table=exp.to_identifier(table)
            )
            if parts:
                parts.append(exp.Literal.string(","))
            parts.append(exp.func("TO_JSON_STRING", column))
        return exp.MD5Digest(this=exp.Concat(expressions=parts or [exp.Literal.string("")]))

    # -- loading ---------------------------------------------------------------------------

    def column_type(self, type_: str) -> str:
        return _TYPES[type_]

    def _schema(self, table: Table):
        from google.cloud import bigquery

        return [bigquery.SchemaField(c.name, self.column_type(c.type)) for c in table.columns]

    def existing_columns(self, connection: BigQueryConnection, table: Table) -> list[str] | None:
        from google.api_core import exceptions as api_errors

        try:
            found = connection.client.get_table(f"{table.schema}.{table.name}")
        except api_errors.NotFound:
            return None
        return [field.name for field in found.schema]

    def tables(self, connection: BigQueryConnection, schema: str) -> dict[str, dict[str, str]]:
        """The dataset's tables and their columns, by the REST API (tables.list, tables.get);
        {} when there is no such dataset. Staging tables of a load are not the console's."""
        from google.api_core import exceptions as api_errors

        client = connection.client
        out: dict[str, dict[str, str]] = {}
        try:
            listed = [t.table_id for t in client.list_tables(f"{client.project}.{schema}")]
        except api_errors.NotFound:
            return {}
        for name in listed:
            if name.startswith(STAGE_PREFIX):
                continue
            try:
                found = client.get_table(f"{client.project}.{schema}.{name}")
            except api_errors.NotFound:
                continue  # dropped since it was listed
            out[name] = {field.name: _console_type(field) for field in found.schema}
        return out

    def ensure(self, connection: BigQueryConnection, table: Table) -> list[Column]:
        """The dataset (in the warehouse's location) and the table, by the REST API; missing
        columns are added by patching the schema (BigQuery never drops one this way)."""
        from google.api_core import exceptions as api_errors
        from google.cloud import bigquery

        client = connection.client
        dataset = bigquery.Dataset(f"{client.project}.{table.schema}")
        dataset.location = client.location
        client.create_dataset(dataset, exists_ok=True)
        reference = f"{client.project}.{table.schema}.{table.name}"
        try:
            existing = client.get_table(reference)
        except api_errors.NotFound:
            try:
                client.create_table(bigquery.Table(reference, schema=self._schema(table)))
                return []
            except api_errors.Conflict:
                existing = client.get_table(reference)
        have = {field.name.lower() for field in existing.schema}
        added = [c for c in table.columns if c.name.lower() not in have]
        if added:
            existing.schema = [
                *existing.schema,
                *(bigquery.SchemaField(c.name, self.column_type(c.type)) for c in added),
            ]
            client.update_table(existing, ["schema"])
        return added

    def load(self, connection: BigQueryConnection, table: Table, rows: Sequence[tuple]) -> int:
        """Load jobs (newline-delimited JSON, uploaded) into a staging table that expires by
        itself, then one INSERT of the rows whose key the table does not hold yet: a batch
        loaded twice is written once."""
        from google.cloud import bigquery

        if not rows:
            return 0
        client = connection.client
        stage = (
            f"{client.project}.{table.schema}.__martech_stage_{table.name}_{uuid.uuid4().hex[:12]}"
        )
        staged = bigquery.Table(stage, schema=self._schema(table))
        staged.expires = datetime.now(UTC) + timedelta(hours=STAGE_HOURS)
        client.create_table(staged)
        try:
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                schema=self._schema(table),
                write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
            )
            for chunk in _ndjson_chunks(table, rows):
                client.load_table_from_file(
                    io.BytesIO(chunk), stage, size=len(chunk), job_config=config
                ).result()
            source = exp.Table(
                this=exp.to_identifier(stage.rsplit(".", 1)[1], quoted=True),
                db=exp.to_identifier(table.schema, quoted=True),
            )
            return self.insert_new(connection, table, source)
        finally:
            client.delete_table(stage, not_found_ok=True)


def _console_type(field) -> str:
    """The console's type of a BigQuery column: a repeated or nested one is JSON."""
    if field.mode == "REPEATED" or field.field_type in ("RECORD", "STRUCT"):
        return "json"
    return console_type(field.field_type)


def _json_value(value: Any, type_: str) -> Any:
    if value is None:
        return None
    if type_ == "timestamp" and isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if type_ == "json" and isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if type_ == "string":
        return str(value)
    return value


def _ndjson_chunks(table: Table, rows: Sequence[tuple]) -> Iterator[bytes]:
    """The rows as newline-delimited JSON, in uploads of at most ``UPLOAD_BYTES``."""
    buffer = io.BytesIO()
    for row in rows:
        line = (
            json.dumps(
                {
                    c.name: _json_value(v, c.type)
                    for c, v in zip(table.columns, row, strict=True)
                    if v is not None
                },
                default=str,
            ).encode()
            + b"\n"
        )
        if buffer.tell() and buffer.tell() + len(line) > UPLOAD_BYTES:
            yield buffer.getvalue()
            buffer = io.BytesIO()
        buffer.write(line)
    if buffer.tell():
        yield buffer.getvalue()


def _first_line(value: object) -> str:
    return (str(value).strip().splitlines() or [type(value).__name__])[0][:300]


ENGINE = BigQueryEngine()
