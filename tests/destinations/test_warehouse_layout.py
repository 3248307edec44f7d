"""The warehouse layout: Segment's and RudderStack's tables and columns, from the messages."""

from __future__ import annotations

import datetime as dt

from apps.destinations.warehouse.layout import MAX_NAME, Planner, snake, table_of_event

AT = dt.datetime(2026, 12, 7, 6, 0, tzinfo=dt.UTC)


def _track(event_name="Order Completed", **properties):
    return {
        "type": "track",
        "messageId": "m-1",
        "anonymousId": "a-1",
        "userId": "u-1",
        "event": event_name,
        "properties": properties,
        "context": {"page": {"url": "https://acme.example/checkout"}, "ip": "203.0.113.9"},
        "timestamp": "2026-12-07T05:59:00Z",
        "receivedAt": AT,
    }


def test_a_track_lands_in_tracks_with_its_context_and_in_its_event_table_with_properties():
    layout = Planner().layout([_track(orderId="o-9", revenue=42.5, currency="EUR")], loaded_at=AT)

    tracks = layout.tables["tracks"]
    (row,) = tracks.rows
    assert row["event"] == "order_completed"
    assert row["event_text"] == "Order Completed"
    assert row["context_page_url"] == "https://acme.example/checkout"
    assert row["timestamp"] == dt.datetime(2026, 12, 7, 5, 59, tzinfo=dt.UTC)
    assert "order_id" not in tracks.columns  # properties go to the event's table
    (event_row,) = layout.tables["order_completed"].rows
    assert event_row["order_id"] == "o-9"
    assert event_row["revenue"] == 42.5
    assert layout.tables["order_completed"].columns["revenue"] == "float"
    assert event_row["id"] == "m-1"
    assert event_row["context_ip"] == "203.0.113.9"


def test_a_page_carries_its_properties_and_nested_objects_flatten_lists_become_json():
    page = {
        "type": "page",
        "messageId": "p-1",
        "anonymousId": "a-1",
        "name": "Pricing",
        "properties": {"path": "/pricing", "plan": {"tier": "pro", "seats": 5}, "tags": ["a", 1]},
        "context": {"campaign": {"source": "news", "medium": "email"}},
    }

    (row,) = Planner().layout([page], loaded_at=AT).tables["pages"].rows

    assert row["path"] == "/pricing"
    assert row["plan_tier"] == "pro"
    assert row["plan_seats"] == 5
    assert row["tags"] == '["a",1]'
    assert row["context_campaign_medium"] == "email"
    assert row["name"] == "Pricing"


def test_an_identify_updates_the_users_row_and_the_latest_traits_win_within_a_batch():
    first = {"type": "identify", "messageId": "i-1", "userId": "u-1", "traits": {"plan": "free"}}
    second = {
        "type": "identify",
        "messageId": "i-2",
        "userId": "u-1",
        "traits": {"plan": "pro", "firstName": "Ana"},
    }

    layout = Planner().layout([first, second], loaded_at=AT)

    assert [r["plan"] for r in layout.tables["identifies"].rows] == ["free", "pro"]
    (user,) = layout.tables["users"].rows
    assert (user["id"], user["plan"], user["first_name"]) == ("u-1", "pro", "Ana")


def test_names_are_snake_case_cut_with_a_hash_and_a_property_never_overwrites_an_own_column():
    assert snake("productId") == "product_id"
    assert snake("Order ID") == "order_id"
    assert snake("HTMLParser") == "html_parser"
    assert snake("3d secure") == "_3d_secure"
    assert snake("!!!") == "_"
    long_a, long_b = snake("x" * 80 + "a"), snake("x" * 80 + "b")
    assert len(long_a) == MAX_NAME
    assert long_a != long_b
    assert table_of_event("Pages") == "pages_events"

    (row,) = (
        Planner()
        .layout([_track(id="p-7", event="spoof")], loaded_at=AT)
        .tables["order_completed"]
        .rows
    )
    assert row["id"] == "m-1"
    assert row["property_id"] == "p-7"
    assert row["property_event"] == "spoof"
    assert row["event"] == "order_completed"


