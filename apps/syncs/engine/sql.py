"""What a model's SQL may be: one read query that calls only functions a marketer's model
needs. Anything else is refused with a reason (``invalid_sql``) before a warehouse sees it.

The check has three layers; each known way to reach a refused function is stopped by at
least two of them:

1. A linear scan with PostgreSQL's own lexical rules (``_lex``), before any parsing: size,
   token count and nesting limits (so a huge or deeply nested query is a 400, never a
   RecursionError or seconds of CPU); constructs whose meaning a checker could get wrong are
   refused (``U&`` escapes and ``UESCAPE``, dollar quoting, nested comments, ``\\'`` in a
   string, ``OPERATOR(…)``); every name written before ``(`` is a function call unless it
   is a keyword or an alias with a column list, and must be on ``ALLOWED_FUNCTIONS``,
   compared the way PostgreSQL resolves it (unquoted: ASCII lower case; quoted: exactly).
2. sqlglot (PostgreSQL dialect) parses the same text; its tokens must cover exactly the
   words, strings and quoted identifiers the scan found, so both read the same query.
3. The tree: one read query, no writes (also in CTEs), no ``SELECT … INTO``, no row locks,
   no schema-qualified function, no system catalog tables, no table named ``hash_key`` (a
   warehouse destination's key, shown once to those who manage destinations: its models read
   it in the warehouse, never a preview), every unknown function allowed.

The warehouse connection is the hard boundary (a read-only role, a read-only transaction
and a statement timeout); this check is the second wall, and the first one a user sees.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from apps.syncs.errors import SyncsErrorCode
from martech.common.errors import ApplicationError

MAX_SQL_BYTES = 64 * 1024
MAX_TOKENS = 10_000
# Parentheses and CASE … END open at once (sqlglot's parser recurses on each).
MAX_DEPTH = 32
# Brackets open at once: PostgreSQL's own limit on array dimensions. sqlglot's time grows
# exponentially with nested ARRAY[…] (16 levels take seconds).
MAX_BRACKET_DEPTH = 6
# NOT / unary operators in a row (the parser recurses on each).
MAX_PREFIX_RUN = 32
# PostgreSQL truncates longer identifiers (NAMEDATALEN - 1); refused rather than truncated.
MAX_IDENTIFIER_BYTES = 63

WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Copy,
    exp.TruncateTable,
)


def _names(*lines: str) -> frozenset[str]:
    return frozenset(name for line in lines for name in line.split())


# What a marketer's model uses. Nothing that reads files, signals or sleeps, takes locks,
# notifies, touches large objects, reads or sets settings, opens connections, or runs SQL
# text (query_to_xml and friends): a name not here is refused. No pg_* function is needed.
ALLOWED_FUNCTIONS = _names(
    # aggregates
    "count sum avg min max bool_and bool_or every string_agg array_agg json_agg jsonb_agg "
    "json_object_agg jsonb_object_agg stddev stddev_pop stddev_samp variance var_pop var_samp "
    "percentile_cont percentile_disc mode corr covar_pop covar_samp bit_and bit_or grouping "
    "any_value "
    # window functions
    "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value "
    "nth_value "
    # strings
    "lower upper initcap length char_length character_length octet_length bit_length trim "
    "ltrim rtrim btrim substring substr position strpos replace translate left right lpad "
    "rpad concat concat_ws split_part reverse starts_with overlay format regexp_replace "
    "regexp_match regexp_matches regexp_split_to_array regexp_split_to_table regexp_like "
    "regexp_count regexp_instr regexp_substr chr ascii to_hex encode decode convert_from "
    "convert_to string_to_array array_to_string string_to_table normalize unaccent "
    "to_char to_number "
    # hashing
    "md5 sha224 sha256 sha384 sha512 digest "
    # date and time
    "now current_date current_time current_timestamp localtime localtimestamp "
    "clock_timestamp statement_timestamp transaction_timestamp date_trunc date_part extract "
    "date_bin age make_date make_time make_timestamp make_timestamptz make_interval "
    "justify_days justify_hours justify_interval isfinite to_date to_timestamp timezone "
    # maths
    "abs ceil ceiling floor round trunc mod power pow sqrt cbrt exp ln log log10 sign div "
    "random width_bucket pi degrees radians gcd lcm scale "
    # conditionals
    "coalesce nullif greatest least num_nulls num_nonnulls row "
    # JSON and JSONB
    "to_json to_jsonb row_to_json array_to_json json_build_object jsonb_build_object "
    "json_build_array jsonb_build_array json_object jsonb_object json_extract_path "
    "json_extract_path_text jsonb_extract_path jsonb_extract_path_text json_array_length "
    "jsonb_array_length json_typeof jsonb_typeof json_array_elements jsonb_array_elements "
    "json_array_elements_text jsonb_array_elements_text json_each jsonb_each json_each_text "
    "jsonb_each_text json_object_keys jsonb_object_keys jsonb_set jsonb_insert "
    "jsonb_strip_nulls json_strip_nulls jsonb_pretty jsonb_path_query jsonb_path_query_first "
    "jsonb_path_query_array jsonb_path_exists jsonb_path_match json_to_record jsonb_to_record "
    "json_to_recordset jsonb_to_recordset "
    # arrays and sets
    "array_length array_position array_positions array_remove array_replace array_append "
    "array_prepend array_cat array_upper array_lower cardinality unnest generate_series "
    # casts and type constructors (also the type names written with a modifier)
    "cast date text int2 int4 int8 float4 float8 numeric decimal dec bool varchar char "
    "character varying nchar bpchar bit timestamp timestamptz time timetz interval float "
    "gen_random_uuid "
    # the embedded (SQLite) console warehouse
    "ifnull iif instr strftime julianday datetime unixepoch printf group_concat total "
    "json_extract json_array",
)

# Keywords PostgreSQL may read before "(" without calling a function. Those that are not
# reserved (and so could name a function) count only after the word their syntax needs.
_RESERVED_BEFORE_PAREN = _names(
    "all and any array as between by case distinct else except exists for from in "
    "having intersect is join lateral like ilike limit not offset on only or overlaps row "
    "select similar some symmetric then to union using values when where with",
)
_AFTER = {
    "over": {")"},
    "filter": {")"},
    "group": {"within"},
    "system": {"tablesample"},
    "bernoulli": {"tablesample"},
    "repeatable": {")"},
    "zone": {"time"},
    "sets": {"grouping"},
    "rollup": {"by", ",", "("},
    "cube": {"by", ",", "("},
    "materialized": {"as", "not"},
    "recursive": {"with"},
    "first": {"fetch"},
    "next": {"fetch"},
}
_FIRST_WORDS = frozenset({"select", "with", "values"})
# Types whose input looks a name up in the system catalog ('pg_read_file'::regproc,
# 'django_session'::regclass): a lookup by name, whatever the syntax (::, CAST, type 'text',
# a column definition list).
_CATALOG_TYPES = _names(
    "regclass regcollation regconfig regdictionary regnamespace regoper regoperator regproc "
    "regprocedure regrole regtype",
)
# Functions PostgreSQL calls when a whole row is written with attribute notation
# (t.pg_typeof is pg_typeof(t)): no "(" follows, so the scan of calls does not see them.
# The ones a role may run that are not on ALLOWED_FUNCTIONS; every pg_* name besides.
_WHOLE_ROW_FUNCTIONS = _names(
    "any_out anyelement_out anynonarray_out anycompatible_out anycompatiblenonarray_out "
    "hash_record hash_record_extended record_out record_send record_in record_recv "
    "quote_literal quote_nullable quote_ident",
)
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
# The table a warehouse destination publishes its hash key in (in any schema).
HASH_KEY_TABLE = "hash_key"

_SPACE = " \t\n\r\f"
_OP_CHARS = frozenset("~!@#^&|`?+-*/%<>=")
_PUNCT = frozenset("()[],;:.")
_STRING_PREFIXES = frozenset("eEbBxXnN")
_WORD_RE = re.compile(r"[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*")
_NEWLINE_RE = re.compile(r"[\n\r]")  # either ends a -- comment
# ASCII digits only: PostgreSQL reads any other character above 0x7f as part of a name.
_DIGITS = frozenset("0123456789")
_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_POSTGRES = Dialect.get_or_raise("postgres")
# Frames sqlglot may need for a query at the limits: ~50 per level, ~10 per prefix NOT.
_PARSE_FRAMES = 200 + 60 * MAX_DEPTH + 12 * MAX_PREFIX_RUN
_RECURSION_LOCK = threading.Lock()


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, code=SyncsErrorCode.INVALID_SQL)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # word (unquoted name or keyword), ident (quoted name), string, number, op, punct
    start: int
    end: int  # exclusive
    name: str = ""  # word: ASCII lower case; ident: unescaped; punct/op: the text


def _ascii_lower(name: str) -> str:
    """How PostgreSQL folds an unquoted name: ASCII letters only."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _where(text: str, at: int) -> str:
    line = text.count("\n", 0, at) + 1
    return f"line {line}, column {at - (text.rfind(chr(10), 0, at) + 1) + 1}"


