"""Helpers for the tests, the benchmarks and ``make sample``; never imported by the pipeline."""
