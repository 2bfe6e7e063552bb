"""Streaming runs: ``--watch`` and ``--input_subscription`` in place of ``FindVideos``.

``streaming_sources`` adds the source to the pipeline; everything after it is the
batch graph, on fixed windows. ``ack_after_write`` closes a subscription read by
reelbeam's own pull: its messages are acked once their window is in the catalog.
``wait_streaming`` waits for (and, where asked, stops) the run through Beam's public
``wait_until_finish(duration)`` and ``cancel()``: a watch with
``--watch_stop_after_s`` ends by itself, and so does reelbeam's pull of a
subscription; Beam's ``ReadFromPubSub`` (Dataflow) never ends, so with
``--watch_stop_after_s`` it is cancelled after that long.
"""

from __future__ import annotations

import logging
import threading
from typing import NamedTuple

import apache_beam as beam
from apache_beam.options.pipeline_options import StandardOptions
from apache_beam.runners.runner import PipelineResult, PipelineState

from pipelines.run_config import RunConfig, StreamConfig
from pipelines.runners import Capabilities, capabilities, runs_workers_here
from transforms.io.deadletter import Clock, utc_now
from transforms.streaming.acks import AckAfterWrite
from transforms.streaming.read_new_uploads import DEFAULT_WINDOW_S, ReadGcsUploads, WatchFolder


class StreamSource(NamedTuple):
    """What a streaming source gives the rest of the graph (all in fixed windows).

    Attributes:
        found: the files to process.
        failures: failure rows of the source (stage ``find``).
        acks: ack ids to ack once their window is written (None: nothing to ack).
    """

    found: beam.PCollection
    failures: beam.PCollection
    acks: beam.PCollection | None = None


def pulls_subscription(caps: Capabilities, stream: StreamConfig) -> bool:
    """Whether a subscription is read by reelbeam's pull (acked after the write).

    Only where the runner's own read acks after a durable commit (Dataflow) is Beam's
    ``ReadFromPubSub`` as safe. The DirectRunner's acks every message as it pulls it,
    but it is also the only read the DirectRunner streams: reelbeam's pull (a
    splittable DoFn) runs there as a bounded read whose windows are written when it
    ends. So a run with ``--watch_stop_after_s`` pulls (nothing is lost), and a
    continuous local stream keeps Beam's read (``runners.delivery_warnings`` says what
    that risks).
    """
    return not caps.pubsub_acks_after_commit and stream.watch_stop_after_s > 0


def local_worker_problems(caps: Capabilities, config: RunConfig, direct_workers: int) -> list[str]:
    """A watch or a pulled subscription on several DirectRunner workers, refused in one line.

    Both sources are splittable DoFns that poll, then defer the rest of their work.
    Beam's FnApiRunner drops that deferred rest when it splits a bundle across workers
    (``--direct_num_workers`` other than 1), so the source would poll once and stop.
    """
    stream = config.stream
    if not runs_workers_here(caps.name) or direct_workers == 1:
        return []
    if not (stream.watch or (stream.input_subscription and pulls_subscription(caps, stream))):
        return []
    source = "--watch" if stream.watch else "--input_subscription with --watch_stop_after_s"
    return [
        f"{source} on the {caps.name} runs on one worker: drop --direct_num_workers "
        f"(given {direct_workers}); Beam's FnApiRunner loses a polling source's deferred "
        "work when it splits a bundle across workers"
    ]