def _lex(text: str) -> list[_Token]:
    """The significant tokens of ``text`` as PostgreSQL's lexer reads them; refuses what is
    too big, too deep or ambiguous. Linear in the length of the text."""
    tokens: list[_Token] = []
    parens = cases = brackets = prefix_run = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
            continue
        if text.startswith("--", i):
            newline = _NEWLINE_RE.search(text, i)
            i = newline.start() if newline else n
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _refuse(f"A comment is not closed ({_where(text, i)}).")
            if text.find("/*", i + 2, end) >= 0:
                raise _refuse(f"Nested comments are not allowed ({_where(text, i)}).")
            i = end + 2
            continue
        if len(tokens) >= MAX_TOKENS:
            raise _refuse(f"The query is too long: more than {MAX_TOKENS:,} tokens.")
        if c in "uU" and text.startswith("&", i + 1) and text[i + 2 : i + 3] in ("'", '"'):
            raise _refuse(
                f"U& (Unicode escape) strings and names are not allowed "
                f"({_where(text, i)}); write the characters themselves."
            )
        if c in _STRING_PREFIXES and text[i + 1 : i + 2] == "'":
            tokens.append(_string(text, i, i + 1, doubled=c not in "bBxX"))
            i = tokens[-1].end
            prefix_run = 0
            continue
        if c == "'":
            tokens.append(_string(text, i, i, doubled=True))
            i = tokens[-1].end
            prefix_run = 0
            continue
        if c == '"':
            tokens.append(_quoted_name(text, i))
            i = tokens[-1].end
            prefix_run = 0
            continue
        if c == "$":
            raise _refuse(
                f"$ is not allowed outside a string ({_where(text, i)}): write "
                "strings in single quotes; a model takes no parameters."
            )
        if c in _DIGITS or (c == "." and text[i + 1 : i + 2] in _DIGITS):
            match = _NUMBER_RE.match(text, i)
            end = match.end()
            if end < n and (_WORD_RE.match(text, end) or text[end] in "$."):
                raise _refuse(f"A number runs into a name ({_where(text, i)}).")
            tokens.append(_Token("number", i, end))
            i = end
            prefix_run = 0
            continue
        match = _WORD_RE.match(text, i)
        if match:
            end = match.end()
            if end < n and text[end] == "$":
                raise _refuse(f"$ is not allowed in a name ({_where(text, i)}).")
            word = match.group()
            if len(word.encode()) > MAX_IDENTIFIER_BYTES:
                raise _refuse(
                    f"A name is longer than {MAX_IDENTIFIER_BYTES} bytes ({_where(text, i)})."
                )
            name = _ascii_lower(word)
            if name == "uescape":
                raise _refuse(f"UESCAPE is not allowed ({_where(text, i)}).")
            if name == "case":
                cases += 1
                if parens + cases > MAX_DEPTH:
                    raise _too_deep(text, i)
            elif name == "end" and cases:
                cases -= 1
            prefix_run = prefix_run + 1 if name == "not" else 0
            if prefix_run > MAX_PREFIX_RUN:
                raise _too_deep(text, i)
            tokens.append(_Token("word", i, end, name))
            i = end
            continue
        if c in _OP_CHARS:
            prefix_run += 1
            if prefix_run > MAX_PREFIX_RUN:
                raise _too_deep(text, i)
            tokens.append(_Token("op", i, i + 1, c))
            i += 1
            continue
        if c in _PUNCT:
            if c == "(":
                parens += 1
                if parens + cases > MAX_DEPTH:
                    raise _too_deep(text, i)
            elif c == ")":
                parens -= 1
                if parens < 0:
                    raise _refuse(f"A ) has no matching ( ({_where(text, i)}).")
            elif c == "[":
                brackets += 1
                if brackets > MAX_BRACKET_DEPTH:
                    raise _refuse(
                        f"Arrays are nested more than {MAX_BRACKET_DEPTH} deep ({_where(text, i)})."
                    )
            elif c == "]":
                brackets = max(brackets - 1, 0)
            prefix_run = 0
            tokens.append(_Token("punct", i, i + 1, c))
            i += 1
            continue
        raise _refuse(f"Unexpected character {c!r} ({_where(text, i)}).")
    if parens:
        raise _refuse("The parentheses are not balanced.")
    return tokens