def test_a_value_of_another_type_goes_to_a_suffixed_column_and_is_reported_once():
    planner = Planner({"order_completed": {"id": "string", "revenue": "float", "sku": "integer"}})

    layout = planner.layout(
        [
            _track(revenue=10, sku=123),
            _track(revenue=11.5, sku="SKU-9"),
            _track(revenue=12, sku="SKU-10"),
        ],
        loaded_at=AT,
    )

    table = layout.tables["order_completed"]
    assert [r.get("sku") for r in table.rows] == [123, None, None]
    assert [r.get("sku_string") for r in table.rows] == [None, "SKU-9", "SKU-10"]
    assert [r["revenue"] for r in table.rows] == [10.0, 11.5, 12.0]  # whole numbers fit a float
    assert table.columns["sku"] == "integer"  # never retyped
    assert table.added["sku_string"] == "string"
    assert [(c.table, c.column, c.type, c.sent, c.into) for c in layout.conflicts] == [
        ("order_completed", "sku", "integer", "string", "sku_string")
    ]
    # the planner remembers what it added: the next batch meets the column as known
    assert (
        "sku_string"
        not in planner.layout([_track(sku="x")], loaded_at=AT).tables["order_completed"].added
    )


def test_a_new_column_seeing_whole_and_other_numbers_is_a_float_and_strings_take_anything():
    layout = Planner({"order_completed": {"note": "string"}}).layout(
        [_track(qty=1, note=5), _track(qty=2.5, note=["x", 1])], loaded_at=AT
    )

    table = layout.tables["order_completed"]
    assert table.columns["qty"] == "float"
    assert [r["note"] for r in table.rows] == ["5", '["x",1]']
    assert layout.conflicts == []


def test_a_null_makes_no_column_and_known_columns_are_kept_in_order():
    planner = Planner({"tracks": {"legacy_column": "string", "id": "string"}})

    table = planner.layout([_track(coupon=None)], loaded_at=AT).tables["tracks"]

    assert list(table.columns)[:2] == ["legacy_column", "id"]
    assert (
        "coupon"
        not in planner.layout([_track(coupon=None)], loaded_at=AT).tables["order_completed"].columns
    )
    assert table.tuples()[0][0] is None  # the known column, empty for this row


def test_a_track_without_an_event_name_and_a_message_of_no_known_type_make_no_table_of_their_own():
    nameless = {**_track(), "event": ""}
    unknown = {"type": "log", "messageId": "x-1"}

    layout = Planner().layout([nameless, unknown], loaded_at=AT)

    assert list(layout.tables) == ["tracks"]
    assert "event" not in layout.tables["tracks"].rows[0]


def test_a_number_beyond_64_bits_is_a_float_and_text_loses_its_nul_characters():
    """Values every warehouse can hold: a batch with either would otherwise fail at each
    load, and every event after it would wait behind it."""
    layout = Planner().layout(
        [
            _track(
                big=2**63,
                small=-(2**63),
                note="gift\x00wrap",
                tags=["a\x00b"],
                nested={"deep": "x\x00"},
            )
        ],
        loaded_at=AT,
    )

    table = layout.tables["order_completed"]
    (row,) = table.rows
    assert (table.columns["big"], row["big"]) == ("float", float(2**63))
    assert (table.columns["small"], row["small"]) == ("integer", -(2**63))
    assert (row["note"], row["tags"], row["nested_deep"]) == ("giftwrap", '["ab"]', "x")


def test_a_number_beyond_64_bits_sent_where_a_column_holds_whole_numbers_goes_aside():
    planner = Planner({"order_completed": {"id": "string", "quantity": "integer"}})

    layout = planner.layout([_track(quantity=2**64)], loaded_at=AT)

    (row,) = layout.tables["order_completed"].rows
    assert row["quantity_float"] == float(2**64)
    assert [(c.column, c.sent, c.into) for c in layout.conflicts] == [
        ("quantity", "float", "quantity_float")
    ]
