"""A Snowflake account on loopback for the tests: fakesnow's server mode (the REST API the
Snowflake connector speaks, executing on DuckDB), with what its server mode leaves out and
the console relies on:

- logins are checked as Snowflake checks them: the account, the user's password or a key-pair
  JWT signed by the key whose public half is registered for the user (``iss`` carries the
  SHA-256 fingerprint of that public key), and a role granted to the user; a refusal is
  Snowflake's answer (``success: false`` with its code and message);
- a role listed as read-only may run queries only (SELECT, SHOW, DESCRIBE, USE, ALTER
  SESSION): anything else is refused as Snowflake refuses a role without the privilege;
- a CSV field in quotes is text, ``""`` the empty string, as Snowflake loads it;
- ``GET /fake/logins`` (the fake's own) counts the login attempts it received;
- ``STATEMENT_TIMEOUT_IN_SECONDS`` (a session parameter given at login) cancels a statement
  that runs longer, with Snowflake's error 000630; the client's abort request cancels it too.

Run with the environment of this folder's pyproject (``make fakesnow``):
``.tools/fakesnow/bin/python serve.py CONFIG.json``. It prints ``PORT <n>`` once it listens on
127.0.0.1. CONFIG: {"account": "ACME-ANALYTICS", "users": {"NAME": {"password": "...",
"public_key": "PEM", "roles": ["ROLE"], "default_role": "ROLE"}}, "read_only_roles": [...]}.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import socket
import sys
import threading
from typing import Any

import fakesnow.copy_into
import fakesnow.server as fake
import jwt
import sqlglot
import uvicorn
from cryptography.hazmat.primitives import serialization
from sqlglot import exp
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CONFIG: dict[str, Any] = {}
# session token -> what the login said (user, role, statement timeout)
SESSIONS: dict[str, dict[str, Any]] = {}
# session token -> the statement running, cancelled by a timer or the client's abort
RUNNING: dict[str, dict[str, Any]] = {}
# login attempts, for the tests to see that a refused connection never reached the account
LOGINS = {"attempts": 0}

READ_ONLY_STATEMENTS = (exp.Query, exp.Show, exp.Describe, exp.Use)


def refusal(code: str, message: str, status: int = 200, sql_state: str | None = None):
    return JSONResponse(
        {
            "data": {"errorCode": code, "sqlState": sql_state},
            "code": code,
            "message": message,
            "success": False,
            "headers": None,
        },
        status_code=status,
    )


async def body_of(request: Request) -> dict[str, Any]:
    body = await request.body()
    if request.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


def fingerprint(public_pem: str) -> str:
    key = serialization.load_pem_public_key(public_pem.encode())
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()


def authenticated(data: dict[str, Any]) -> tuple[str, dict[str, Any]] | JSONResponse:
    bad_login = refusal("390100", "Incorrect username or password was specified.")
    account = str(data.get("ACCOUNT_NAME") or "").upper()
    name = str(data.get("LOGIN_NAME") or "").upper()
    user = CONFIG["users"].get(name)
    if account != CONFIG["account"].upper() or user is None:
        return bad_login
    if data.get("AUTHENTICATOR") == "SNOWFLAKE_JWT":
        public = user.get("public_key")
        if not public:
            return refusal("394304", "Public key is not registered for the user.")
        try:
            claims = jwt.decode(
                data.get("TOKEN") or "",
                serialization.load_pem_public_key(public.encode()),
                algorithms=["RS256"],
                options={"require": ["iss", "sub", "exp", "iat"]},
            )
        except jwt.PyJWTError:
            return refusal("390144", "JWT token is invalid.")
        subject = f"{account}.{name}"
        if claims["sub"] != subject or claims["iss"] != f"{subject}.{fingerprint(public)}":
            return refusal("390144", "JWT token is invalid.")
        return name, user
    password = user.get("password")
    if not password or data.get("PASSWORD") != password:
        return bad_login
    return name, user


async def login_request(request: Request) -> JSONResponse:
    LOGINS["attempts"] += 1
    data = (await body_of(request))["data"]
    checked = authenticated(data)
    if isinstance(checked, JSONResponse):
        return checked
    name, user = checked
    role = (request.query_params.get("roleName") or user.get("default_role") or "PUBLIC").upper()
    if role not in {r.upper() for r in user.get("roles", [])} | {"PUBLIC"}:
        return refusal(
            "390189",
            f"Role '{role}' specified in the connect string is not granted to this user. "
            "Contact your local system administrator, or attempt to login with another role, "
            "e.g. PUBLIC.",
        )
    response = await fake.login_request(request)
    answer = json.loads(response.body)
    params = data.get("SESSION_PARAMETERS") or {}
    SESSIONS[answer["data"]["token"]] = {
        "user": name,
        "role": role,
        "timeout": int(params.get("STATEMENT_TIMEOUT_IN_SECONDS") or 0),
    }
    answer["data"]["sessionInfo"].update({"roleName": role, "warehouseName": None})
    answer["data"]["parameters"].append(
        {
            "name": "STATEMENT_TIMEOUT_IN_SECONDS",
            "value": SESSIONS[answer["data"]["token"]]["timeout"],
        }
    )
    return JSONResponse(answer)


def writes(sql_text: str) -> bool:
    try:
        statement = sqlglot.parse_one(sql_text, read="snowflake")
    except sqlglot.errors.ParseError:
        return True
    if isinstance(statement, exp.Alter) and statement.args.get("kind") == "SESSION":
        return False
    if isinstance(statement, exp.Command) and statement.name.upper() in {"SHOW", "DESCRIBE"}:
        return False
    return not isinstance(statement, READ_ONLY_STATEMENTS) or any(
        isinstance(node, exp.DML | exp.DDL) for node in statement.walk()
    )


async def query_request(request: Request) -> JSONResponse:
    token = (request.headers.get("Authorization") or "")[17:-1]
    session = SESSIONS.get(token)
    conn = fake.sessions.get(token)
    if session is None or conn is None:
        return await fake.query_request(request)
    body = await body_of(request)
    if session["role"] in {r.upper() for r in CONFIG.get("read_only_roles", [])} and writes(
        body.get("sqlText") or ""
    ):
        return refusal(
            "003001",
            "SQL access control error:\nInsufficient privileges to operate on schema "
            f"'{conn.schema or 'PUBLIC'}'",
            sql_state="42501",
        )
    running = {"cancelled": None}
    RUNNING[token] = running

    def cancel(reason: str) -> None:
        running["cancelled"] = reason
        conn._duck_conn.interrupt()

    timer = None
    if session["timeout"]:
        timer = threading.Timer(session["timeout"], cancel, args=("timeout",))
        timer.start()
    running["cancel"] = cancel
    try:
        response = await fake.query_request(request)
    finally:
        if timer is not None:
            timer.cancel()
        RUNNING.pop(token, None)
    if running["cancelled"] == "timeout":
        return refusal(
            "000630",
            f"Statement reached its statement or warehouse timeout of {session['timeout']} "
            "second(s) and was canceled.",
            sql_state="57014",
        )
    if running["cancelled"]:
        return refusal("000604", "SQL execution canceled", sql_state="57014")
    return response


async def abort_request(request: Request) -> JSONResponse:
    token = (request.headers.get("Authorization") or "")[17:-1]
    running = RUNNING.get(token)
    if running:
        running["cancel"]("client")
    return JSONResponse({"success": True})


async def logins(request: Request) -> JSONResponse:
    return JSONResponse(LOGINS)


def _read_csv_as_snowflake(read_expression):
    """Snowflake loads a field enclosed in quotes as text, even an empty one (``""`` is the
    empty string; only an empty field without quotes is null): DuckDB reads quoted values
    as nulls unless told otherwise."""

    def read(self, url):
        expression = read_expression(self, url)
        if self.quote:
            expression.append("expressions", self.make_eq("allow_quoted_nulls", False))
        return expression

    return read


def main() -> None:
    fakesnow.copy_into.ReadCSV.read_expression = _read_csv_as_snowflake(
        fakesnow.copy_into.ReadCSV.read_expression
    )
    with open(sys.argv[1]) as file:
        CONFIG.update(json.load(file))
    CONFIG["users"] = {name.upper(): user for name, user in CONFIG["users"].items()}
    mine = {
        "/session/v1/login-request": login_request,
        "/queries/v1/query-request": query_request,
        "/queries/v1/abort-request": abort_request,
    }
    fake.app.router.routes = [
        Route(route.path, mine[route.path], methods=["POST"]) if route.path in mine else route
        for route in fake.app.router.routes
    ]
    fake.app.router.routes.append(Route("/fake/logins", logins, methods=["GET"]))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(fake.app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
