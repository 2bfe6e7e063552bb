"""Run every benchmark, print the table, throughput and a 10-hour projection; write results.

Usage::

    python -m benchmarks.run --suite quick|full --out out/bench [--only probe,memory]

``quick`` uses smaller inputs and fewer repeats (under 3 minutes on 2 cores, inputs
included); ``full`` uses the sizes of the issue and takes long. Inputs are generated once
into ``.bench/media`` (see ``benchmarks.media_cache``). Writes ``DIR/results.json`` (a list
of ``{name, ours_s, baseline_s, ratio, target, unit, notes, met, details}``),
``DIR/summary.json`` (throughput, projection, machine) and ``DIR/profiles/`` where a target
was missed. Missing targets never fail the run (benchmarks are not timed tests); the exit
code is 1 only when a benchmark itself broke.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import shutil
import sys
import time
import traceback
from pathlib import Path

import av

from benchmarks.common import Context, MachineShare, Result, fmt_value, tool_version
from benchmarks.projection import describe, projection, rows_table

BENCHMARKS = (
    "startup",
    "probe",
    "proxy_encode",
    "chunk_encode",
    "detect_motion",
    "people",
    "end_to_end",
    "memory",
    "rerun",
    "streaming",
)
REPEATS = {"quick": 3, "full": 3}


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _met(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, rule, *body])


def throughput_rows(results: list[Result]) -> list[list[str]]:
    rows = []
    for result in results:
        for label, (video_s, cpu_s) in result.details.get("throughput", {}).items():
            if not cpu_s:
                continue
            rows.append([label, f"{video_s:.0f}", f"{cpu_s:.1f}", f"{video_s / cpu_s:.2f}"])
    return rows


def print_report(results: list[Result], proj: dict | None, suite: str) -> None:
    rows = [
        [
            r.name,
            fmt_value(r.ours_s, r.unit),
            fmt_value(r.baseline_s, r.unit),
            _ratio(r.ratio),
            r.target,
            _met(r.met),
        ]
        for r in results
    ]
    print(f"\nreelbeam benchmarks ({suite})\n")
    print(table(rows, ["name", "ours", "baseline", "ratio", "target", "met?"]))
    tput = throughput_rows(results)
    if tput:
        print("\nThroughput (video seconds per CPU second)\n")
        print(table(tput, ["stage", "video s", "CPU s", "video s / CPU s"]))
    if proj:
        print(f"\n{describe(proj)}\n")
        print(table(*rows_table(proj)))
    print("\nNotes\n")
    for r in results:
        print(f"- {r.name}: {r.notes}\n")


def run_one(name: str, ctx: Context) -> Result:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    t0 = time.perf_counter()
    ctx.share = MachineShare()
    try:
        result = module.run(ctx)
    except Exception as exc:
        logging.error("benchmark %s broke:\n%s", name, traceback.format_exc())
        result = Result(
            name, None, None, None, getattr(module, "TARGET", "-"), notes=f"error: {exc!r}"
        )
        result.details["error"] = traceback.format_exc()
    result.details["elapsed_s"] = round(time.perf_counter() - t0, 2)
    result.details["other_processes_cores"] = round(ctx.share.close(), 2)
    ctx.share = None
    print(
        f"bench: {name}: {fmt_value(result.ours_s, result.unit)} vs "
        f"{fmt_value(result.baseline_s, result.unit)}, ratio {_ratio(result.ratio)}, "
        f"met {_met(result.met)} ({result.details['elapsed_s']:.0f} s)",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--suite", choices=("quick", "full"), default="full")
    parser.add_argument("--out", default="out/bench", help="results folder")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--repeats", type=int, default=0, help="override the suite's repeats")
    parser.add_argument("--keep-work", action="store_true", help="keep encoded outputs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ warnings, per child too
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {BENCHMARKS}")

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    ctx = Context(
        suite=args.suite,
        out=out,
        work=work,
        repeats=args.repeats or REPEATS[args.suite],
        ffmpeg=shutil.which("ffmpeg"),
        ffprobe=shutil.which("ffprobe"),
    )
    if not ctx.ffmpeg or not ctx.ffprobe:
        print(
            "bench: ffmpeg/ffprobe CLI missing: their baselines are skipped "
            "(bash scripts/apt_install.sh ffmpeg ffmpeg ffprobe installs them)",
            flush=True,
        )
    started = time.perf_counter()
    results = [run_one(name, ctx) for name in names]
    proj = projection(ctx.metrics)
    print_report(results, proj, args.suite)

    (out / "results.json").write_text(
        json.dumps([r.to_json() for r in results], indent=2, default=str) + "\n", "utf-8"
    )
    summary = {
        "suite": args.suite,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "load_avg_at_end": os.getloadavg(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "pyav": av.__version__,
            "pyav_ffmpeg": str(av.ffmpeg_version_info),
            "ffmpeg_cli": tool_version(ctx.ffmpeg),
        },
        "throughput": {
            label: {"video_s": v, "cpu_s": c, "video_s_per_cpu_s": v / c if c else None}
            for r in results
            for label, (v, c) in r.details.get("throughput", {}).items()
        },
        "metrics": ctx.metrics,
        "projection_10h": proj,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n", "utf-8")
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    print(f"bench: wrote {out / 'results.json'} ({summary['elapsed_s']:.0f} s)")
    return 1 if any("error" in r.details for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
