"""A loopback Databricks SQL warehouse for ``databricks-sql-connector``.

``FakeDatabricks`` serves, over TLS on 127.0.0.1 (a free port, a certificate made here and
signed by a CA of its own: point the connector at ``ca_file``), what a SQL warehouse serves:

* ``POST /sql/1.0/warehouses/<id>``: the HiveServer2 Thrift protocol (TCLIService, binary
  protocol over HTTP) that the connector speaks: OpenSession, ExecuteStatement (run
  asynchronously, the first rows returned directly when the statement finishes quickly),
  GetOperationStatus, GetResultSetMetadata, FetchResults (column-based row sets), Cancel/
  CloseOperation and CloseSession. The caller must send ``Authorization: Bearer <token>``
  with the personal access token, or a token this fake issued; anything else is refused
  with HTTP 403 and the reason in ``x-databricks-reason-phrase``, as Databricks does.
* ``POST /oidc/v1/token``: the OAuth client-credentials grant of a service principal
  (HTTP Basic with the client id and secret, ``scope=all-apis``); a wrong secret is 401
  ``invalid_client``.

Statements are Databricks SQL: each is parsed by sqlglot in the ``databricks`` dialect and
run, translated, on an in-memory DuckDB database in which the catalog is an attached
database, so reads and loads are real. ``SET STATEMENT_TIMEOUT = <seconds>`` (or the
session configuration of that name) interrupts a statement that runs longer, with
Databricks' error class. ``statements`` records every statement received, ``sessions`` the
configuration each session was opened with.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import duckdb
import sqlglot
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from databricks.sql.thrift_api.TCLIService import TCLIService, ttypes
from sqlglot import exp
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport

TOKEN = "dapi0123456789abcdef0123456789abcdef"
CLIENT_ID = "6f1c2e5a-8d4b-4c3e-9a7f-2b1d0e9c8a71"
CLIENT_SECRET = "dose0123456789abcdef0123456789abcdef"
WAREHOUSE_ID = "a1b2c3d4e5f60718"
CATALOG = "analytics"
SCHEMA = "marts"
# How long ExecuteStatement waits for a statement before answering "running".
DIRECT_WAIT = 0.2

OK = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)
State = ttypes.TOperationState


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key) files."""
    now = dt.datetime.now(dt.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Loopback warehouse CA"))
        .issuer_name(name("Loopback warehouse CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


# -- Databricks SQL on DuckDB ---------------------------------------------------------------


def _translate(statement: exp.Expression) -> list[str]:
    """DuckDB statements for one Databricks statement."""
    if isinstance(statement, exp.Alter):
        actions = []
        for action in statement.args.get("actions") or []:
            actions.extend(action.expressions if isinstance(action, exp.Schema) else [action])
        if actions and all(isinstance(action, exp.ColumnDef) for action in actions):
            # ALTER TABLE t ADD COLUMNS (a T, b U): DuckDB adds one column per statement.
            table = statement.this.sql("duckdb")
            return [f"ALTER TABLE {table} ADD COLUMN {action.sql('duckdb')}" for action in actions]

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.CurrentVersion):
            # Databricks: a struct naming the runtime and the SQL warehouse's version.
            return sqlglot.parse_one(
                "{'dbr_version': NULL, 'dbsql_version': '2026.40', "
                "'u_build_hash': 'loopback', 'r_build_hash': 'loopback'}",
                read="duckdb",
            )
        if isinstance(node, exp.Anonymous) and node.name.lower() == "octet_length":
            # Databricks measures a string's UTF-8 bytes; DuckDB's octet_length takes BLOBs.
            return exp.func("strlen", *node.expressions)
        if isinstance(node, exp.Collate):
            # UTF8_BINARY is Databricks' default (byte order), as DuckDB's is.
            return node.this
        return node

    return [statement.transform(rewrite).sql("duckdb")]


def _error_class(exc: duckdb.Error) -> str:
    if isinstance(exc, duckdb.ParserException):
        return "PARSE_SYNTAX_ERROR"
    if isinstance(exc, duckdb.CatalogException):
        text = str(exc)
        if "Table" in text or "table" in text:
            return "TABLE_OR_VIEW_NOT_FOUND"
        return "UNRESOLVED_ROUTINE" if "unction" in text else "SCHEMA_NOT_FOUND"
    if isinstance(exc, duckdb.BinderException):
        return "UNRESOLVED_COLUMN"
    return "INTERNAL_ERROR"


def _type(duck_type: str) -> tuple[int, dict]:
    """The Thrift type id (and qualifiers) of a DuckDB column type."""
    text = duck_type.upper()
    if text == "BOOLEAN":
        return ttypes.TTypeId.BOOLEAN_TYPE, {}
    if text in ("TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"):
        return ttypes.TTypeId.INT_TYPE, {}
    if text in ("BIGINT", "UINTEGER"):
        return ttypes.TTypeId.BIGINT_TYPE, {}
    if text in ("FLOAT", "DOUBLE"):
        return ttypes.TTypeId.DOUBLE_TYPE, {}
    if text.startswith("DECIMAL"):
        precision, scale = text[8:-1].split(",")
        return ttypes.TTypeId.DECIMAL_TYPE, {"precision": int(precision), "scale": int(scale)}
    if text == "DATE":
        return ttypes.TTypeId.DATE_TYPE, {}
    if text.startswith("TIMESTAMP"):
        return ttypes.TTypeId.TIMESTAMP_TYPE, {}
    if text == "BLOB":
        return ttypes.TTypeId.BINARY_TYPE, {}
    return ttypes.TTypeId.STRING_TYPE, {}


def _text(value) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | decimal.Decimal):
        return str(value)
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def _column(type_id: int, values: list) -> ttypes.TColumn:
    """One column of a column-based row set: values and a bitmap of the nulls."""
    nulls = bytearray((len(values) + 7) // 8)
    for i, value in enumerate(values):
        if value is None:
            nulls[i >> 3] |= 1 << (i & 7)
    T = ttypes.TTypeId
    if type_id == T.BOOLEAN_TYPE:
        filled = [bool(v) if v is not None else False for v in values]
        return ttypes.TColumn(boolVal=ttypes.TBoolColumn(values=filled, nulls=bytes(nulls)))
    if type_id == T.INT_TYPE:
        filled = [int(v) if v is not None else 0 for v in values]
        return ttypes.TColumn(i32Val=ttypes.TI32Column(values=filled, nulls=bytes(nulls)))
    if type_id == T.BIGINT_TYPE:
        filled = [int(v) if v is not None else 0 for v in values]
        return ttypes.TColumn(i64Val=ttypes.TI64Column(values=filled, nulls=bytes(nulls)))
    if type_id == T.DOUBLE_TYPE:
        filled = [float(v) if v is not None else 0.0 for v in values]
        return ttypes.TColumn(doubleVal=ttypes.TDoubleColumn(values=filled, nulls=bytes(nulls)))
    if type_id == T.BINARY_TYPE:
        filled = [bytes(v) if v is not None else b"" for v in values]
        return ttypes.TColumn(binaryVal=ttypes.TBinaryColumn(values=filled, nulls=bytes(nulls)))
    filled = [_text(v) if v is not None else "" for v in values]
    return ttypes.TColumn(stringVal=ttypes.TStringColumn(values=filled, nulls=bytes(nulls)))


# -- sessions and operations ---------------------------------------------------------------


@dataclass
class Session:
    configuration: dict[str, str]
    catalog: str
    schema: str


@dataclass
class Operation:
    session: Session
    statement: str
    cursor: duckdb.DuckDBPyConnection | None = None
    state: int = State.PENDING_STATE
    error: str = ""
    sql_state: str | None = None
    columns: list[tuple[str, int, dict]] = field(default_factory=list)
    modified: int | None = None
    offset: int = 0
    ahead: list[tuple] = field(default_factory=list)
    exhausted: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False


def _handle() -> ttypes.THandleIdentifier:
    return ttypes.THandleIdentifier(guid=uuid.uuid4().bytes, secret=uuid.uuid4().bytes)


class Warehouse(TCLIService.Iface):
    """The Thrift service: sessions and statements run on DuckDB."""

    def __init__(self, fake: FakeDatabricks):
        self.fake = fake
        self.sessions: dict[bytes, Session] = {}
        self.operations: dict[bytes, Operation] = {}
        self.lock = threading.Lock()

    # sessions

    def OpenSession(self, req):
        namespace = req.initialNamespace
        catalog = (namespace and namespace.catalogName) or CATALOG
        schema = (namespace and namespace.schemaName) or "default"
        configuration = dict(req.configuration or {})
        if catalog not in self.fake.catalogs():
            return ttypes.TOpenSessionResp(
                status=ttypes.TStatus(
                    statusCode=ttypes.TStatusCode.ERROR_STATUS,
                    errorMessage=f"[NO_SUCH_CATALOG_EXCEPTION] Catalog '{catalog}' was not found.",
                    sqlState="42704",
                ),
                serverProtocolVersion=ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V7,
            )
        handle = _handle()
        session = Session(configuration=configuration, catalog=catalog, schema=schema)
        with self.lock:
            self.sessions[handle.guid] = session
        self.fake.opened.append(dict(configuration, catalog=catalog, schema=schema))
        return ttypes.TOpenSessionResp(
            status=OK,
            serverProtocolVersion=ttypes.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V7,
            sessionHandle=ttypes.TSessionHandle(sessionId=handle),
            configuration={},
            canUseMultipleCatalogs=True,
        )

    def CloseSession(self, req):
        with self.lock:
            self.sessions.pop(req.sessionHandle.sessionId.guid, None)
        return ttypes.TCloseSessionResp(status=OK)

    def GetInfo(self, req):
        return ttypes.TGetInfoResp(
            status=OK, infoValue=ttypes.TGetInfoValue(stringValue="Databricks SQL")
        )

    # statements

    def ExecuteStatement(self, req):
        session = self.sessions.get(req.sessionHandle.sessionId.guid)
        if session is None:
            return ttypes.TExecuteStatementResp(
                status=ttypes.TStatus(
                    statusCode=ttypes.TStatusCode.INVALID_HANDLE_STATUS,
                    errorMessage="Invalid SessionHandle",
                )
            )
        self.fake.statements.append(req.statement)
        handle = _handle()
        operation = Operation(session=session, statement=req.statement)
        with self.lock:
            self.operations[handle.guid] = operation
        overlay = dict(req.confOverlay or {})
        threading.Thread(target=self._run, args=(operation, overlay), daemon=True).start()
        operation_handle = ttypes.TOperationHandle(
            operationId=handle,
            operationType=ttypes.TOperationType.EXECUTE_STATEMENT,
            hasResultSet=True,
        )
        direct = None
        if req.getDirectResults is not None and operation.done.wait(DIRECT_WAIT):
            status = self._status(operation)
            direct = ttypes.TSparkDirectResults(operationStatus=status)
            if operation.state == State.FINISHED_STATE:
                direct.resultSetMetadata = self._metadata(operation)
                direct.resultSet = self._fetch(operation, req.getDirectResults.maxRows or 10000)
        return ttypes.TExecuteStatementResp(
            status=OK, operationHandle=operation_handle, directResults=direct
        )

    def _run(self, operation: Operation, overlay: dict[str, str]) -> None:
        session = operation.session
        timer = None
        try:
            parsed = [s for s in sqlglot.parse(operation.statement, read="databricks") if s]
            if len(parsed) != 1:
                raise duckdb.ParserException("expected one statement")
            statement = parsed[0]
            if isinstance(statement, exp.Set):
                for item in statement.expressions:
                    assignment = item.this
                    session.configuration[assignment.left.name.upper()] = assignment.right.name
                self._finish(operation, None)
                return
            if isinstance(statement, exp.Use):
                kind = ((statement.args.get("kind") and statement.args["kind"].name) or "").upper()
                name = statement.this
                if kind == "CATALOG":
                    session.catalog = name.name
                else:
                    session.schema = name.name
                    if name.args.get("catalog") or name.args.get("db"):
                        session.catalog = (name.args.get("catalog") or name.args["db"]).name
                self._finish(operation, None)
                return
            cursor = self.fake.cursor()
            operation.cursor = cursor
            cursor.execute(f'USE "{session.catalog}"."{session.schema}"')
            configured = {**session.configuration, **overlay}
            timeout = int(configured.get("STATEMENT_TIMEOUT", "0") or 0)
            if timeout > 0:

                def interrupt():
                    operation.timed_out = True
                    cursor.interrupt()

                timer = threading.Timer(timeout, interrupt)
                timer.start()
            statements = _translate(statement)
            for text in statements[:-1]:
                cursor.execute(text)
            cursor.execute(statements[-1])
            dml = isinstance(statement, exp.Insert | exp.Delete | exp.Update | exp.Merge)
            self._finish(operation, cursor, dml=dml)
        except (duckdb.Error, sqlglot.errors.SqlglotError) as exc:
            if operation.timed_out:
                limit = {**session.configuration, **overlay}.get("STATEMENT_TIMEOUT")
                operation.error = (
                    f"[QUERY_EXECUTION_TIMEOUT_EXCEEDED] Query execution was cancelled due to "
                    f"exceeding the timeout ({limit}s). Set a larger timeout with "
                    "SET STATEMENT_TIMEOUT."
                )
                operation.sql_state = "57KD0"
            elif isinstance(exc, sqlglot.errors.SqlglotError):
                operation.error = f"[PARSE_SYNTAX_ERROR] Syntax error: {exc}"
                operation.sql_state = "42601"
            else:
                operation.error = f"[{_error_class(exc)}] {exc}"
                operation.sql_state = "42000"
            operation.state = State.ERROR_STATE
            operation.done.set()
        finally:
            if timer is not None:
                timer.cancel()

    def _finish(self, operation: Operation, cursor, *, dml: bool = False) -> None:
        if cursor is None or cursor.description is None:
            operation.columns = []
            operation.exhausted = True
        elif dml:
            counted = cursor.fetchall()
            operation.modified = int(counted[0][0]) if counted else 0
            operation.columns = [("num_affected_rows", ttypes.TTypeId.BIGINT_TYPE, {})]
            operation.ahead = [(operation.modified,)]
            operation.exhausted = True
        else:
            operation.columns = [
                (name, *_type(str(type_code))) for name, type_code, *_ in cursor.description
            ]
        operation.state = State.FINISHED_STATE
        operation.done.set()

    def _status(self, operation: Operation) -> ttypes.TGetOperationStatusResp:
        if operation.state == State.ERROR_STATE:
            return ttypes.TGetOperationStatusResp(
                status=OK,
                operationState=State.ERROR_STATE,
                sqlState=operation.sql_state,
                errorMessage=operation.error,
                displayMessage=operation.error,
            )
        return ttypes.TGetOperationStatusResp(
            status=OK,
            operationState=operation.state if operation.done.is_set() else State.RUNNING_STATE,
            hasResultSet=True,
            numModifiedRows=operation.modified,
        )

    def _metadata(self, operation: Operation) -> ttypes.TGetResultSetMetadataResp:
        columns = []
        for position, (name, type_id, qualifiers) in enumerate(operation.columns, start=1):
            entry = ttypes.TPrimitiveTypeEntry(type=type_id)
            if qualifiers:
                entry.typeQualifiers = ttypes.TTypeQualifiers(
                    qualifiers={
                        k: ttypes.TTypeQualifierValue(i32Value=v) for k, v in qualifiers.items()
                    }
                )
            columns.append(
                ttypes.TColumnDesc(
                    columnName=name,
                    typeDesc=ttypes.TTypeDesc(types=[ttypes.TTypeEntry(primitiveEntry=entry)]),
                    position=position,
                )
            )
        return ttypes.TGetResultSetMetadataResp(
            status=OK,
            schema=ttypes.TTableSchema(columns=columns),
            resultFormat=ttypes.TSparkRowSetType.COLUMN_BASED_SET,
            lz4Compressed=False,
            isStagingOperation=False,
        )

    def _fetch(self, operation: Operation, max_rows: int) -> ttypes.TFetchResultsResp:
        max_rows = max(1, min(int(max_rows), 100_000))
        rows = operation.ahead
        operation.ahead = []
        if not operation.exhausted and operation.cursor is not None:
            more = operation.cursor.fetchmany(max_rows + 1 - len(rows))
            rows = rows + more
            if len(rows) <= max_rows:
                operation.exhausted = True
        rows, operation.ahead = rows[:max_rows], rows[max_rows:]
        columns = [
            _column(type_id, [row[i] for row in rows])
            for i, (_name, type_id, _q) in enumerate(operation.columns)
        ]
        start = operation.offset
        operation.offset += len(rows)
        return ttypes.TFetchResultsResp(
            status=OK,
            hasMoreRows=bool(operation.ahead) or not operation.exhausted,
            results=ttypes.TRowSet(startRowOffset=start, rows=[], columns=columns),
            resultSetMetadata=self._metadata(operation),
        )

    def _operation(self, handle) -> Operation | None:
        return self.operations.get(handle.operationId.guid)

    def GetOperationStatus(self, req):
        operation = self._operation(req.operationHandle)
        if operation is None:
            return ttypes.TGetOperationStatusResp(
                status=ttypes.TStatus(
                    statusCode=ttypes.TStatusCode.INVALID_HANDLE_STATUS,
                    errorMessage="Invalid OperationHandle",
                )
            )
        operation.done.wait(0.5)
        return self._status(operation)

    def GetResultSetMetadata(self, req):
        operation = self._operation(req.operationHandle)
        if operation is None:
            return ttypes.TGetResultSetMetadataResp(
                status=ttypes.TStatus(
                    statusCode=ttypes.TStatusCode.INVALID_HANDLE_STATUS,
                    errorMessage="Invalid OperationHandle",
                )
            )
        return self._metadata(operation)

    def FetchResults(self, req):
        operation = self._operation(req.operationHandle)
        if operation is None or operation.state != State.FINISHED_STATE:
            return ttypes.TFetchResultsResp(
                status=ttypes.TStatus(
                    statusCode=ttypes.TStatusCode.INVALID_HANDLE_STATUS,
                    errorMessage="Invalid OperationHandle",
                )
            )
        return self._fetch(operation, req.maxRows)

    def CancelOperation(self, req):
        operation = self._operation(req.operationHandle)
        if operation is not None and operation.cursor is not None:
            operation.cursor.interrupt()
        return ttypes.TCancelOperationResp(status=OK)

    def CloseOperation(self, req):
        with self.lock:
            operation = self.operations.pop(req.operationHandle.operationId.guid, None)
        if operation is not None and operation.cursor is not None:
            if not operation.done.is_set():
                operation.cursor.interrupt()
                operation.done.wait(5)
            operation.cursor.close()
        return ttypes.TCloseOperationResp(status=OK)


# -- HTTP -------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        return

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake.requests.append(self.path)
        if self.path == "/oidc/v1/token":
            self._token(body)
            return
        if self.path.rstrip("/") != fake.http_path:
            self._answer(
                404,
                b'{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"No such warehouse."}',
                {"Content-Type": "application/json"},
            )
            return
        authorization = self.headers.get("Authorization", "")
        given = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or given not in fake.tokens():
            self._answer(
                403,
                b"Invalid access token.",
                {
                    "Content-Type": "text/plain",
                    "x-databricks-reason-phrase": "Invalid access token.",
                },
            )
            return
        into = TTransport.TMemoryBuffer(body)
        out = TTransport.TMemoryBuffer()
        processor = TCLIService.Processor(fake.service)
        processor.process(
            TBinaryProtocol.TBinaryProtocol(into), TBinaryProtocol.TBinaryProtocol(out)
        )
        self._answer(200, out.getvalue(), {"Content-Type": "application/x-thrift"})

    def _token(self, body: bytes) -> None:
        fake = self.server.fake
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        basic = self.headers.get("Authorization", "")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if form.get("grant_type") != "client_credentials":
            self._json(400, {"error": "unsupported_grant_type"})
        elif client_id != fake.client_id or secret != fake.client_secret:
            self._json(
                401,
                {"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        else:
            token = "eyJ" + secrets.token_urlsafe(32)
            fake.issued.add(token)
            self._json(
                200,
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "scope": form.get("scope", "all-apis"),
                },
            )

    def _json(self, status: int, payload: dict) -> None:
        self._answer(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeDatabricks


class FakeDatabricks:
    """A SQL warehouse on 127.0.0.1 over TLS; a context manager (or ``start``/``stop``)."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        warehouse_id: str = WAREHOUSE_ID,
        catalog: str = CATALOG,
    ):
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        self.http_path = f"/sql/1.0/warehouses/{warehouse_id}"
        self.catalog = catalog
        self.statements: list[str] = []
        self.opened: list[dict[str, str]] = []
        self.requests: list[str] = []
        self.issued: set[str] = set()
        self.db = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        self.db.execute(f"ATTACH ':memory:' AS \"{catalog}\"")
        self.db.execute(f'CREATE SCHEMA "{catalog}"."{SCHEMA}"')
        self.db.execute(f'CREATE SCHEMA IF NOT EXISTS "{catalog}"."default"')
        self.service = Warehouse(self)
        self._directory = tempfile.TemporaryDirectory(prefix="fake-databricks-")
        self.ca_file, cert, key = _certificates(Path(self._directory.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def catalogs(self) -> set[str]:
        return {row[0] for row in self.sql("SELECT database_name FROM duckdb_databases()")}

    def tokens(self) -> set[str]:
        return {self.token, *self.issued}

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection of its own to the warehouse's database (DuckDB refuses two threads
        making one at once)."""
        with self._lock:
            return self.db.cursor()

    def sql(self, text: str, params=None) -> list[tuple]:
        """Run DuckDB SQL in the warehouse directly (to set up or inspect tables)."""
        cursor = self.cursor()
        try:
            cursor.execute(f'USE "{self.catalog}"."{SCHEMA}"')
            cursor.execute(text, params)
            return cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()

    def start(self) -> FakeDatabricks:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.db.close()
        self._directory.cleanup()

    def __enter__(self) -> FakeDatabricks:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
