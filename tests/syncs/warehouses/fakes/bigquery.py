"""A loopback BigQuery: the REST API v2 and Google's OAuth 2.0 token endpoint, as documented,
executing the SQL for real on DuckDB (GoogleSQL transpiled by sqlglot).

``FakeBigQuery()`` runs a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a daemon
thread; point ``google-cloud-bigquery`` at ``api_endpoint`` and give it ``service_account()``
(a JSON key whose ``token_uri`` is this server's). What it serves:

* ``POST /token``: the service-account JWT bearer grant. The assertion's RS256 signature is
  checked with the key's public half, its ``iss``, ``aud`` and expiry too; a wrong one gets
  ``400 {"error": "invalid_grant", ...}`` as Google answers.
* ``/bigquery/v2/projects/{project}/...``: ``queries`` (jobs.query and
  jobs.getQueryResults, paged by ``maxResults``/``pageToken``), ``jobs`` (insert, get,
  cancel), ``datasets`` (get, insert), ``datasets/{d}/tables`` (list, get, insert, patch,
  delete),
  and ``/upload/bigquery/v2/projects/{project}/jobs?uploadType=multipart`` (a load job with
  its newline-delimited JSON). Every call needs a token this server issued (else 401), for a
  project it serves (else 404), in Google's error shape.
* Jobs run in a thread; ``jobTimeoutMs`` interrupts a query that outruns it (the job ends
  with a ``timeout`` error) and ``maximumBytesBilled`` refuses a query that reads more bytes
  (an estimate: the bytes of the tables it reads) than the limit.
* A service account holds a role: ``reader`` (BigQuery Data Viewer + Job User) may only run
  queries that read; a statement that writes, or a load job, is refused with 403
  ``accessDenied``. ``editor`` may do both.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import email.parser
import email.policy
import json
import re
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb
import sqlglot
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlglot import exp

PROJECT = "acme-analytics"
# The audience of a service account's assertion, wherever it is sent.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
LOCATION = "EU"

# DuckDB's type names -> BigQuery's, for a result's schema and a table's.
_TO_BIGQUERY = (
    ("BOOLEAN", "BOOLEAN"),
    ("TINYINT", "INTEGER"),
    ("SMALLINT", "INTEGER"),
    ("INTEGER", "INTEGER"),
    ("BIGINT", "INTEGER"),
    ("HUGEINT", "NUMERIC"),
    ("UBIGINT", "NUMERIC"),
    ("UINTEGER", "INTEGER"),
    ("DOUBLE", "FLOAT"),
    ("FLOAT", "FLOAT"),
    ("DECIMAL", "NUMERIC"),
    ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP"),
    ("TIMESTAMP", "DATETIME"),
    ("DATE", "DATE"),
    ("TIME", "TIME"),
    ("BLOB", "BYTES"),
    ("JSON", "JSON"),
    ("VARCHAR", "STRING"),
)
_TO_DUCKDB = {
    "STRING": "VARCHAR",
    "INTEGER": "BIGINT",
    "INT64": "BIGINT",
    "FLOAT": "DOUBLE",
    "FLOAT64": "DOUBLE",
    "NUMERIC": "DECIMAL(38, 9)",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATETIME": "TIMESTAMP",
    "DATE": "DATE",
    "TIME": "TIME",
    "BYTES": "BLOB",
    "JSON": "JSON",
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def bigquery_type(duck: str) -> str:
    name = str(duck).upper()
    for prefix, bq in _TO_BIGQUERY:
        if name.startswith(prefix):
            return bq
    return "STRING"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ApiError(Exception):
    """An answer in Google's error shape."""

    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}
    STATUS |= {404: "NOT_FOUND", 409: "ALREADY_EXISTS", 500: "INTERNAL"}

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> dict:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
                "status": self.STATUS.get(self.code, "UNKNOWN"),
            }
        }

    def result(self) -> dict:
        return {"reason": self.reason, "message": self.message}


