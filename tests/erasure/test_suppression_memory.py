"""The suppression list kept in each process's memory under a shared generation: it answers
without the database, forgets when any process adds to the list, and never keeps what a
transaction added but did not commit."""

import pytest
from django.db import connection, transaction

from apps.erasure import suppression
from apps.erasure.models import Suppression
from apps.erasure.suppression import GENERATION, current_key_id, digest, suppressed_subjects
from martech.common import sharedcache

pytestmark = pytest.mark.django_db(transaction=True)


def _insert_as_another_process(kind: str, value: str) -> None:
    """A row written the way another process's commit arrives here: no signal in this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO erasure_suppression (value_hash, key_id, type, created_at) "
            "VALUES (%s, %s, %s, now())",
            [digest(kind, value), current_key_id(), kind],
        )


def test_the_list_answers_from_memory_until_its_generation_moves():
    assert suppressed_subjects({"email:gone@acme.example"}) == set()
    _insert_as_another_process("email", "gone@acme.example")
    # Same generation: this process still answers from what it read.
    assert suppressed_subjects({"email:gone@acme.example"}) == set()
    sharedcache.bump(GENERATION)  # what the other process's commit does
    assert suppressed_subjects({"email:gone@acme.example"}) == {"email:gone@acme.example"}


def test_an_addition_in_this_process_is_seen_at_once():
    assert suppressed_subjects({"user_id:u-1"}) == set()
    Suppression.objects.create(value_hash=digest("user_id", "u-1"), type="user_id")
    assert suppressed_subjects({"user_id:u-1", "user_id:u-2"}) == {"user_id:u-1"}


def test_a_rolled_back_addition_never_enters_the_memory():
    assert suppressed_subjects({"user_id:u-9"}) == set()
    seen_inside = None
    try:
        with transaction.atomic():
            Suppression.objects.create(value_hash=digest("user_id", "u-9"), type="user_id")
            seen_inside = suppressed_subjects({"user_id:u-9"})
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    # The transaction saw its own addition (from the database, not the memory)...
    assert seen_inside == {"user_id:u-9"}
    # ...and once it rolled back, nobody does.
    assert suppressed_subjects({"user_id:u-9"}) == set()
    assert suppression._memory is not None
    assert suppression._memory[1] == frozenset()


def test_a_list_longer_than_the_memory_limit_is_asked_of_the_database(monkeypatch):
    monkeypatch.setattr(suppression, "MEMORY_LIMIT", 1)
    _insert_as_another_process("user_id", "a")
    _insert_as_another_process("user_id", "b")
    sharedcache.bump(GENERATION)
    assert suppressed_subjects({"user_id:b", "user_id:c"}) == {"user_id:b"}
    assert suppression._memory[1] is None  # nothing kept: the database answered


def test_the_rate_counter_counts_within_its_window_on_the_shared_cache():
    assert [sharedcache.hit("test:counter", window=5) for _ in range(3)] == [1, 2, 3]
    assert sharedcache.hit("test:other", window=5) == 1


def test_with_a_cache_of_this_process_only_every_check_asks_the_database(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    kept = suppression._memory  # what an earlier test left, under a generation gone since
    assert suppressed_subjects({"user_id:w-1"}) == set()
    # Another process (the embedded worker) adds to the list: no generation can say so.
    _insert_as_another_process("user_id", "w-1")
    assert suppressed_subjects({"user_id:w-1"}) == {"user_id:w-1"}
    assert suppression._memory is kept  # nothing read into memory


def test_memory_read_before_the_cache_lost_its_generation_is_not_trusted_after():
    from django.core.cache import cache

    assert suppressed_subjects({"user_id:lost-1"}) == set()  # the list read into memory
    cache.clear()  # the cache is flushed (or restarted, or the key evicted)...
    _insert_as_another_process("user_id", "lost-1")  # ...and another process adds to the list
    # A missing generation is never the one the memory was read under: the list is read again.
    assert suppressed_subjects({"user_id:lost-1"}) == {"user_id:lost-1"}
