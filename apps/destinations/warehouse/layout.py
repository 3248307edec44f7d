"""How events are laid out in a warehouse: the tables and columns analysts know from Segment
and RudderStack, worked out from the messages themselves.

Every message lands in the table of its type (``tracks``, ``pages``, ``screens``,
``identifies``, ``groups``, ``aliases``); a track lands again in a table named after its
event (``Order Completed`` -> ``order_completed``), with its properties as columns; an
identify with a user id also updates that user's row of ``users`` (the latest traits win).

Columns:

* every table: ``id`` (the messageId), ``anonymous_id``, ``user_id``, ``timestamp``,
  ``sent_at``, ``original_timestamp``, ``received_at``, ``loaded_at``, and the message's
  ``context`` flattened (``context.page.url`` -> ``context_page_url``);
* ``tracks`` and event tables: ``event`` (the name in snake case) and ``event_text`` (as
  sent); pages and screens: ``name``; groups: ``group_id``; aliases: ``previous_id``;
* properties (tracks' event tables, pages, screens) and traits (identifies, groups, users)
  flattened the same way, each as a column of its own.

Names are snake case (``productId`` -> ``product_id``, ``Order ID`` -> ``order_id``), at most
``MAX_NAME`` bytes (longer ones are cut and given a short hash of the whole, so two long names
stay two columns). A property named like one of the table's own columns lands as
``property_<name>`` (a trait: ``trait_<name>``), never over it.

Types: true/false is ``boolean``, a whole number ``integer`` (one beyond 64 bits a
``float``), any other number ``float``, a string that is an ISO 8601 date-time
``timestamp``, other strings ``string`` (without NUL characters, which PostgreSQL cannot
hold), a list ``json`` (its JSON text). A null makes no column and no value. A column is
never dropped or retyped: a value of another type goes where it fits, or to a column of its
own, reported as a conflict:

* any value into a ``string`` column (as its text; a list or object as JSON), a whole number
  into a ``float`` column, a ``timestamp``'s text into a ``string`` column;
* otherwise into ``<column>_<type>`` (``price_string`` for a string sent where ``price`` is a
  number), created if need be, and the conflict is reported once per batch and column.

Within a batch a new column takes the type of its first value, except that a column seeing
whole and other numbers is a ``float``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson

MAX_NAME = 63  # PostgreSQL's limit, the smallest of the warehouses'
MAX_DEPTH = 8  # nesting flattened into columns; deeper objects land as JSON text

TYPE_TABLES = {
    "track": "tracks",
    "page": "pages",
    "screen": "screens",
    "identify": "identifies",
    "group": "groups",
    "alias": "aliases",
}
USERS = "users"
# The tables the console publishes beside the events (``publish``).
PUBLISHED_TABLES = ("deleted_users", "identity_graph", "profiles", "hash_key")
RESERVED_TABLES = frozenset([*TYPE_TABLES.values(), USERS, *PUBLISHED_TABLES])

COMMON = {
    "id": "string",
    "anonymous_id": "string",
    "user_id": "string",
    "timestamp": "timestamp",
    "sent_at": "timestamp",
    "original_timestamp": "timestamp",
    "received_at": "timestamp",
    "loaded_at": "timestamp",
}
# The columns of each type's table beside ``COMMON`` and the context.
OWN = {
    "track": {"event": "string", "event_text": "string"},
    "page": {"name": "string"},
    "screen": {"name": "string"},
    "identify": {},
    "group": {"group_id": "string"},
    "alias": {"previous_id": "string"},
}
USER_COLUMNS = {"id": "string", "received_at": "timestamp", "loaded_at": "timestamp"}
_BASE = {kind: {**COMMON, **own} for kind, own in OWN.items()}  # each type's own columns
# Where each type's own values come from: (column, message key).
_OWN_FROM = {
    "track": (("event_text", "event"),),
    "page": (("name", "name"),),
    "screen": (("name", "name"),),
    "group": (("group_id", "groupId"),),
    "alias": (("previous_id", "previousId"),),
}
_FLATTENED = {
    "track": ("properties", "property_"),
    "page": ("properties", "property_"),
    "screen": ("properties", "property_"),
    "identify": ("traits", "trait_"),
    "group": ("traits", "trait_"),
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$")


@functools.lru_cache(maxsize=65536)
def snake(name: str) -> str:
    """``Order Completed`` -> ``order_completed``; ``productId`` -> ``product_id``. A name with
    nothing left (only punctuation, or empty) is ``_``; one starting with a digit gets ``_``
    in front. Cut to ``MAX_NAME`` bytes with a hash of the whole when longer."""
    text = _CAMEL.sub("_", name)
    text = _NOT_WORD.sub("_", text.lower()).strip("_") or "_"
    if text[0].isdigit():
        text = f"_{text}"
    if len(text) > MAX_NAME:
        digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
        text = f"{text[: MAX_NAME - 9]}_{digest}"
    return text


def type_of(value) -> str | None:
    """The column type a value asks for; None for a null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "timestamp" if _ISO.match(value) and _timestamp(value) is not None else "string"
    return "json"