def _too_deep(text: str, at: int) -> ApplicationError:
    return _refuse(
        f"The query is nested too deeply: more than {MAX_DEPTH} levels ({_where(text, at)})."
    )


def _string(text: str, start: int, quote: int, *, doubled: bool) -> _Token:
    """A '…' literal from its prefix at ``start``; '' is a quote inside unless it is a bit
    string. A backslash before a quote is refused: PostgreSQL reads it as an escape in E''
    strings (and in every string when standard_conforming_strings is off), so where such a
    string ends would depend on the server."""
    i = quote + 1
    while True:
        end = text.find("'", i)
        if end < 0:
            raise _refuse(f"A string is not closed ({_where(text, start)}).")
        if text[end - 1] == "\\":
            raise _refuse(
                f"A backslash before a quote is not allowed in a string "
                f"({_where(text, end)}); write '' for a quote."
            )
        if doubled and text.startswith("'", end + 1):
            i = end + 2
            continue
        return _Token("string", start, end + 1)


def _quoted_name(text: str, start: int) -> _Token:
    i, parts = start + 1, []
    while True:
        end = text.find('"', i)
        if end < 0:
            raise _refuse(f"A quoted name is not closed ({_where(text, start)}).")
        parts.append(text[i:end])
        if text.startswith('"', end + 1):
            parts.append('"')
            i = end + 2
            continue
        name = "".join(parts)
        if not name:
            raise _refuse(f'"" is not a name ({_where(text, start)}).')
        if len(name.encode()) > MAX_IDENTIFIER_BYTES:
            raise _refuse(
                f"A name is longer than {MAX_IDENTIFIER_BYTES} bytes ({_where(text, start)})."
            )
        return _Token("ident", start, end + 1, name)


