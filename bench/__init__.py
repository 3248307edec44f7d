"""Benchmarks: each module measures one path against a same-machine baseline."""
