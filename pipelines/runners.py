"""What each Beam runner can do for reelbeam, and the launch-time checks that follow.

One table, ``RUNNERS``, maps a runner to its ``Capabilities``; the launcher asks it
instead of matching substrings of runner names. ``option_problems`` turns options a
runner cannot honour into usage errors (one line each, naming the runner and the
alternative); ``runs_streaming`` says whether a streaming source runs in streaming
mode; ``shared_path_warnings`` names local paths that every worker must see.
Pure: no Beam import, so it is tested without a runner.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from transforms.io.uris import is_local

if TYPE_CHECKING:  # run_config imports the transforms, and with them Beam
    from pipelines.run_config import RunConfig


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What a runner does with the parts of reelbeam that not every runner supports.

    Attributes:
        name: the runner's canonical name (``DirectRunner``, ``FlinkRunner``, ...).
        pubsub: reads ``--input_subscription`` (Beam's Python Pub/Sub read is
            implemented by Dataflow and the DirectRunner only).
        pubsub_acks_after_commit: the runner's own Pub/Sub read acks a message only
            once what it led to is durably committed (Dataflow checkpoints it), so
            reelbeam reads with Beam's ``ReadFromPubSub``. Elsewhere (the DirectRunner
            acks each message as it pulls it) reelbeam pulls itself and acks a
            message once its window is in the catalog (``AckAfterWrite``).
        unbounded_watch: streams a ``--watch`` without ``--watch_stop_after_s``,
            writing rows as windows fire instead of when the watch ends.
        metrics: reports Beam counters after the run (the summary line reads them).
        streaming_state: supports stateful DoFns in streaming mode (the catalog
            writer is one).
        shares_local_files: runs every worker on this machine, so local paths are
            the same paths there.
        detached: a streaming job keeps running on the cluster after the launcher
            exits (so the launcher need not wait for it).
    """

    name: str
    pubsub: bool = False
    pubsub_acks_after_commit: bool = False
    unbounded_watch: bool = False
    metrics: bool = True
    streaming_state: bool = True
    shares_local_files: bool = False
    detached: bool = False


# Why each row says what it says:
# - DirectRunner: a watch, and a subscription read by reelbeam's pull, run on the
#   FnApiRunner, which writes when the source ends, so both need a stop time. (Its
#   BundleBasedDirectRunner streams only Beam's own Pub/Sub read, which acks on pull,
#   and holds the watermark of a splittable DoFn until it ends.)
# - Dataflow acks a pulled message once the read is committed to its durable state,
#   so a stopped or updated job loses nothing: Beam's ReadFromPubSub is kept there.
# - PortableRunner is whatever the job endpoint is; the embedded Python job service
#   runs bounded work only, so nothing unbounded is promised for it.
# - Spark's portable runner has no state in streaming mode, so it cannot stream.
# - Prism runs on this machine (LOOPBACK workers) and streams, but dies with the launcher.
RUNNERS: dict[str, Capabilities] = {
    caps.name: caps
    for caps in (
        Capabilities("DirectRunner", pubsub=True, shares_local_files=True),
        Capabilities("BundleBasedDirectRunner", pubsub=True, shares_local_files=True),
        Capabilities("SwitchingDirectRunner", pubsub=True, shares_local_files=True),
        Capabilities("TestDirectRunner", pubsub=True, shares_local_files=True),
        Capabilities("FnApiRunner", shares_local_files=True),
        Capabilities("PrismRunner", unbounded_watch=True, shares_local_files=True),
        Capabilities(
            "DataflowRunner",
            pubsub=True,
            pubsub_acks_after_commit=True,
            unbounded_watch=True,
            detached=True,
        ),
        Capabilities(
            "TestDataflowRunner",
            pubsub=True,
            pubsub_acks_after_commit=True,
            unbounded_watch=True,
            detached=True,
        ),
        Capabilities("PortableRunner"),
        Capabilities("FlinkRunner", unbounded_watch=True, detached=True),
        Capabilities("SparkRunner", streaming_state=False, detached=True),
    )
}

# Alternatives named in usage errors.
_PUBSUB_ALTERNATIVE = (
    "use --runner=DataflowRunner (or DirectRunner), or --watch/--input on this runner"
)
_WATCH_ALTERNATIVE = (
    "give --watch_stop_after_s (the run then ends with the watch), "
    "or use --runner=FlinkRunner or DataflowRunner"
)