def _statement_end(text: str, tokens: list[_Token]) -> int:
    """Where the query ends: trailing semicolons and comments dropped; a semicolon before
    that is a second statement."""
    last = len(tokens)
    while last and tokens[last - 1].kind == "punct" and tokens[last - 1].name == ";":
        last -= 1
    separators = sum(1 for t in tokens[:last] if t.kind == "punct" and t.name == ";")
    if separators:
        raise _refuse(f"A model is one query; this is {separators + 1} statements.")
    del tokens[last:]
    return tokens[-1].end if tokens else 0


def _same_reading(text: str, tokens: list[_Token], parsed: list) -> None:
    """sqlglot must see the same words, strings and quoted names at the same places."""
    ours = [(t.start, t.end) for t in tokens if t.kind in ("word", "ident", "string")]
    theirs = []
    for token in parsed:
        if token.token_type == TokenType.NUMBER:
            continue
        first = text[token.start : token.start + 1]
        if not (first in "'\"_" or first.isalpha() or first >= "\x80"):
            continue
        source = text[token.start : token.end + 1]
        if (
            token.token_type in (TokenType.IDENTIFIER,)
            or first in "'\""
            or (len(source) > 1 and source[1] == "'")
        ):
            theirs.append((token.start, token.end + 1))
            continue
        # keywords of several words (GROUP BY, DOUBLE PRECISION) are one token there
        theirs.extend(
            (token.start + m.start(), token.start + m.end()) for m in re.finditer(r"\S+", source)
        )
    if ours != theirs:
        raise _refuse(
            "The query uses syntax that cannot be checked safely (the words, strings "
            "and names could be read two ways)."
        )


