"""The benchmarks are easy to rerun: ``python -m bench`` runs every one, each also runs alone
as ``python -m bench.<name>``, and none names a Redis database of its own (the tests' and
CI's are counted down from 14; the benchmarks' one comes from ``bench/_setup.py``)."""

import re
from pathlib import Path

from bench.__main__ import ORDER

BENCH = Path(__file__).resolve().parent.parent / "bench"
BENCHMARKS = sorted(p.stem for p in BENCH.glob("*.py") if not p.stem.startswith("_"))


def test_python_m_bench_runs_every_benchmark():
    assert sorted(ORDER) == BENCHMARKS


def test_sync_rows_runs_before_delivery():
    assert ORDER.index("sync_rows") < ORDER.index("delivery")


def test_every_benchmark_runs_alone_as_a_module():
    silent = [
        name
        for name in BENCHMARKS
        if 'if __name__ == "__main__":\n    main()' not in (BENCH / f"{name}.py").read_text()
    ]
    assert silent == []


def test_every_benchmark_sets_itself_up_through_the_shared_setup():
    own = [
        name
        for name in BENCHMARKS
        if "from bench._setup import setup" not in (BENCH / f"{name}.py").read_text()
    ]
    assert own == []


def test_no_benchmark_names_a_redis_database():
    url = re.compile(r"redis(?:cache)?s?://[^\"'\s]*/\d+")
    named = {
        name: url.findall((BENCH / f"{name}.py").read_text())
        for name in BENCHMARKS
        if url.search((BENCH / f"{name}.py").read_text())
    }
    assert named == {}
