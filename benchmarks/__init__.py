"""Benchmarks: every stage against its baseline, run by ``make bench`` (``python -m benchmarks.run``).

Benchmarks are not timed tests: nothing here fails on a slow machine. Each module exposes
``run(ctx) -> list[Result]``; ``benchmarks.run`` runs them, prints the table, the stages'
throughput and a projection for a 10-hour source, and writes ``results.json``.
"""
