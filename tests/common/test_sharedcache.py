"""A collection request's snapshot: the generations are read once, at their first use, and a
counter asked for ahead is counted in that same read, once."""

from martech.common import sharedcache

NAME = sharedcache.register("test:sharedcache:generation")
COUNTER = "test:sharedcache:counter"


def _fresh():
    client = sharedcache._redis()
    client.delete(COUNTER)
    client.set(sharedcache._key(NAME), "g1")
    return client


def test_a_counter_asked_ahead_is_counted_once_in_the_read_and_hit_answers_that_count():
    client = _fresh()
    with sharedcache.snapshot():
        sharedcache.count_ahead(COUNTER, window=5)
        assert client.get(COUNTER) is None  # nothing read or counted before the first use
        assert sharedcache.current(NAME) == b"g1"
        assert client.get(COUNTER) == b"1"
        assert sharedcache.hit(COUNTER, window=5) == 1
        assert client.get(COUNTER) == b"1"  # not counted a second time
        client.set(sharedcache._key(NAME), "g2")
        assert sharedcache.current(NAME) == b"g1"  # the same for the whole block
    assert 0 < client.ttl(COUNTER) <= 5
    assert sharedcache.current(NAME) == b"g2"
    assert sharedcache.hit(COUNTER, window=5) == 2


def test_hit_before_any_generation_is_used_reads_them_with_the_counter_asked_ahead():
    client = _fresh()
    with sharedcache.snapshot():
        sharedcache.count_ahead(COUNTER, window=5)
        assert sharedcache.hit(COUNTER, window=5) == 1
        client.set(sharedcache._key(NAME), "g2")
        assert sharedcache.current(NAME) == b"g1"  # read with the counter
    assert client.get(COUNTER) == b"1"


def test_a_counter_asked_ahead_once_the_snapshot_is_read_is_counted_by_hit_as_usual():
    client = _fresh()
    with sharedcache.snapshot():
        assert sharedcache.current(NAME) == b"g1"
        sharedcache.count_ahead(COUNTER, window=5)
        assert client.get(COUNTER) is None
        assert sharedcache.hit(COUNTER, window=5) == 1
        assert sharedcache.hit(COUNTER, window=5) == 2
    assert client.get(COUNTER) == b"2"
