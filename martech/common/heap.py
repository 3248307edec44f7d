"""Long-running processes keep what they load at start-up out of the garbage collector's way.

A web or worker process holds hundreds of thousands of long-lived objects (modules, models,
URL patterns, templates). Each full collection of Python's cyclic garbage collector walks all
of them, and a batch of the pipeline allocates enough to trigger such collections again and
again: about a third of the pipeline's own CPU time went there. Once start-up is over, they
are moved to the collector's permanent generation, which it never walks; what the process
allocates afterwards is collected as before.
"""

import gc


def settle() -> None:
    """Collect what start-up left behind, then freeze everything still alive."""
    gc.collect()
    gc.freeze()