# The types of the values a parsed message holds whose column type is their Python type's.
_PLAIN = {bool: "boolean", int: "integer", float: "float"}
# The whole numbers an ``integer`` column holds (64 bits, as every warehouse's); a larger one
# is a ``float``.
_INTEGERS = range(-(2**63), 2**63)


def _plain(kind: type, value) -> tuple[str, object] | None:
    """(type, value) of a boolean or a number; None for any other value."""
    plain = _PLAIN.get(kind)
    if plain == "integer" and value not in _INTEGERS:
        return "float", float(value)
    return None if plain is None else (plain, value)


def _text(value: str) -> str:
    """Text as a column holds it: without NUL characters, which PostgreSQL refuses."""
    return value.replace("\x00", "") if "\x00" in value else value


def _typed(value) -> tuple[str | None, object]:
    """``value``'s column type (``type_of``; a date-time the loader set is a ``timestamp``)
    and its value as a column of that type holds it, parsing a date-time's text once."""
    plain = _plain(type(value), value)
    if plain is not None:
        return plain
    if type(value) is str:
        if _ISO.match(value):
            parsed = _timestamp(value)
            if parsed is not None:
                return "timestamp", parsed
        return "string", _text(value)
    if isinstance(value, dt.datetime):
        return "timestamp", value
    sent = type_of(value)
    return sent, (_convert(value, sent) if sent is not None else None)


def _cells(values: Mapping) -> dict[str, tuple[str, object, object]]:
    """``values`` without nulls, each as (its type, its value as that type, as given)."""
    out = {}
    for name, value in values.items():
        sent, typed = _typed(value)
        if sent is not None:
            out[name] = (sent, typed, value)
    return out


def _timestamp(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=65536)
def _child(prefix: str, key: str) -> str:
    """The column of ``key`` within the object flattened as ``prefix``."""
    return snake(f"{prefix}_{key}" if prefix else str(key))


# The types of parsed JSON that are no object: told apart without asking ``Mapping``, whose
# check costs more than the rest of a value's flattening.
_NOT_OBJECTS = frozenset({str, int, float, bool, list, type(None)})


def _is_object(value) -> bool:
    kind = type(value)
    return kind is dict or (kind not in _NOT_OBJECTS and isinstance(value, Mapping))


_DIGITS = frozenset("0123456789")


def _flatten(value: Mapping, prefix: str, out: dict, depth: int = 0) -> None:
    """``value``'s leaves (``_cells``' cells), each under its column's name: nested objects
    flattened down to ``MAX_DEPTH``, nulls left out. The hot path of a load, so ``_typed``'s
    work is done in line for the usual types."""
    for key, item in value.items():
        name = _child(prefix, key)
        kind = type(item)
        if kind is str:
            # only a text starting with a digit may be a date-time
            if item[:1] in _DIGITS and _ISO.match(item):
                parsed = _timestamp(item)
                if parsed is not None:
                    out[name] = ("timestamp", parsed, item)
                    continue
            out[name] = ("string", _text(item), item)
        elif (plain := _plain(kind, item)) is not None:
            out[name] = (plain[0], plain[1], item)
        elif _is_object(item) and depth < MAX_DEPTH:
            _flatten(item, name, out, depth + 1)
        elif item is not None:
            sent, typed = _typed(item)
            out[name] = (sent, typed, item)


def table_of_event(event: str) -> str:
    """The table a track's event lands in: its name in snake case, ``<name>_events`` when that
    is a table of the layout's own."""
    name = snake(event)
    return f"{name}_events"[:MAX_NAME] if name in RESERVED_TABLES else name


@dataclass
class Conflict:
    table: str
    column: str
    type: str  # the column's
    sent: str  # the value's
    into: str  # the column it went to instead


@dataclass
class TableBatch:
    """One table's rows of a batch: its columns (name -> type, known ones first) and rows as
    dicts of column -> value, converted to the column's type."""

    name: str
    key: str
    columns: dict[str, str] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    added: dict[str, str] = field(default_factory=dict)
    at: dict = field(default_factory=dict, repr=False)  # id -> its row, where ids replace

    def tuples(self) -> list[tuple]:
        """The rows as tuples in ``columns`` order (None where a row has no value)."""
        names = list(self.columns)
        return [tuple(map(row.get, names)) for row in self.rows]


@dataclass
class Layout:
    """A batch laid out: its tables by name, and the type conflicts it met."""

    tables: dict[str, TableBatch] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)


def _convert(value, type_: str):
    """``value`` as a column of ``type_`` holds it (the caller checked that it fits)."""
    if type_ == "timestamp":
        return _timestamp(value)
    if type_ == "json" or (type_ == "string" and not isinstance(value, str)):
        text = orjson.dumps(value).decode()
        return text.replace("\\u0000", "") if "\\u0000" in text else text
    if type_ == "string":
        return _text(value)
    if type_ == "float":
        return float(value)
    return value


def _fits(sent: str, column: str) -> bool:
    return sent == column or column == "string" or (sent, column) == ("integer", "float")


