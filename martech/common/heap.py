"""Long-running processes keep what they load at start-up out of the garbage collector's way.

A web or worker process holds hundreds of thousands of long-lived objects (modules, models,
URL patterns, templates). Each full collection of Python's cyclic garbage collector walks all
of them, and a batch of the pipeline allocates enough to trigger such collections again and
again: about a third of the pipeline's own CPU time went there. Once start-up is over, they
are moved to the collector's permanent generation, which it never walks; what the process
allocates afterwards is collected as before.

The youngest generation is then collected after ``YOUNG`` new objects rather than Python's
700: a batch of a thousand events holds tens of thousands of objects for its whole life, and
at 700 they were walked again by one collection after another as they aged (about a tenth
of the pipeline's own CPU time, some 950 collections per 30,000 events; 2 at ``YOUNG``). Cyclic
garbage waits at most ``YOUNG`` allocations longer; everything else is still freed at once
by reference counting.
"""

import gc

YOUNG = 20_000


def settle() -> None:
    """Collect what start-up left behind, freeze everything still alive, and collect the
    youngest generation after ``YOUNG`` new objects."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, *gc.get_threshold()[1:])