def _function_name(node: exp.Anonymous) -> str:
    this = node.this
    if isinstance(this, exp.Identifier):
        return this.this if this.quoted else _ascii_lower(this.this)
    return _ascii_lower(str(this))


def _identifier(node: exp.Expression | None) -> str:
    if not isinstance(node, exp.Identifier):
        return ""
    return node.this if node.quoted else _ascii_lower(node.this)


def _check_tree(tree: exp.Expression) -> Counter:
    """Refuse what a read query must not contain; the names of aliases with column lists,
    each with the number of times it is defined."""
    if not isinstance(tree, exp.Query):
        raise _refuse(f"A model is a read query (SELECT); this is {tree.key.upper()}.")
    aliases: Counter = Counter()
    for node in tree.walk():
        if isinstance(node, WRITES):
            raise _refuse(f"A model only reads; it contains {node.key.upper()}.")
        if isinstance(node, exp.Into):
            raise _refuse("A model only reads; SELECT … INTO creates a table.")
        if isinstance(node, exp.Lock):
            raise _refuse("A model only reads; FOR UPDATE/SHARE locks rows.")
        if isinstance(node, exp.Anonymous):
            name = _function_name(node)
            if name not in ALLOWED_FUNCTIONS:
                raise _refuse(
                    f"A model may not call {name}(); it may use aggregates, window, "
                    "string, date, maths, JSON, array and conditional functions "
                    "and casts."
                )
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise _refuse("A model may not call a schema-qualified function; write the name alone.")
        if isinstance(node, exp.Table):
            parts = [
                _identifier(p).lower()
                for p in (node.args.get("catalog"), node.args.get("db"), node.this)
            ]
            schema, name = parts[1], parts[2]
            if (
                schema in _SYSTEM_SCHEMAS
                or name in _SYSTEM_SCHEMAS
                or parts[0] in _SYSTEM_SCHEMAS
                or name.startswith(("pg_", "sqlite_"))
            ):
                shown = ".".join(p for p in parts if p)
                raise _refuse(f"A model may not read the system catalog ({shown}).")
            refuse_hash_key(name)
        if isinstance(node, exp.TableAlias) and node.columns:
            aliases[_identifier(node.this)] += 1
    return aliases


def refuse_hash_key(name: str) -> None:
    """Refuse a table named ``hash_key``, quoted or not, in any case."""
    if name.lower() == HASH_KEY_TABLE:
        raise _refuse(
            "A model may not read hash_key: the hash key is read in the warehouse, "
            "not through the console."
        )


