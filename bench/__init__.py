"""Benchmarks with same-run baselines; run by hand or in CI's slow job, never in the default suite."""