IN_PROCESS_RUNNERS = (
    "DirectRunner",
    "BundleBasedDirectRunner",
    "SwitchingDirectRunner",
    "TestDirectRunner",
    "FnApiRunner",
)
"""Runners whose workers run inside the launcher's process (threads, or in memory)."""


def runs_workers_here(runner: object) -> bool:
    """Whether ``--runner`` (any spelling Beam takes; None: the DirectRunner) runs its
    workers in the launcher's process, so their isolated children fork from its fork server."""
    return canonical_name(runner) in IN_PROCESS_RUNNERS


def canonical_name(runner: object) -> str:
    """A runner's table key from ``--runner`` as Beam accepts it.

    Beam takes ``DirectRunner``, ``direct``, ``flink``, a dotted class path, or a
    runner instance; all map to the class name (``FlinkRunner``).
    """
    if runner is None or runner == "":
        return "DirectRunner"
    name = runner if isinstance(runner, str) else type(runner).__name__
    name = name.rsplit(".", 1)[-1]
    by_lower = {key.lower(): key for key in RUNNERS}
    for candidate in (name.lower(), f"{name.lower()}runner"):
        if candidate in by_lower:
            return by_lower[candidate]
    return name


def capabilities(runner: object) -> Capabilities:
    """The capabilities of ``runner`` (a name, dotted path or instance).

    A runner not in ``RUNNERS`` gets the most careful row: no Pub/Sub, no unbounded
    watch, workers that may not see local files, and metrics that may be missing.
    """
    name = canonical_name(runner)
    return RUNNERS.get(name) or Capabilities(name, metrics=False, streaming_state=False)


def option_problems(caps: Capabilities, config: RunConfig) -> list[str]:
    """Options this runner cannot honour, one line each (empty when all is well)."""
    problems: list[str] = []
    stream = config.stream
    if stream.input_subscription and not caps.pubsub:
        problems.append(
            f"--input_subscription: the {caps.name} cannot read Pub/Sub; {_PUBSUB_ALTERNATIVE}"
        )
    if stream.watch and stream.watch_stop_after_s <= 0 and not caps.unbounded_watch:
        problems.append(
            f"--watch without --watch_stop_after_s: the {caps.name} writes results only "
            f"when the watch ends, which is never; {_WATCH_ALTERNATIVE}"
        )
    return problems


def runs_streaming(caps: Capabilities, config: RunConfig) -> bool:
    """Whether a run with a streaming source is submitted in streaming mode.

    The catalog writer is stateful, so a runner without state in streaming mode
    (Spark) runs a ``--watch`` that stops by itself as a bounded job instead. A
    subscription, or a watch without a stop time, never gets here on such a runner:
    ``option_problems`` refuses both.
    """
    if not config.stream.enabled:
        return False
    return caps.streaming_state or not config.stream.watch


def delivery_warnings(caps: Capabilities, config: RunConfig) -> list[str]:
    """How a subscription run may lose messages on this runner, one warning line (or none).

    Where the runner acks only after a durable commit (Dataflow), or reelbeam pulls and
    acks after the write (a run with ``--watch_stop_after_s`` elsewhere), nothing is lost.
    A continuous local stream reads with Beam's ``ReadFromPubSub``, the only read the
    DirectRunner streams, and that read acks each message as it pulls it.
    """
    stream = config.stream
    if not stream.input_subscription or caps.pubsub_acks_after_commit:
        return []
    if stream.watch_stop_after_s > 0:
        return []
    return [
        f"--input_subscription without --watch_stop_after_s streams on the {caps.name} "
        "through Beam's Pub/Sub read, which acks each message as it pulls it: messages "
        "pulled but not yet in the catalog when the run stops are lost. Give "
        "--watch_stop_after_s (the run pulls that long, writes, then acks) or use "
        "--runner=DataflowRunner for delivery after the write."
    ]


def shared_path_warnings(caps: Capabilities, config: RunConfig) -> list[str]:
    """Local paths that workers on other machines must see, one warning line each."""
    if caps.shares_local_files:
        return []
    paths = [("--output", config.output)]
    if config.stream.watch:
        paths.append(("--watch", config.stream.watch))
    return [
        f"{flag} {path} is a local path: on the {caps.name} it must be visible at the same "
        "path to every worker (shared storage such as NFS), or use gs:// or s3://"
        for flag, path in paths
        if is_local(path)
    ]
