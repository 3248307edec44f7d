"""What every warehouse reached through a DB-API connector does the same way: the read-only
guard of a model's SQL in the warehouse's own dialect, the preview, the key check, the
key-ordered stream with the fingerprint the warehouse computes, and the skeleton of loading
(create and widen a table, delete by identifiers, insert the rows whose key is new).

Every statement is built once as a sqlglot tree (PostgreSQL's names) and written in the
engine's ``dialect``; a vendor's engine adds only what is its own: how it connects, its
types, its bulk load. The model's SQL is never rewritten: it runs as the person wrote and
previewed it, inside the statement built around it.

The guard (``check_sql``) has two layers, as PostgreSQL's (``apps.syncs.engine.sql``):

1. Before parsing: size, token count and nesting limits (a huge or deeply nested query is a
   400, never a RecursionError or seconds of CPU); one statement; every name written before
   ``(`` is a keyword, an alias with a column list, or a function on the allowlist
   (``ALLOWED_FUNCTIONS`` and the warehouse functions marketers use, ``WAREHOUSE_FUNCTIONS``,
   plus the engine's ``functions``); no call through a dot (``'x'.read_text()``).
2. The tree, parsed in the warehouse's dialect: one read query; no writes, DDL, COPY, EXPORT,
   ATTACH, INSTALL, LOAD, PRAGMA, SET, CALL or ``SELECT … INTO`` anywhere; no function that
   reads files or URLs; no table named like a path or URL (read as a file by some engines);
   no system catalog; no table named ``hash_key`` (a warehouse destination's key, read by
   models in the warehouse, never through the console); no parameters.

The connection is the hard boundary (read-only where the warehouse has it, a role that may
only read); the guard is the second wall, and the first one a person sees.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from apps.syncs.engine import sql as pg
from apps.syncs.errors import SyncsErrorCode
from martech.common.errors import ApplicationError

from .base import Column, Engine, KeyCheck, Preview, Table

# Functions of the warehouses' own dialects (DuckDB, Snowflake, BigQuery, Databricks) that a
# marketer's model uses, beyond PostgreSQL's: dates, conditionals, JSON/variant access,
# hashing, approximate aggregates, arrays. Nothing that reads files, URLs, stages, settings
# or the environment, runs SQL text or reaches another database.
WAREHOUSE_FUNCTIONS = pg._names(
    # conditionals and casts
    "if iff nvl nvl2 zeroifnull nullifzero try_cast safe_cast decode equal_null "
    "to_varchar to_decimal to_double to_boolean to_time to_timestamp_ntz to_timestamp_tz "
    "to_timestamp_ltz try_to_number try_to_decimal try_to_date try_to_timestamp "
    "try_to_boolean string bytes number bignumeric bigdecimal struct struct_pack list "
    # dates and times
    "date_diff datediff date_add dateadd date_sub datesub timestamp_diff timestampdiff "
    "timestamp_add timestampadd timestamp_sub datetime_diff datetime_add datetime_sub "
    "datetime_trunc timestamp_trunc time_diff last_day year month day dayofweek dayofmonth "
    "dayofyear week weekofyear weekiso quarter hour minute second dayname monthname isodow "
    "isoyear yearweek convert_timezone date_from_parts timestamp_from_parts "
    "time_from_parts format_date format_timestamp format_datetime parse_date "
    "parse_timestamp parse_datetime strptime date_format sysdate getdate epoch epoch_ms "
    "unix_seconds unix_millis unix_timestamp from_unixtime to_unix_timestamp "
    "timestamp_seconds timestamp_millis timestamp_micros current_datetime "
    # strings
    "len strlen contains ends_with startswith endswith split string_split "
    "regexp_extract regexp_extract_all regexp_contains rlike editdistance levenshtein "
    "jaro_winkler_similarity soundex repeat space lcase ucase "
    # hashing and identifiers
    "sha1 sha2 md5_hex md5_binary sha1_hex sha2_hex hex unhex from_hex base64 to_base64 "
    "from_base64 hash farm_fingerprint uuid uuid_string generate_uuid "
    # maths
    "safe_divide div0 div0null ieee_divide log2 truncate bit_count "
    # aggregates
    "count_if countif approx_count_distinct approx_distinct median quantile quantile_cont "
    "quantile_disc approx_quantile approx_percentile percentile_approx listagg "
    "collect_list collect_set list_agg logical_and logical_or arg_max arg_min max_by min_by "
    "argmax argmin first last kurtosis skewness histogram approx_top_k "
    # JSON, variants, arrays and maps
    "parse_json try_parse_json to_variant to_object to_array object_construct "
    "object_construct_keep_null array_construct array_construct_compact object_keys get "
    "get_path json_value json_query json_extract_scalar json_extract_array "
    "json_extract_string json_extract_path_text to_json_string from_json json "
    "json_array_length array_size array_slice array_contains array_distinct array_sort "
    "array_union array_intersect array_except arrays_overlap array_compact array_flatten "
    "array_min array_max array_join array_concat element_at size slice flatten_array "
    "list_contains list_distinct list_sort list_slice list_concat list_value "
    "list_extract map_keys map_values range",
)

# The statements a read query may never contain, at any depth.
NOT_READS = tuple(
    getattr(exp, name)
    for name in pg._names(
        "Pragma Set Attach Detach Install Use Describe Summarize Export Transaction Commit "
        "Rollback Kill Analyze Grant Revoke Comment Cache Uncache Refresh LoadData Show "
        "Declare Execute"
    )
    if hasattr(exp, name)
)
# Functions sqlglot knows by their own node that read or write files.
FILE_FUNCTIONS = tuple(
    getattr(exp, name) for name in ("ReadCSV", "ReadParquet", "ToFile") if hasattr(exp, name)
)
# Words that may stand before "(" without calling anything, in the warehouses' dialects
# (beyond PostgreSQL's): SELECT * EXCLUDE (…), PIVOT (…), QUALIFY (…), SAMPLE (…).
_SYNTAX_BEFORE_PAREN = pg._RESERVED_BEFORE_PAREN | pg._names(
    "exclude rename qualify pivot unpivot sample tablesample from by",
)
# A table named with one of these is a file, a URL or a stage to some engines
# (DuckDB reads FROM 'data.csv'; Snowflake FROM @stage/path).
_PATH_CHARACTERS = frozenset("/\\:.*?~@$")
_PREFIX_TOKENS = frozenset(
    {TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE, TokenType.EXCLAMATION}
)
_FIRST_TOKENS = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.FROM, TokenType.VALUES})
MAX_NAME_BYTES = 255

# Where the model's SQL goes in a statement built around it (as "(<model>) AS <alias>").
_MODEL = "__martech_model__"
KEY, PRINT = "__martech_key", "__martech_fingerprint"
# A preview cell is shown only up to this many bytes (as text), as on PostgreSQL.
PREVIEW_CELL_BYTES = 64 * 1024
# Values of one DELETE … IN (…).
DELETE_CHUNK = 1000


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, code=SyncsErrorCode.INVALID_SQL)


def _word(token) -> str:
    """The name a token spells (ASCII lower case, as every warehouse compares function
    names), or "" for a string, number or punctuation."""
    if token.token_type == TokenType.IDENTIFIER:
        return pg._ascii_lower(token.text)
    if token.token_type in (TokenType.STRING, TokenType.NUMBER) or not token.text:
        return ""
    first = token.text[0]
    return pg._ascii_lower(token.text) if first.isalpha() or first == "_" else ""


def _scan(tokens: list) -> None:
    """Refuse what is too big or too deep for the parser, before it runs."""
    if len(tokens) > pg.MAX_TOKENS:
        raise _refuse(f"The query is too long: more than {pg.MAX_TOKENS:,} tokens.")
    parens = cases = brackets = prefix_run = 0
    for token in tokens:
        kind = token.token_type
        where = f"line {token.line}, column {token.col}"
        if kind == TokenType.IDENTIFIER and len(token.text.encode()) > MAX_NAME_BYTES:
            raise _refuse(f"A name is longer than {MAX_NAME_BYTES} bytes ({where}).")
        if kind == TokenType.L_PAREN:
            parens += 1
        elif kind == TokenType.R_PAREN:
            parens -= 1
            if parens < 0:
                raise _refuse(f"A ) has no matching ( ({where}).")
        elif kind == TokenType.CASE:
            cases += 1
        elif kind == TokenType.END and cases:
            cases -= 1
        elif kind in (TokenType.L_BRACKET, TokenType.L_BRACE):
            brackets += 1
            if brackets > pg.MAX_BRACKET_DEPTH:
                raise _refuse(f"Arrays are nested more than {pg.MAX_BRACKET_DEPTH} deep ({where}).")
        elif kind in (TokenType.R_BRACKET, TokenType.R_BRACE):
            brackets = max(brackets - 1, 0)
        if parens + cases > pg.MAX_DEPTH:
            raise _refuse(
                f"The query is nested too deeply: more than {pg.MAX_DEPTH} levels ({where})."
            )
        prefix_run = prefix_run + 1 if kind in _PREFIX_TOKENS else 0
        if prefix_run > pg.MAX_PREFIX_RUN:
            raise _refuse(
                f"The query is nested too deeply: more than {pg.MAX_DEPTH} levels ({where})."
            )
    if parens:
        raise _refuse("The parentheses are not balanced.")


def _one_statement(tokens: list) -> list:
    """The tokens of the one statement: trailing semicolons dropped, any other refused."""
    last = len(tokens)
    while last and tokens[last - 1].token_type == TokenType.SEMICOLON:
        last -= 1
    separators = sum(1 for t in tokens[:last] if t.token_type == TokenType.SEMICOLON)
    if separators:
        raise _refuse(f"A model is one query; this is {separators + 1} statements.")
    return tokens[:last]


def _not_allowed(name: str) -> ApplicationError:
    return _refuse(
        f"A model may not call {name}(); it may use aggregates, window, string, date, "
        "maths, JSON, array and conditional functions and casts."
    )


# Words that open a statement other than a query; refused where a statement may start (first,
# or after "(": DuckDB runs FROM (SHOW TABLES), FROM (DESCRIBE t)), whatever a parser makes
# of them.
_STATEMENT_WORDS = pg._names(
    "show describe desc summarize explain pragma attach detach install load copy export "
    "import checkpoint vacuum call set reset use begin commit rollback execute prepare "
    "deallocate analyze update insert delete merge create drop alter truncate grant revoke "
    "put remove undrop",
)


def _check_statements(tokens: list) -> None:
    """No word that opens another kind of statement where a statement may start."""
    for at, token in enumerate(tokens):
        if at and tokens[at - 1].token_type != TokenType.L_PAREN:
            continue
        name = _word(token)
        if token.token_type != TokenType.IDENTIFIER and name in _STATEMENT_WORDS:
            raise _refuse(f"A model is a read query (SELECT); this is {name.upper()}.")


def _check_calls(tokens: list, aliases: Counter, allowed: frozenset[str]) -> None:
    """Every name written before "(" is a keyword, an alias with its column list, or an
    allowed function; none is reached through a dot."""
    for at, token in enumerate(tokens[:-1]):
        if tokens[at + 1].token_type != TokenType.L_PAREN:
            continue
        name = _word(token)
        if not name:
            continue
        before = tokens[at - 1] if at else None
        if before is not None and before.token_type == TokenType.DOT:
            raise _refuse(
                f"A model may not call a function through a dot (….{name}); write the name alone."
            )
        previous = (_word(before) or before.text) if before is not None else ""
        if token.token_type != TokenType.IDENTIFIER and (
            name in _SYNTAX_BEFORE_PAREN or previous in pg._AFTER.get(name, ())
        ):
            continue
        if aliases[name] > 0:
            aliases[name] -= 1
            continue
        if name not in allowed:
            raise _not_allowed(name)


def _part(node: exp.Expression | None) -> str:
    return node.name if isinstance(node, exp.Identifier) else ""


def _check_tree(
    tree: exp.Expression,
    allowed: frozenset[str],
    system_schemas: frozenset[str],
    system_prefixes: tuple[str, ...],
) -> Counter:
    """Refuse what a read query must not contain; the names of aliases with column lists,
    each with the number of times it is defined."""
    if not isinstance(tree, exp.Query):
        raise _refuse(f"A model is a read query (SELECT); this is {tree.key.upper()}.")
    aliases: Counter = Counter()
    for node in tree.walk():
        if isinstance(node, pg.WRITES + NOT_READS):
            raise _refuse(f"A model only reads; it contains {node.key.upper()}.")
        if isinstance(node, exp.Into):
            raise _refuse("A model only reads; SELECT … INTO creates a table.")
        if isinstance(node, exp.Lock):
            raise _refuse("A model only reads; FOR UPDATE/SHARE locks rows.")
        if isinstance(node, exp.Placeholder | exp.Parameter):
            raise _refuse("A model takes no parameters; write the values themselves.")
        if isinstance(node, FILE_FUNCTIONS):
            raise _refuse(f"A model may not read or write files ({node.key.upper()}).")
        if isinstance(node, exp.Anonymous):
            name = pg._ascii_lower(node.name)
            if name not in allowed:
                raise _not_allowed(name)
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise _refuse("A model may not call a function through a dot; write the name alone.")
        if isinstance(node, exp.Table):
            _check_table(node, system_schemas, system_prefixes)
        if isinstance(node, exp.TableAlias) and node.columns:
            aliases[pg._ascii_lower(_part(node.this))] += 1
    return aliases


def _check_table(
    node: exp.Table, system_schemas: frozenset[str], system_prefixes: tuple[str, ...]
) -> None:
    parts = [node.args.get("catalog"), node.args.get("db"), node.this]
    if not isinstance(node.this, exp.Identifier | exp.Func):
        raise _refuse(f"A model reads tables by name; {node.this.sql()!r} is not one.")
    names = [_part(p) for p in parts]
    shown = ".".join(n for n in names if n)
    if any(_PATH_CHARACTERS.intersection(n) for n in names):
        raise _refuse(
            f"A model reads tables by name; {shown!r} looks like a file, a URL or a stage."
        )
    lowered = [n.lower() for n in names]
    if any(n in system_schemas for n in lowered) or lowered[2].startswith(system_prefixes):
        raise _refuse(f"A model may not read the system catalog ({shown}).")
    pg.refuse_hash_key(names[2])


def _parse(dialect: Dialect, tokens: list, text: str) -> list[exp.Expression]:
    """sqlglot's trees, with the interpreter's recursion limit raised by what the capped
    nesting may need (as ``apps.syncs.engine.sql`` does for PostgreSQL)."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    with pg._RECURSION_LOCK:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, depth + pg._PARSE_FRAMES))
        try:
            return [t for t in dialect.parser().parse(tokens, text) if t is not None]
        finally:
            sys.setrecursionlimit(limit)