def streaming_sources(p: beam.Pipeline, config: RunConfig, clock: Clock = utc_now) -> StreamSource:
    """The streaming source for ``p``, in fixed windows.

    Step labels: ``ReadGcsUploads`` (``--input_subscription``) or ``WatchFolder``
    (``--watch``). Which read a subscription gets depends on ``p``'s runner
    (``pulls_subscription``).

    Args:
        p: the pipeline.
        config: the run's settings, with ``--watch`` or ``--input_subscription``.
        clock: stamps failure rows.
    """
    opts = config.stream
    common = {
        "extensions": config.find.extensions,
        "path_pattern": config.find.path_pattern,
        "video_id_template": config.find.video_id_template,
        "exclude_prefix": config.output,
        "window_s": DEFAULT_WINDOW_S,
        "clock": clock,
    }
    if opts.input_subscription:
        caps = capabilities(p.options.view_as(StandardOptions).runner)
        source = p | "ReadGcsUploads" >> ReadGcsUploads(
            opts.input_subscription,
            prefixes=list(opts.input_prefixes),
            ack_after_write=pulls_subscription(caps, opts),
            stop_after_s=opts.watch_stop_after_s,
            **common,
        )
    elif opts.watch:
        source = p | "WatchFolder" >> WatchFolder(
            opts.watch,
            poll_s=opts.watch_poll_s,
            stop_after_s=opts.watch_stop_after_s,
            **common,
        )
    else:
        raise ValueError("streaming_sources needs --watch or --input_subscription")
    return StreamSource(source["found"], source["failures"], source.get("acks"))


def ack_after_write(
    source: StreamSource, written: beam.PCollection, config: RunConfig
) -> beam.PCollection | None:
    """Ack the source's messages per window once ``written`` (the catalog write) has it.

    Step label: ``AckAfterWrite``. Nothing to do (None) for a watch or for Beam's own
    Pub/Sub read.
    """
    if source.acks is None:
        return None
    return (source.acks, written) | "AckAfterWrite" >> AckAfterWrite(
        config.stream.input_subscription
    )


def wait_streaming(result: PipelineResult, opts: StreamConfig, caps: Capabilities) -> bool:
    """Wait for a streaming run; stop a subscription run after ``--watch_stop_after_s``.

    A watch with a stop time ends by itself and is waited for, and so does a
    subscription read by reelbeam's pull (it pulls that long, then the run writes and
    acks). A subscription read by Beam's ``ReadFromPubSub`` with
    ``--watch_stop_after_s`` is cancelled after that many seconds: whatever windows
    have fired by then are in the catalog. Without a stop time a job on a
    cluster that outlives the launcher (``caps.detached``: Dataflow, Flink, Spark) is
    left running; a run on this machine is waited for until it is interrupted.

    Args:
        result: the running pipeline.
        opts: the run's streaming settings.
        caps: what the runner can do (``pipelines.runners``).

    Returns:
        True when the run ended (or was stopped) here, False when it was left running.

    Raises:
        Whatever the pipeline raised.
    """
    stop_s = opts.watch_stop_after_s
    if stop_s <= 0 and caps.detached:
        logging.info(
            "streaming job submitted to the %s; it runs until it is drained or cancelled",
            caps.name,
        )
        return False
    if opts.watch or stop_s <= 0 or pulls_subscription(caps, opts):
        result.wait_until_finish()
        return True
    try:
        state = result.wait_until_finish(duration=int(stop_s * 1000))
    except NotImplementedError:  # the DirectRunner takes no duration
        _wait_then_cancel(result, stop_s)
        return True
    if not PipelineState.is_terminal(state):
        logging.info("stopping the streaming run after %.0f s", stop_s)
        result.cancel()
    return True


def _wait_then_cancel(result: PipelineResult, stop_s: float) -> None:
    """Wait in a thread; cancel the run if it is still going after ``stop_s``.

    For runners whose ``wait_until_finish`` takes no duration (the DirectRunner).
    After ``cancel()`` the DirectRunner's ``wait_until_finish`` may never return:
    Beam has no public way to wake it, so the waiter is a daemon thread that is
    left behind (it holds nothing and ends with the process) rather than poked
    through private executor internals.
    """
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            result.wait_until_finish()
        except BaseException as exc:  # handed to the caller below
            errors.append(exc)

    waiter = threading.Thread(target=wait, name="reelbeam-wait", daemon=True)
    waiter.start()
    waiter.join(stop_s)
    if waiter.is_alive():
        logging.info("stopping the streaming run after %.0f s", stop_s)
        result.cancel()
        waiter.join(2.0)  # a runner that does wake its waiter hands back its error here
    if errors:
        raise errors[0]
