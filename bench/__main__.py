"""Run every benchmark: ``python -m bench`` (or ``make bench``)."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "martech.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/martech_bench")


def main() -> int:
    from bench import (
        adversarial,
        audit_write,
        collect_http,
        delivery,
        identity_resolve,
        pipeline_profile,
        schema_validate,
    )

    for module in (
        audit_write,
        identity_resolve,
        schema_validate,
        collect_http,
        pipeline_profile,
        delivery,
        adversarial,
    ):
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