class Planner:
    """Lays out batches against what the warehouse already has (``known``: table -> column
    -> type), remembering what each batch adds."""

    def __init__(self, known: Mapping[str, Mapping[str, str]] | None = None):
        self.known: dict[str, dict[str, str]] = {t: dict(c) for t, c in (known or {}).items()}

    def layout(self, messages: Iterable[Mapping], *, loaded_at: dt.datetime) -> Layout:
        out = Layout()
        reported: set[tuple[str, str]] = set()
        for message in messages:
            kind = message.get("type")
            if kind not in TYPE_TABLES:
                continue
            common = self._common(message, loaded_at)
            values = dict(common)
            for column, key in _OWN_FROM.get(kind, ()):
                if message.get(key) is not None:
                    values[column] = message[key]
            if kind == "track" and message.get("event"):
                values["event"] = table_of_event(str(message["event"]))
            base = _BASE[kind]
            # Each value typed once (``_flatten``), whatever the number of tables it lands in.
            cells = _cells(values)
            if _is_object(message.get("context")):
                context: dict = {}
                _flatten(message["context"], "context", context)
                for name, cell in context.items():
                    if name not in base:
                        cells[name] = cell
            extra, prefix = {}, ""
            if kind in _FLATTENED:
                key, prefix = _FLATTENED[kind]
                given = message.get(key)
                if _is_object(given):
                    _flatten(given, "", extra)
            properties = {}
            for name, cell in extra.items():
                taken = name in base or name in cells
                properties[snake(f"{prefix}{name}") if taken else name] = cell
            # A track's type table carries its context only (its properties go to the
            # event's table); pages and screens carry properties, identifies and groups
            # traits.
            typed = {**cells, **properties} if kind != "track" else cells
            self._add(out, TYPE_TABLES[kind], base, typed, reported)
            if "event" in values:
                self._add(out, values["event"], base, {**cells, **properties}, reported)
            if kind == "identify" and message.get("userId"):
                row = _cells(
                    {
                        "id": message["userId"],
                        "received_at": common.get("received_at"),
                        "loaded_at": loaded_at,
                    }
                )
                row.update((n, c) for n, c in extra.items() if n not in USER_COLUMNS)
                self._add(out, USERS, USER_COLUMNS, row, reported, replace=True)
        return out

    def _common(self, message: Mapping, loaded_at: dt.datetime) -> dict:
        values = {
            "id": message.get("messageId"),
            "anonymous_id": message.get("anonymousId"),
            "user_id": message.get("userId"),
            "loaded_at": loaded_at,
        }
        for column, key in (
            ("timestamp", "timestamp"),
            ("sent_at", "sentAt"),
            ("original_timestamp", "originalTimestamp"),
            ("received_at", "receivedAt"),
        ):
            given = message.get(key)
            # text as the message carries it, or a date-time the loader set
            values[column] = _timestamp(given) if isinstance(given, str) else given
        return {k: v for k, v in values.items() if v is not None}

    def _add(self, out, table, base, cells, reported, *, replace=False) -> None:
        """Add a row of ``cells`` (``_cells``) to ``table``'s batch, its columns made or
        widened as its values ask."""
        batch = out.tables.get(table)
        if batch is None:
            known = self.known.setdefault(table, {})
            batch = out.tables[table] = TableBatch(name=table, key="id", columns=dict(known))
            for name, type_ in base.items():
                if name not in batch.columns:
                    batch.columns[name] = batch.added[name] = type_
                    known[name] = type_
        columns = batch.columns
        # the usual case: known columns, each value of its column's type
        row = {name: cell[1] for name, cell in cells.items() if columns.get(name) == cell[0]}
        if len(row) == len(cells):
            self._append(batch, row, replace)
            return
        for name, (sent, _typed_value, value) in cells.items():
            if name in row:
                continue
            column = name
            have = batch.columns.get(column)
            if have is None:
                self._new_column(batch, column, sent)
            elif (have, sent) == ("integer", "float") and column in batch.added:
                # new in this batch: whole and other numbers make a float column
                batch.columns[column] = batch.added[column] = "float"
                self.known[table][column] = "float"
            elif not _fits(sent, have):
                column = f"{name}_{sent}"[:MAX_NAME]
                if (table, name) not in reported:
                    reported.add((table, name))
                    out.conflicts.append(Conflict(table, name, have, sent, column))
                if batch.columns.get(column) is None:
                    self._new_column(batch, column, sent)
            if isinstance(value, dt.datetime):
                row[column] = value if batch.columns[column] == "timestamp" else value.isoformat()
            else:
                row[column] = _convert(value, batch.columns[column])
        self._append(batch, row, replace)

    @staticmethod
    def _append(batch: TableBatch, row: dict, replace: bool) -> None:
        """Add ``row``; with ``replace``, over the batch's earlier row of its id."""
        if replace:
            at = batch.at.get(row.get("id"))
            if at is not None:
                batch.rows[at] = {**batch.rows[at], **row}
                return
            batch.at[row.get("id")] = len(batch.rows)
        batch.rows.append(row)

    def _new_column(self, batch: TableBatch, column: str, sent: str) -> None:
        batch.columns[column] = batch.added[column] = sent
        self.known.setdefault(batch.name, {})[column] = sent