def _check_names(tokens: list[_Token]) -> None:
    """No name of a catalog-lookup type, and no function reached by attribute notation."""
    for at, token in enumerate(tokens):
        if token.kind not in ("word", "ident"):
            continue
        if token.name in _CATALOG_TYPES:
            raise _refuse(
                f"A model may not use the {token.name} type: it looks names up in the "
                "system catalog."
            )
        after_dot = at > 0 and tokens[at - 1].name == "."
        if after_dot and (
            token.name in _WHOLE_ROW_FUNCTIONS
            or (token.name.startswith("pg_") and token.name not in ALLOWED_FUNCTIONS)
        ):
            raise _refuse(
                f"A model may not call {token.name}() by attribute notation (….{token.name})."
            )


def _check_calls(tokens: list[_Token], aliases: Counter) -> None:
    """Every name before "(" is a keyword, an alias with its column list, or an allowed
    function, read as PostgreSQL resolves it."""
    for at, token in enumerate(tokens[:-1]):
        following = tokens[at + 1]
        if token.kind not in ("word", "ident") or following.name != "(":
            continue
        before = tokens[at - 1].name if at else ""
        name = token.name
        if token.kind == "word" and name == "operator":
            raise _refuse("OPERATOR(…) is not allowed; write the operator itself.")
        if before == ".":
            raise _refuse(
                f"A model may not call a schema-qualified function (….{name}); "
                "write the name alone."
            )
        if token.kind == "word" and (
            name in _RESERVED_BEFORE_PAREN or before in _AFTER.get(name, ())
        ):
            continue
        if aliases[name] > 0:
            aliases[name] -= 1
            continue
        if name not in ALLOWED_FUNCTIONS:
            raise _refuse(
                f"A model may not call {name}(); it may use aggregates, window, "
                "string, date, maths, JSON, array and conditional functions and "
                "casts."
            )


def _parse(text: str) -> tuple[list, list[exp.Expression]]:
    """sqlglot's tokens and trees. Its parser recurses up to ~50 Python frames per level of
    nesting; the lexer has capped the levels, so the frames it may need are known and the
    interpreter's limit is raised by that much for the call (and put back after)."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    with _RECURSION_LOCK:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, depth + _PARSE_FRAMES))
        try:
            tokens = _POSTGRES.tokenize(text)
            return tokens, [t for t in _POSTGRES.parser().parse(tokens, text) if t is not None]
        finally:
            sys.setrecursionlimit(limit)


def parse_checked(sql: str) -> tuple[str, exp.Expression]:
    """The query (as ``check_sql`` returns it) and its sqlglot tree (PostgreSQL dialect),
    if it is a single read query that passes every check; else ApplicationError
    ``invalid_sql``."""
    text = (sql or "").strip()
    if len(text.encode()) > MAX_SQL_BYTES:
        raise _refuse(f"The query is too long: more than {MAX_SQL_BYTES // 1024} KB.")
    tokens = _lex(text)
    text = text[: _statement_end(text, tokens)]
    if not tokens:
        raise _refuse("Write a SELECT query.")
    try:
        parsed, trees = _parse(text)
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
    _same_reading(text, tokens, parsed)
    first = tokens[0]
    if first.name not in _FIRST_WORDS and first.name != "(":
        shown = text[first.start : first.end].upper()
        raise _refuse(f"A model is a read query (SELECT); this is {shown}.")
    aliases = _check_tree(trees[0])
    _check_names(tokens)
    _check_calls(tokens, aliases)
    return text, trees[0]


@functools.lru_cache(maxsize=256)
def check_sql(sql: str) -> str:
    """The SQL, stripped of trailing semicolons and comments, if it is a single read query
    that calls only allowed functions; else ApplicationError ``invalid_sql``.

    Remembered per text (a refusal is not): a model is checked on create, preview, key check
    and every run, and the answer for the same text never changes."""
    return parse_checked(sql)[0]