@functools.lru_cache(maxsize=256)
def guard(
    dialect_name: str,
    sql: str,
    allowed: frozenset[str],
    system_schemas: frozenset[str],
    system_prefixes: tuple[str, ...],
) -> str:
    """The model's SQL, stripped of trailing semicolons and comments, if it is one read
    query of ``dialect_name`` calling only ``allowed`` functions; else ApplicationError
    ``invalid_sql``. Remembered per text (a refusal is not)."""
    text = (sql or "").strip()
    if len(text.encode()) > pg.MAX_SQL_BYTES:
        raise _refuse(f"The query is too long: more than {pg.MAX_SQL_BYTES // 1024} KB.")
    dialect = Dialect.get_or_raise(dialect_name)
    try:
        tokens = _one_statement(dialect.tokenize(text))
    except (sqlglot.errors.TokenError, ValueError) as exc:
        raise _refuse(f"The SQL does not parse: {exc}.") from None
    if not tokens:
        raise _refuse("Write a SELECT query.")
    _scan(tokens)
    text = text[: tokens[-1].end + 1]
    if tokens[0].token_type not in _FIRST_TOKENS | {TokenType.L_PAREN}:
        raise _refuse(f"A model is a read query (SELECT); this is {tokens[0].text.upper()}.")
    try:
        trees = _parse(dialect, tokens, text)
    except sqlglot.errors.ParseError as exc:
        found = exc.errors[0] if exc.errors else {}
        where = f" (line {found.get('line')}, column {found.get('col')})" if found else ""
        raise _refuse(f"The SQL does not parse{where}: {found.get('description', exc)}.") from None
    except (sqlglot.errors.TokenError, ValueError) as exc:
        raise _refuse(f"The SQL does not parse: {exc}.") from None
    except RecursionError:
        raise _refuse("The query is nested too deeply.") from None
    if len(trees) != 1:
        raise _refuse(f"A model is one query; this is {len(trees)} statements.")
    _check_statements(tokens)
    aliases = _check_tree(trees[0], allowed, system_schemas, system_prefixes)
    _check_calls(tokens, aliases, allowed)
    return text


