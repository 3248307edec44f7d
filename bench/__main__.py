"""Run every benchmark, one after another: ``python -m bench`` (or ``make bench``).

``python -m bench delivery sync_rows`` runs those named (in the order below), ``--quick`` at
small sizes; ``bench/_setup.py`` says what they run on. Each benchmark takes away what it
made, so that none finds the next one's way blocked (the order puts ``sync_rows`` before
``delivery``, which once stumbled over the sync's destination).
"""

import importlib
import sys

ORDER = (
    "audit_write",
    "identity_resolve",
    "schema_validate",
    "collect_http",
    "pipeline_profile",
    "sync_rows",
    "delivery",
    "warehouse_load",
    "adversarial",
)


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("-")]
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; there are {', '.join(ORDER)}")
        return 2
    for name in ORDER:
        if not names or name in names:
            importlib.import_module(f"bench.{name}").main()
            print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