@dataclass
class Account:
    email: str
    key_id: str
    public_key: rsa.RSAPublicKey
    role: str  # reader | editor


@dataclass
class Job:
    id: str
    kind: str  # query | load
    configuration: dict
    email: str
    state: str = "PENDING"
    error: ApiError | None = None
    schema: list[dict] | None = None
    rows: list[tuple] = field(default_factory=list)
    affected: int | None = None
    bytes_processed: int = 0
    output_rows: int = 0
    created: float = field(default_factory=time.time)
    done: threading.Event = field(default_factory=threading.Event)
    cursor: duckdb.DuckDBPyConnection | None = None


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object


class FakeBigQuery:
    """One project of BigQuery and its token endpoint on 127.0.0.1."""

    def __init__(self, project: str = PROJECT, location: str = LOCATION):
        self.project, self.location = project, location
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, str] = {}  # access token -> service account email
        self.jobs: dict[str, Job] = {}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.db = duckdb.connect(":memory:")
        self.db.execute(f"ATTACH ':memory:' AS {self._q(project)}")
        self.db.execute(f"USE {self._q(project)}")
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeBigQuery:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for job in list(self.jobs.values()):
            cursor = job.cursor
            if cursor is not None:
                with contextlib.suppress(duckdb.Error):
                    cursor.interrupt()
        self.db.close()

    def __enter__(self) -> FakeBigQuery:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def api_endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.api_endpoint}/token"

    # -- service accounts ------------------------------------------------------------------

    def service_account(self, name: str = "martech-reader", role: str = "reader") -> dict:
        """A new service account of this project and its JSON key, as the Cloud console
        downloads it (``token_uri`` pointing at this server)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email_ = f"{name}@{self.project}.iam.gserviceaccount.com"
        key_id = uuid.uuid4().hex
        self.accounts[email_] = Account(email_, key_id, key.public_key(), role)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": self.project,
            "private_key_id": key_id,
            "private_key": pem,
            "client_email": email_,
            "client_id": str(uuid.uuid4().int)[:21],
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
            + email_.replace("@", "%40"),
            "universe_domain": "googleapis.com",
        }

    # -- SQL ---------------------------------------------------------------------------------

    @staticmethod
    def _q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def execute(self, sql: str, params: list | None = None) -> list[tuple]:
        """Run DuckDB SQL directly (a test filling the warehouse)."""
        with self._lock:
            cursor = self.db.cursor()
        try:
            cursor.execute(f"USE {self._q(self.project)}")
            cursor.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()

    def translate(
        self, sql: str, params: dict[str, object], dataset: str = ""
    ) -> tuple[str, bool, list[str]]:
        """GoogleSQL -> DuckDB; whether it writes; the tables it names."""
        try:
            trees = [t for t in sqlglot.parse(sql, read="bigquery") if t is not None]
        except sqlglot.errors.ParseError as exc:
            reason = exc.errors[0]["description"] if exc.errors else str(exc)
            raise ApiError(400, "invalidQuery", f"Syntax error: {reason}") from None
        if len(trees) != 1:
            raise ApiError(400, "invalidQuery", "Expected exactly one statement.")
        tree = trees[0]
        tables = []
        for table in tree.find_all(exp.Table):
            if table.name and not isinstance(table.this, exp.Func):
                where = f"{table.catalog or self.project}.{table.db or dataset}"
                tables.append(f"{where}.{table.name}".lower())
        writes = not isinstance(tree, exp.Query)
        for parameter in tree.find_all(exp.Parameter):
            name = parameter.name
            if name not in params:
                raise ApiError(400, "invalidQuery", f"Query parameter '{name}' not found")
            parameter.replace(exp.Placeholder(this=name))
        _as_bigquery_means(tree)
        return tree.sql(dialect="duckdb"), writes, tables

    def _bytes_of(self, cursor, tables: list[str]) -> int:
        total = 0
        for name in set(tables):
            catalog, schema, table = name.split(".")
            row = cursor.execute(
                "SELECT estimated_size, column_count FROM duckdb_tables() "
                "WHERE lower(database_name) = ? AND lower(schema_name) = ? "
                "AND lower(table_name) = ?",
                [catalog, schema, table],
            ).fetchone()
            if row:
                total += int(row[0] or 0) * 8 * int(row[1] or 1)
        return total

    # -- jobs ------------------------------------------------------------------------------

    def new_job(self, kind: str, configuration: dict, email_: str, job_id: str = "") -> Job:
        job = Job(
            id=job_id or f"job_{uuid.uuid4().hex}",
            kind=kind,
            configuration=configuration,
            email=email_,
        )
        with self._lock:
            if job.id in self.jobs:
                raise ApiError(
                    409, "duplicate", f"Already Exists: Job {self.project}:{self.location}.{job.id}"
                )
            self.jobs[job.id] = job
        return job

    def run(self, job: Job, payload: bytes = b"") -> None:
        threading.Thread(target=self._run, args=(job, payload), daemon=True).start()

    def _run(self, job: Job, payload: bytes) -> None:
        job.state = "RUNNING"
        timer = None
        try:
            with self._lock:
                job.cursor = self.db.cursor()
            timeout = int(job.configuration.get("jobTimeoutMs") or 0)
            if timeout:
                timer = threading.Timer(timeout / 1000, job.cursor.interrupt)
                timer.start()
            if job.kind == "load":
                self._load(job, payload)
            else:
                self._query(job)
        except ApiError as exc:
            job.error = exc
        except duckdb.InterruptException:
            limit = int(job.configuration.get("jobTimeoutMs") or 0)
            if limit and time.time() - job.created >= limit / 1000 - 0.05:
                job.error = ApiError(400, "timeout", f"Job timed out after {limit / 1000:g} sec")
            else:
                job.error = ApiError(
                    400, "stopped", "Job execution was cancelled: User requested cancellation"
                )
        except duckdb.Error as exc:
            job.error = ApiError(400, "invalidQuery", str(exc).splitlines()[0])
        finally:
            if timer is not None:
                timer.cancel()
            cursor, job.cursor = job.cursor, None
            if cursor is not None:
                cursor.close()
            job.state = "DONE"
            job.done.set()

    def _query(self, job: Job) -> None:
        config = job.configuration["query"]
        params = _parameters(config.get("queryParameters") or [])
        default = config.get("defaultDataset") or {}
        sql, writes, tables = self.translate(config["query"], params, default.get("datasetId", ""))
        if writes and self.accounts[job.email].role != "editor":
            raise ApiError(
                403,
                "accessDenied",
                f"Access Denied: Project {self.project}: User does not have "
                "bigquery.tables.updateData permission for the tables this statement writes.",
            )
        cursor = job.cursor
        cursor.execute(f"USE {self._q(self.project)}")
        if default.get("datasetId"):
            project = default.get("projectId") or self.project
            self._dataset_exists(cursor, default["datasetId"])
            cursor.execute(f"USE {self._q(project)}.{self._q(default['datasetId'])}")
        job.bytes_processed = self._bytes_of(cursor, tables)
        limit = config.get("maximumBytesBilled")
        if limit and job.bytes_processed > int(limit):
            raise ApiError(
                400,
                "bytesBilledLimitExceeded",
                f"Query exceeded limit for bytes billed: {int(limit)}. "
                f"{max(job.bytes_processed, 10485760)} or higher required.",
            )
        cursor.execute(sql, params or None)
        if writes:
            rows = cursor.fetchall() if cursor.description else []
            first = rows[0][0] if rows and rows[0] and isinstance(rows[0][0], int) else None
            job.affected = first if first is not None else 0
            return
        job.schema = [_field(name, str(type_)) for name, type_, *_ in cursor.description]
        job.rows = cursor.fetchall()

    def _dataset_exists(self, cursor, dataset: str) -> None:
        found = cursor.execute(
            "SELECT 1 FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?",
            [self.project, dataset],
        ).fetchone()
        if not found:
            raise ApiError(404, "notFound", f"Not found: Dataset {self.project}:{dataset}")

    def _load(self, job: Job, payload: bytes) -> None:
        config = job.configuration["load"]
        if self.accounts[job.email].role != "editor":
            raise ApiError(
                403,
                "accessDenied",
                f"Access Denied: Project {self.project}: User does not have "
                "bigquery.tables.create permission.",
            )
        if config.get("sourceFormat", "CSV") != "NEWLINE_DELIMITED_JSON":
            raise ApiError(400, "invalid", "Only NEWLINE_DELIMITED_JSON is served here.")
        ref = config["destinationTable"]
        cursor = job.cursor
        self._dataset_exists(cursor, ref["datasetId"])
        name = f"{self._q(self.project)}.{self._q(ref['datasetId'])}.{self._q(ref['tableId'])}"
        fields = (config.get("schema") or {}).get("fields") or []
        existing = self.table_fields(ref["datasetId"], ref["tableId"], cursor)
        if existing is None:
            if config.get("createDisposition") == "CREATE_NEVER":
                raise ApiError(
                    404,
                    "notFound",
                    f"Not found: Table {self.project}:{ref['datasetId']}.{ref['tableId']}",
                )
            if not fields:
                raise ApiError(400, "invalid", "No schema specified on job or table.")
            columns = ", ".join(f"{self._q(f['name'])} {_TO_DUCKDB[f['type']]}" for f in fields)
            cursor.execute(f"CREATE TABLE {name} ({columns})")
            existing = fields
        disposition = config.get("writeDisposition", "WRITE_APPEND")
        if disposition == "WRITE_TRUNCATE":
            cursor.execute(f"DELETE FROM {name}")  # noqa: S608
        elif (
            disposition == "WRITE_EMPTY"
            and cursor.execute(
                f"SELECT count(*) FROM {name}"  # noqa: S608
            ).fetchone()[0]
        ):
            raise ApiError(400, "duplicate", f"Already Exists: Table {ref['tableId']}")
        types = {f["name"]: _TO_DUCKDB[f["type"]] for f in existing}
        lines = [json.loads(line) for line in payload.decode().splitlines() if line.strip()]
        for i, line in enumerate(lines):
            unknown = set(line) - set(types)
            if unknown and not config.get("ignoreUnknownValues"):
                raise ApiError(
                    400,
                    "invalid",
                    f"Error while reading data, error message: JSON "
                    f"table encountered too many errors. Row {i}: no such field: "
                    f"{sorted(unknown)[0]}.",
                )
        if lines:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "rows.json"
                path.write_text("\n".join(json.dumps(line) for line in lines))
                structure = ", ".join(f"{self._q(n)}: '{t}'" for n, t in types.items())
                cursor.execute(
                    f"INSERT INTO {name} BY NAME SELECT * FROM read_json(?, "  # noqa: S608
                    f"format = 'newline_delimited', columns = {{{structure}}})",
                    [str(path)],
                )
        job.output_rows = len(lines)

    def table_fields(self, dataset: str, table: str, cursor=None) -> list[dict] | None:
        """The BigQuery schema of ``dataset.table``, or None when there is no such table."""
        sql = (
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_catalog = ? AND table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position"
        )
        params = [self.project, dataset, table]
        rows = cursor.execute(sql, params).fetchall() if cursor else self.execute(sql, params)
        if not rows:
            return None
        return [_field(name, str(type_)) for name, type_ in rows]

    # -- resources -----------------------------------------------------------------------

    def job_resource(self, job: Job) -> dict:
        resource = {
            "kind": "bigquery#job",
            "id": f"{self.project}:{self.location}.{job.id}",
            "jobReference": self._reference(job),
            "configuration": {**job.configuration, "jobType": job.kind.upper()},
            "status": {"state": job.state},
            "user_email": job.email,
            "statistics": {"creationTime": str(int(job.created * 1000))},
        }
        if job.state == "DONE":
            resource["statistics"]["endTime"] = str(int(time.time() * 1000))
            if job.error is not None:
                resource["status"]["errorResult"] = job.error.result()
                resource["status"]["errors"] = [job.error.result()]
            elif job.kind == "query":
                resource["statistics"]["query"] = {
                    "totalBytesProcessed": str(job.bytes_processed),
                    "totalBytesBilled": str(job.bytes_processed),
                    "statementType": "SELECT" if job.schema is not None else "DML",
                }
                if job.affected is not None:
                    resource["statistics"]["query"]["numDmlAffectedRows"] = str(job.affected)
            else:
                resource["statistics"]["load"] = {"outputRows": str(job.output_rows)}
        return resource

    def _reference(self, job: Job) -> dict:
        return {"projectId": self.project, "jobId": job.id, "location": self.location}

    def query_results(
        self,
        job: Job,
        *,
        wait_ms: int,
        max_results: int | None,
        page_token: str | None,
        start_index: int | None,
    ) -> dict:
        job.done.wait(wait_ms / 1000)
        answer: dict = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": self._reference(job),
            "jobComplete": job.done.is_set(),
        }
        if not job.done.is_set():
            return answer
        if job.error is not None:
            raise job.error
        answer["totalBytesProcessed"] = str(job.bytes_processed)
        answer["cacheHit"] = False
        if job.schema is None:
            if job.affected is not None:
                answer["numDmlAffectedRows"] = str(job.affected)
            return answer
        answer["schema"] = {"fields": job.schema}
        answer["totalRows"] = str(len(job.rows))
        start = int(page_token) if page_token else int(start_index or 0)
        size = len(job.rows) if max_results is None else max_results
        size = min(size, 10000)
        page = job.rows[start : start + size]
        answer["rows"] = [
            {"f": [{"v": _value(v, f)} for v, f in zip(row, job.schema, strict=True)]}
            for row in page
        ]
        if start + size < len(job.rows):
            answer["pageToken"] = str(start + size)
        return answer


def _as_bigquery_means(tree: exp.Expression) -> None:
    """What GoogleSQL means and DuckDB says otherwise: TO_JSON_STRING(NULL) is 'null' (DuckDB's
    TO_JSON gives NULL) and BYTE_LENGTH counts a string's bytes (DuckDB's OCTET_LENGTH takes
    only BLOBs)."""
    for node in list(tree.find_all(exp.JSONFormat)):
        node.replace(exp.Coalesce(this=node.copy(), expressions=[exp.Literal.string("null")]))
    for node in list(tree.find_all(exp.ByteLength)):
        node.replace(exp.Anonymous(this="STRLEN", expressions=[node.this.copy()]))


def _field(name: str, duck: str) -> dict:
    """A result column as BigQuery describes it: a list is a REPEATED field of its items."""
    if duck.endswith("[]"):
        return {"name": name, "type": bigquery_type(duck[:-2]), "mode": "REPEATED"}
    return {"name": name, "type": bigquery_type(duck), "mode": "NULLABLE"}


def _value(value, field_: dict):
    if field_["mode"] == "REPEATED":
        return [{"v": _cell(item, field_["type"])} for item in value or []]
    return _cell(value, field_["type"])


def _cell(value, type_: str):
    if value is None:
        return None
    if type_ == "BOOLEAN":
        return "true" if value else "false"
    if type_ == "TIMESTAMP":
        return str(round((value - _EPOCH).total_seconds() * 1_000_000))
    if type_ == "DATETIME":
        return value.isoformat(timespec="microseconds")
    if type_ == "BYTES":
        return base64.b64encode(value).decode()
    if type_ == "FLOAT":
        return repr(float(value))
    if type_ == "JSON" and not isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _parameters(given: list[dict]) -> dict[str, object]:
    values: dict[str, object] = {}
    for parameter in given:
        kind = parameter["parameterType"]
        value = parameter.get("parameterValue") or {}
        if kind["type"] == "ARRAY":
            inner = kind["arrayType"]["type"]
            values[parameter["name"]] = [
                _parameter(item.get("value"), inner) for item in value.get("arrayValues", [])
            ]
        else:
            values[parameter["name"]] = _parameter(value.get("value"), kind["type"])
    return values


def _parameter(value, type_: str):
    if value is None:
        return None
    if type_ in ("INT64", "INTEGER"):
        return int(value)
    if type_ in ("FLOAT64", "FLOAT"):
        return float(value)
    if type_ in ("BOOL", "BOOLEAN"):
        return value.lower() == "true"
    if type_ == "BYTES":
        return base64.b64decode(value)
    return value


# -- HTTP ---------------------------------------------------------------------------------------


_API = re.compile(r"^/(upload/)?bigquery/v2/projects/([^/]+)(/.*)?$")


class _Handler(BaseHTTPRequestHandler):
    owner: FakeBigQuery

    def log_message(self, *args) -> None:
        return

    def _answer(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        fake = self.owner
        content_type = self.headers.get("Content-Type", "")
        body: object = None
        if content_type.startswith("application/json") and raw:
            body = json.loads(raw)
        elif content_type.startswith("application/x-www-form-urlencoded"):
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        fake.received.append(Received(self.command, parts.path, query, body))
        try:
            if parts.path == "/token" and self.command == "POST":
                self._answer(*_token(fake, body if isinstance(body, dict) else {}))
                return
            match = _API.match(parts.path)
            if not match:
                raise ApiError(404, "notFound", f"Not found: URL {parts.path}")
            email_ = self._caller()
            upload, project, rest = bool(match[1]), unquote(match[2]), match[3] or ""
            if project != fake.project:
                raise ApiError(404, "notFound", f"Not found: Project {project}")
            if upload:
                self._answer(200, _upload(fake, email_, content_type, raw, query))
                return
            self._answer(200, _route(fake, email_, self.command, rest, body, query))
        except ApiError as exc:
            self._answer(exc.code, exc.body())

    def _caller(self) -> str:
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        email_ = self.owner.tokens.get(token)
        if email_ is None:
            raise ApiError(
                401,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential.",
            )
        return email_

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def _token(fake: FakeBigQuery, form: dict[str, str]) -> tuple[int, dict]:
    def refuse(description: str) -> tuple[int, dict]:
        return 400, {"error": "invalid_grant", "error_description": description}

    if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
    try:
        header_b64, claims_b64, signature_b64 = form.get("assertion", "").split(".")
        header = json.loads(_unb64url(header_b64))
        claims = json.loads(_unb64url(claims_b64))
        signature = _unb64url(signature_b64)
    except ValueError:
        return refuse(
            "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
        )
    account = fake.accounts.get(claims.get("iss", ""))
    if account is None or header.get("alg") != "RS256":
        return refuse("Invalid grant: account not found")
    try:
        account.public_key.verify(
            signature,
            f"{header_b64}.{claims_b64}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        return refuse("Invalid JWT Signature.")
    now = time.time()
    if claims.get("aud") != GOOGLE_TOKEN_URI or not claims.get("iat", 0) - 300 <= now <= claims.get(
        "exp", 0
    ):
        return refuse(
            "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
        )
    token = f"ya29.{uuid.uuid4().hex}"
    fake.tokens[token] = account.email
    return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def _int(query: dict[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    return int(values[0]) if values else None


def _route(fake: FakeBigQuery, email_: str, method: str, rest: str, body, query) -> dict:
    parts = [unquote(p) for p in rest.strip("/").split("/")] if rest.strip("/") else []
    body = body if isinstance(body, dict) else {}
    match method, parts:
        case "POST", ["queries"]:
            config = {
                k: v
                for k, v in body.items()
                if k
                not in ("timeoutMs", "maxResults", "requestId", "location", "formatOptions", "kind")
            }
            job_config = {"query": config}
            if "jobTimeoutMs" in config:
                job_config["jobTimeoutMs"] = config.pop("jobTimeoutMs")
            if body.get("dryRun"):
                raise ApiError(400, "invalid", "Dry runs are not served here.")
            job = fake.new_job("query", job_config, email_)
            fake.run(job)
            answer = fake.query_results(
                job,
                wait_ms=int(body.get("timeoutMs", 10000)),
                max_results=body.get("maxResults"),
                page_token=None,
                start_index=None,
            )
            answer["kind"] = "bigquery#queryResponse"
            return answer
        case "GET", ["queries", job_id]:
            job = _job(fake, job_id)
            return fake.query_results(
                job,
                wait_ms=min(_int(query, "timeoutMs") or 10000, 10000),
                max_results=_int(query, "maxResults"),
                page_token=(query.get("pageToken") or [None])[0],
                start_index=_int(query, "startIndex"),
            )
        case "POST", ["jobs"]:
            configuration = body.get("configuration") or {}
            if "query" not in configuration:
                raise ApiError(400, "invalid", "Only query jobs are inserted without an upload.")
            reference = body.get("jobReference") or {}
            job = fake.new_job("query", configuration, email_, reference.get("jobId", ""))
            fake.run(job)
            return fake.job_resource(job)
        case "GET", ["jobs", job_id]:
            return fake.job_resource(_job(fake, job_id))
        case "POST", ["jobs", job_id, "cancel"]:
            job = _job(fake, job_id)
            cursor = job.cursor
            if cursor is not None and not job.done.is_set():
                with contextlib.suppress(duckdb.Error):
                    cursor.interrupt()
            return {"kind": "bigquery#jobCancelResponse", "job": fake.job_resource(job)}
        case "GET", ["datasets", dataset]:
            _dataset(fake, dataset)
            return _dataset_resource(fake, dataset)
        case "POST", ["datasets"]:
            dataset = body["datasetReference"]["datasetId"]
            _need_editor(fake, email_, "bigquery.datasets.create")
            try:
                fake.execute(f"CREATE SCHEMA {fake._q(dataset)}")
            except duckdb.CatalogException:
                raise ApiError(
                    409, "duplicate", f"Already Exists: Dataset {fake.project}:{dataset}"
                ) from None
            return _dataset_resource(fake, dataset)
        case "GET", ["datasets", dataset, "tables"]:
            _dataset(fake, dataset)
            names = fake.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                "AND schema_name = ? ORDER BY table_name",
                [fake.project, dataset],
            )
            return {
                "kind": "bigquery#tableList",
                "tables": [
                    {
                        "kind": "bigquery#table",
                        "id": f"{fake.project}:{dataset}.{name}",
                        "tableReference": {
                            "projectId": fake.project,
                            "datasetId": dataset,
                            "tableId": name,
                        },
                        "type": "TABLE",
                    }
                    for (name,) in names
                ],
                "totalItems": len(names),
            }
        case "GET", ["datasets", dataset, "tables", table]:
            return _table_resource(fake, dataset, table)
        case "POST", ["datasets", dataset, "tables"]:
            _dataset(fake, dataset)
            _need_editor(fake, email_, "bigquery.tables.create")
            table = body["tableReference"]["tableId"]
            fields = (body.get("schema") or {}).get("fields") or []
            if fake.table_fields(dataset, table) is not None:
                raise ApiError(
                    409, "duplicate", f"Already Exists: Table {fake.project}:{dataset}.{table}"
                )
            columns = ", ".join(f"{fake._q(f['name'])} {_TO_DUCKDB[f['type']]}" for f in fields)
            fake.execute(f"CREATE TABLE {fake._q(dataset)}.{fake._q(table)} ({columns})")
            return _table_resource(fake, dataset, table)
        case "PATCH", ["datasets", dataset, "tables", table]:
            _need_editor(fake, email_, "bigquery.tables.update")
            existing = _table_resource(fake, dataset, table)["schema"]["fields"]
            given = (body.get("schema") or {}).get("fields") or []
            known = {f["name"].lower(): f for f in existing}
            for field_ in given:
                old = known.get(field_["name"].lower())
                if old is None:
                    fake.execute(
                        f"ALTER TABLE {fake._q(dataset)}.{fake._q(table)} ADD COLUMN "
                        f"{fake._q(field_['name'])} {_TO_DUCKDB[field_['type']]}"
                    )
                elif old["type"] != _canonical(field_["type"]):
                    raise ApiError(
                        400,
                        "invalid",
                        f"Provided Schema does not match Table "
                        f"{fake.project}:{dataset}.{table}. Field {field_['name']} "
                        f"has changed type from {old['type']} to {field_['type']}",
                    )
            names = {f["name"].lower() for f in given}
            if given and any(f["name"].lower() not in names for f in existing):
                raise ApiError(
                    400,
                    "invalid",
                    "Provided Schema does not match Table: a field is missing from the new schema.",
                )
            return _table_resource(fake, dataset, table)
        case "DELETE", ["datasets", dataset, "tables", table]:
            _table_resource(fake, dataset, table)
            _need_editor(fake, email_, "bigquery.tables.delete")
            fake.execute(f"DROP TABLE {fake._q(dataset)}.{fake._q(table)}")
            return {}
    raise ApiError(404, "notFound", f"Not found: URL {method} {rest}")


def _canonical(type_: str) -> str:
    return {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN"}.get(type_, type_)


def _need_editor(fake: FakeBigQuery, email_: str, permission: str) -> None:
    if fake.accounts[email_].role != "editor":
        raise ApiError(
            403,
            "accessDenied",
            f"Access Denied: Project {fake.project}: User does "
            f"not have {permission} permission in project {fake.project}.",
        )


def _job(fake: FakeBigQuery, job_id: str) -> Job:
    job = fake.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "notFound", f"Not found: Job {fake.project}:{fake.location}.{job_id}")
    return job


def _dataset(fake: FakeBigQuery, dataset: str) -> None:
    found = fake.execute(
        "SELECT 1 FROM duckdb_schemas() WHERE database_name = ? AND schema_name = ?",
        [fake.project, dataset],
    )
    if not found:
        raise ApiError(404, "notFound", f"Not found: Dataset {fake.project}:{dataset}")


def _dataset_resource(fake: FakeBigQuery, dataset: str) -> dict:
    return {
        "kind": "bigquery#dataset",
        "id": f"{fake.project}:{dataset}",
        "datasetReference": {"projectId": fake.project, "datasetId": dataset},
        "location": fake.location,
    }


def _table_resource(fake: FakeBigQuery, dataset: str, table: str) -> dict:
    _dataset(fake, dataset)
    fields = fake.table_fields(dataset, table)
    if fields is None:
        raise ApiError(404, "notFound", f"Not found: Table {fake.project}:{dataset}.{table}")
    rows = fake.execute(f"SELECT count(*) FROM {fake._q(dataset)}.{fake._q(table)}")  # noqa: S608
    return {
        "kind": "bigquery#table",
        "id": f"{fake.project}:{dataset}.{table}",
        "tableReference": {"projectId": fake.project, "datasetId": dataset, "tableId": table},
        "schema": {"fields": fields},
        "numRows": str(rows[0][0]),
        "type": "TABLE",
        "location": fake.location,
    }


def _upload(fake: FakeBigQuery, email_: str, content_type: str, raw: bytes, query) -> dict:
    if (query.get("uploadType") or [""])[0] != "multipart":
        raise ApiError(400, "invalid", "Only uploadType=multipart is served here.")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    parts = list(message.iter_parts())
    if len(parts) != 2:
        raise ApiError(400, "invalid", "A multipart upload has the job and the data.")
    resource = json.loads(parts[0].get_payload(decode=True))
    payload = parts[1].get_payload(decode=True) or b""
    configuration = resource.get("configuration") or {}
    if "load" not in configuration:
        raise ApiError(400, "invalid", "An upload carries a load job.")
    reference = resource.get("jobReference") or {}
    job = fake.new_job("load", configuration, email_, reference.get("jobId", ""))
    fake.run(job, payload)
    return fake.job_resource(job)