_INTEGERS = frozenset(
    [
        "bigint",
        "integer",
        "int",
        "int2",
        "int4",
        "int8",
        "int64",
        "smallint",
        "tinyint",
        "hugeint",
        "byteint",
    ]
)


def console_type(native: str) -> str:
    """The console's column type (``base.COLUMN_TYPES``) of a warehouse's own type name, as
    its information schema spells it: whole numbers (and numbers of scale 0) are integers,
    other numbers floats; JSON, variants and nested types json; anything else unknown a
    string."""
    text = native.strip().lower()
    if "timestamp" in text or text.startswith("datetime"):
        return "timestamp"
    if text.startswith(("json", "variant", "object", "array", "struct", "map")):
        return "json"
    if text.startswith("bool"):
        return "boolean"
    if text in _INTEGERS:
        return "integer"
    if text.startswith(("number", "numeric", "decimal")):
        return "integer" if text.replace(" ", "").endswith(",0)") else "float"
    if any(word in text for word in ("double", "float", "real")):
        return "float"
    return "string"


def _identifier(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _column(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=_identifier(name), table=exp.to_identifier(table) if table else None)


def _text(expression: exp.Expression) -> exp.Expression:
    return exp.cast(expression, exp.DataType.build("text"))


def _model(alias: str) -> exp.Table:
    """Where "(<model>) AS alias" goes in a statement."""
    return exp.Table(
        this=exp.to_identifier(_MODEL), alias=exp.TableAlias(this=exp.to_identifier(alias))
    )


class SqlEngine(Engine):
    """An ``Engine`` over a DB-API connection whose SQL sqlglot writes (``dialect``).

    A vendor's engine sets ``kind``, ``label``, ``dialect`` and ``fields`` and implements
    ``clean``, ``endpoints``, ``reading``, ``version`` and ``query_errors``; for loading,
    ``writing``, ``column_type`` and ``load`` (which may use ``insert_new``)."""

    # Functions this warehouse's models may call besides the shared allowlist.
    functions: ClassVar[frozenset[str]] = frozenset()
    # Schemas (and catalogs) a model may not read, and the prefixes of system tables.
    system_schemas: ClassVar[frozenset[str]] = frozenset({"information_schema", "pg_catalog"})
    system_prefixes: ClassVar[tuple[str, ...]] = ("pg_", "sqlite_")
    # Whether "WITH model(c0, c1) AS (…)" names a query's columns (BigQuery cannot).
    cte_column_names: ClassVar[bool] = True

    # -- the connector ------------------------------------------------------------------

    def query_errors(self) -> tuple[type[BaseException], ...]:
        """The connector's exceptions for a statement that failed (its DB-API ``Error``)."""
        return ()

    def reason(self, error: BaseException, credentials: dict[str, str] | None) -> str:
        """One line saying why a statement failed, without a secret of ``credentials``."""
        text = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        return self.scrub(text, credentials)

    def scrub(self, text: str, credentials: dict[str, str] | None) -> str:
        """``text`` with every secret of ``credentials`` masked."""
        secrets = {f.name for f in self.fields if f.secret}
        for name, value in (credentials or {}).items():
            if name in secrets and value and len(value) >= 4:
                text = text.replace(value, "***")
        return text

    @contextmanager
    def failures(self, credentials: dict[str, str] | None = None):
        """A statement that fails becomes a 400 saying why (``query_failed``), never a 500."""
        try:
            yield
        except self.query_errors() as exc:
            raise ApplicationError(
                f"The query failed: {self.reason(exc, credentials)}",
                code=SyncsErrorCode.QUERY_FAILED,
                status=400,
            ) from None

    # -- SQL ----------------------------------------------------------------------------

    @functools.cached_property
    def allowed_functions(self) -> frozenset[str]:
        return pg.ALLOWED_FUNCTIONS | WAREHOUSE_FUNCTIONS | self.functions

    def check_sql(self, sql: str) -> str:
        return guard(
            self.dialect, sql, self.allowed_functions, self.system_schemas, self.system_prefixes
        )

    def render(self, statement: exp.Expression, model: str | None = None) -> str:
        """``statement`` in this warehouse's dialect, with the model's SQL (as checked) in
        place of its one ``_model`` table."""
        text = statement.sql(dialect=self.dialect)
        if model is None:
            return text
        marker = exp.to_identifier(_MODEL).sql(dialect=self.dialect)
        if text.count(marker) != 1:
            raise LookupError(f"a statement needs exactly one {_MODEL}: {text}")
        return text.replace(marker, f"(\n{model}\n)", 1)

    def text_size(self, expression: exp.Expression) -> exp.Expression:
        """The size in bytes of a text value, in this warehouse's function."""
        return exp.func("OCTET_LENGTH", expression)

    def type_name(self, description: Sequence[Any]) -> str:
        """A result column's type, from its ``cursor.description`` entry."""
        return str(description[1])

    def key_text(self, expression: exp.Expression) -> exp.Expression:
        """The key as text that sorts byte by byte (the warehouse's binary collation)."""
        return _text(expression)

    def fingerprint(self, columns: Sequence[str], table: str) -> exp.Expression:
        """The digest (bytes) of ``columns``' values as text: each written with its length, a
        null as a mark of its own, so no two different rows share the text hashed."""
        parts: list[exp.Expression] = []
        for name in columns:
            value = _text(_column(name, table))
            parts.append(
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Is(this=value.copy(), expression=exp.Null()),
                            true=exp.Literal.string("-"),
                        )
                    ],
                    default=exp.DPipe(
                        this=exp.DPipe(
                            this=_text(exp.Length(this=value.copy())),
                            expression=exp.Literal.string(":"),
                        ),
                        expression=value,
                    ),
                )
            )
        joined: exp.Expression = exp.Literal.string("")
        for part in parts:
            joined = exp.DPipe(
                this=exp.DPipe(this=joined, expression=exp.Literal.string(",")), expression=part
            )
        return exp.MD5Digest(this=joined)

    # -- reading ------------------------------------------------------------------------

    def preview(self, credentials, sql: str, *, timeout: int, limit: int = 20) -> Preview:
        """The first rows of a model and its columns with their types. The query is
        described first; then each cell travels only when its text is at most
        ``PREVIEW_CELL_BYTES``, with its size beside it, so the warehouse, not the web
        process, holds a value that is too large."""
        base = self.check_sql(sql)
        with self.failures(credentials), self.reading(credentials, timeout=timeout) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute(self.render(exp.select("*").from_(_model("model")).limit(0), base))
                described = list(cursor.description)
                cursor.fetchall()
                rows: list[tuple] = []
                if limit:
                    cursor.execute(self._preview_rows(base, described, limit))
                    rows = [
                        tuple(
                            _too_large(row[2 * i + 1])
                            if row[2 * i + 1] is not None and row[2 * i + 1] > PREVIEW_CELL_BYTES
                            else row[2 * i]
                            for i in range(len(described))
                        )
                        for row in cursor.fetchall()
                    ]
            finally:
                cursor.close()
        columns = [{"name": d[0], "type": self.type_name(d)} for d in described]
        return Preview(columns=columns, rows=rows)

    def _preview_rows(self, base: str, described: list, limit: int) -> str:
        if self.cte_column_names:
            names = [f"c{i}" for i in range(len(described))]
            alias = exp.TableAlias(
                this=exp.to_identifier("model"), columns=[exp.to_identifier(n) for n in names]
            )
            source = exp.select("*").from_(_model("m"))
            columns = [exp.column(n) for n in names]
        else:
            alias = exp.TableAlias(this=exp.to_identifier("model"))
            source = exp.select("*").from_(_model("m"))
            columns = [_column(d[0]) for d in described]
        cells: list[exp.Expression] = []
        for column in columns:
            size = self.text_size(_text(column.copy()))
            cells.append(
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.LTE(
                                this=size, expression=exp.Literal.number(PREVIEW_CELL_BYTES)
                            ),
                            true=column.copy(),
                        )
                    ]
                )
            )
            cells.append(size.copy())
        statement = exp.select(*cells).from_("model").limit(int(limit))
        statement.set("with_", exp.With(expressions=[exp.CTE(this=source, alias=alias)]))
        return self.render(statement, base)

    def check_key(self, credentials, sql: str, key: str, *, timeout: int) -> KeyCheck:
        """Rows, empty keys (null, or text that is blank) and the first duplicated keys."""
        base = self.check_sql(sql)
        column = _column(key, "model")
        present = exp.Nullif(
            this=exp.Trim(this=_text(column.copy())), expression=exp.Literal.string("")
        )
        counts = exp.select(
            exp.Count(this=exp.Star()),
            exp.Sub(this=exp.Count(this=exp.Star()), expression=exp.Count(this=present.copy())),
        ).from_(_model("model"))
        twice = (
            exp.select(_text(column.copy()), exp.Count(this=exp.Star()))
            .from_(_model("model"))
            .where(exp.Not(this=exp.Is(this=present.copy(), expression=exp.Null())))
            .group_by(column.copy())
            .having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
            .order_by(exp.Ordered(this=exp.Count(this=exp.Star()), desc=True))
            .limit(10)
        )
        with self.failures(credentials), self.reading(credentials, timeout=timeout) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute(self.render(counts, base))
                rows, nulls = cursor.fetchone()
                cursor.execute(self.render(twice, base))
                dupes = cursor.fetchall()
            finally:
                cursor.close()
        return KeyCheck(
            rows=int(rows), nulls=int(nulls), duplicates=[(str(k), int(n)) for k, n in dupes]
        )

    def keyed_statement(self, base: str, key: str, hashed: Sequence[str]) -> str:
        """The model's rows in key order: the key as text, the fingerprint of ``hashed``,
        then the model's columns."""
        statement = (
            exp.select(
                exp.alias_(self.key_text(_column(key, "m")), KEY, quoted=True),
                exp.alias_(self.fingerprint(hashed, "m"), PRINT, quoted=True),
                exp.Column(this=exp.Star(), table=exp.to_identifier("m")),
            )
            .from_(_model("m"))
            .order_by(exp.Ordered(this=exp.Literal.number(1)))
        )
        return self.render(statement, base)

    def stream_keyed(
        self,
        credentials,
        sql: str,
        key: str,
        hashed: Sequence[str],
        *,
        timeout: int,
        batch: int = 5000,
    ) -> Iterator[tuple[int, list[tuple]]]:
        statement = self.keyed_statement(self.check_sql(sql), key, hashed)
        with self.failures(credentials), self.reading(credentials, timeout=timeout) as conn:
            cursor = conn.cursor()
            try:
                cursor.execute(statement)
                while rows := cursor.fetchmany(batch):
                    if not isinstance(rows[0][1], bytes | None):
                        rows = [(row[0], bytes(row[1]), *row[2:]) for row in rows]
                    yield 2, rows
            finally:
                cursor.close()

    # -- loading ------------------------------------------------------------------------

    def table_name(self, schema: str, name: str) -> exp.Table:
        return exp.Table(this=_identifier(name), db=_identifier(schema))

    def existing_columns(self, connection: Any, table: Table) -> list[str] | None:
        """The columns ``table`` has in the warehouse, or None when it does not exist."""
        statement = (
            exp.select(exp.column("column_name"))
            .from_(exp.table_("columns", db="information_schema"))
            .where(
                exp.and_(
                    exp.EQ(
                        this=exp.column("table_schema"), expression=exp.Literal.string(table.schema)
                    ),
                    exp.EQ(
                        this=exp.column("table_name"), expression=exp.Literal.string(table.name)
                    ),
                )
            )
            .order_by("ordinal_position")
        )
        cursor = connection.cursor()
        try:
            cursor.execute(self.render(statement))
            names = [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
        return names or None

    def tables(self, connection: Any, schema: str) -> dict[str, dict[str, str]]:
        statement = (
            exp.select(exp.column("table_name"), exp.column("column_name"), exp.column("data_type"))
            .from_(exp.table_("columns", db="information_schema"))
            .where(exp.EQ(this=exp.column("table_schema"), expression=exp.Literal.string(schema)))
            .order_by("table_name", "ordinal_position")
        )
        out: dict[str, dict[str, str]] = {}
        cursor = connection.cursor()
        try:
            cursor.execute(self.render(statement))
            for table, column, native in cursor.fetchall():
                out.setdefault(table, {})[column] = console_type(str(native))
        finally:
            cursor.close()
        return out

    def _definition(self, column: Column) -> exp.ColumnDef:
        return exp.ColumnDef(
            this=_identifier(column.name),
            kind=exp.DataType.build(self.column_type(column.type), dialect=self.dialect),
        )

    def ensure(self, connection: Any, table: Table) -> list[Column]:
        target = self.table_name(table.schema, table.name)
        cursor = connection.cursor()
        try:
            cursor.execute(
                self.render(
                    exp.Create(
                        this=exp.Table(this=_identifier(table.schema)), kind="SCHEMA", exists=True
                    )
                )
            )
            existing = self.existing_columns(connection, table)
            if existing is None:
                cursor.execute(
                    self.render(
                        exp.Create(
                            this=exp.Schema(
                                this=target,
                                expressions=[self._definition(c) for c in table.columns],
                            ),
                            kind="TABLE",
                            exists=True,
                        )
                    )
                )
                return []
            have = set(existing)
            added = [c for c in table.columns if c.name not in have]
            for column in added:
                cursor.execute(
                    self.render(
                        exp.Alter(
                            this=target.copy(),
                            kind="TABLE",
                            actions=[self._definition(column)],
                        )
                    )
                )
            return added
        finally:
            cursor.close()

    def insert_new(self, connection: Any, table: Table, source: exp.Expression | str) -> int:
        """Insert into ``table`` the rows of ``source`` (a table or query with
        ``table.columns``; or ``insert_new_sql``'s statement) whose key it does not hold
        yet, once per key; the rows written."""
        statement = source if isinstance(source, str) else self.insert_new_sql(table, source)
        cursor = connection.cursor()
        try:
            cursor.execute(statement)
            return self.affected(cursor)
        finally:
            cursor.close()

    def insert_new_sql(self, table: Table, source: exp.Expression) -> str:
        """``insert_new``'s statement, in the warehouse's dialect: built once and kept by an
        engine that loads the same table batch after batch.

        The keys already loaded are looked up as those of the table that are among the
        batch's (a semi-join whose lookup side is the batch, a few thousand keys), and only
        those are left out: a ``NOT EXISTS`` against the whole table builds its lookup from
        every key the table holds, which on DuckDB took 20 times as long per batch on a table
        of 2,000,000 rows, and memory growing with it."""
        names = [c.name for c in table.columns]
        target = self.table_name(table.schema, table.name)
        ranked = (
            exp.select(
                *[_column(n) for n in names],
                exp.alias_(
                    exp.Window(
                        this=exp.RowNumber(),
                        partition_by=[_column(table.key)],
                    ),
                    "__martech_n",
                    quoted=True,
                ),
            )
            .from_(source.copy())
            .subquery("s")
        )
        batch_keys = exp.select(_column(table.key)).from_(source.copy())
        loaded = (
            exp.select(_column(table.key, "t"))
            .from_(
                exp.Table(
                    this=target.this.copy(),
                    db=target.args["db"].copy(),
                    alias=exp.TableAlias(this=exp.to_identifier("t")),
                )
            )
            .where(exp.In(this=_column(table.key, "t"), query=batch_keys.subquery()))
        )
        select = (
            exp.select(*[_column(n, "s") for n in names])
            .from_(ranked)
            .where(
                exp.and_(
                    exp.EQ(this=_column("__martech_n", "s"), expression=exp.Literal.number(1)),
                    exp.Not(this=exp.In(this=_column(table.key, "s"), query=loaded.subquery())),
                )
            )
        )
        insert = exp.Insert(
            this=exp.Schema(this=target, expressions=[_identifier(n) for n in names]),
            expression=select,
        )
        return self.render(insert)

    def affected(self, cursor: Any) -> int:
        """Rows the last statement wrote or deleted."""
        return max(int(cursor.rowcount), 0)

    def delete(
        self, connection: Any, table: str, schema: str, column: str, values: Sequence[str]
    ) -> int:
        target = self.table_name(schema, table)
        deleted = 0
        cursor = connection.cursor()
        try:
            for start in range(0, len(values), DELETE_CHUNK):
                chunk = values[start : start + DELETE_CHUNK]
                statement = exp.Delete(
                    this=target.copy(),
                    where=exp.Where(
                        this=exp.In(
                            this=_column(column),
                            expressions=[exp.Literal.string(str(v)) for v in chunk],
                        )
                    ),
                )
                cursor.execute(self.render(statement))
                deleted += self.affected(cursor)
        finally:
            cursor.close()
        return deleted

    def clear(self, connection: Any, table: str, schema: str) -> int:
        cursor = connection.cursor()
        try:
            # WHERE TRUE: BigQuery refuses a DELETE without a WHERE clause
            statement = exp.Delete(
                this=self.table_name(schema, table), where=exp.Where(this=exp.true())
            )
            cursor.execute(self.render(statement))
            return self.affected(cursor)
        finally:
            cursor.close()


def _too_large(size: int) -> str:
    return f"(a value of {size:,} bytes: too large to preview)"
