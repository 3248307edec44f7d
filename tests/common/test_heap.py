"""Web and worker processes move what they loaded at start-up out of the garbage collector's
way (its permanent generation); what they allocate afterwards is still collected."""

import gc
import os
import subprocess
import sys
import weakref

from celery import signals

from martech import celery as celery_app
from martech.common import heap


class _Node:
    pass


def test_settle_freezes_what_is_alive_and_later_cyclic_garbage_is_still_collected():
    gc.unfreeze()
    try:
        heap.settle()
        assert gc.get_freeze_count() > 1000
        node = _Node()
        node.self = node  # a cycle: only the collector can free it
        ref = weakref.ref(node)
        del node
        gc.collect()
        assert ref() is None
    finally:
        gc.unfreeze()


def test_after_settling_cyclic_garbage_is_collected_by_itself_within_young_new_objects():
    threshold = gc.get_threshold()
    gc.unfreeze()
    try:
        heap.settle()
        assert gc.get_threshold()[0] == heap.YOUNG
        node = _Node()
        node.self = node
        ref = weakref.ref(node)
        del node
        kept = [[] for _ in range(heap.YOUNG // 2)]
        assert ref() is not None  # fewer than YOUNG new objects: not collected yet
        kept += [[] for _ in range(heap.YOUNG)]
        assert ref() is None  # the young generation was collected on its own
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_the_heap_is_settled_on_the_celery_worker_and_pool_process_start_up_signals():
    for signal in (signals.worker_init, signals.worker_process_init):
        live = [r() if isinstance(r, weakref.ref) else r for _, r in signal.receivers]
        assert celery_app._settle_heap in live


def test_a_web_process_has_settled_its_heap_once_the_wsgi_application_is_loaded():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "martech.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", "import gc, martech.wsgi; print(gc.get_freeze_count())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert int(out.stdout.strip()) > 10_000
