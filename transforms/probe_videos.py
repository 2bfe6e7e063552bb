"""``ProbeVideos``: every found file probed in an isolated process, failures as rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import apache_beam as beam
from apache_beam import pvalue

from transforms.io.deadletter import FAILURES, Clock, utc_now
from transforms.io.failsafe import IsolatedFn
from transforms.media.open import open_input
from transforms.media.probe import probe_container, probe_timeout_s
from transforms.progress import report
from transforms.records import FoundFile, VideoProbe


def probe_in_child(state: dict, found: FoundFile, scanned_at: dt.datetime) -> VideoProbe:
    """Probe ``found`` (runs in the isolated child process)."""
    with open_input(found.uri) as container:
        return probe_container(container, found, scanned_at)


class ProbeFileFn(IsolatedFn):
    """FoundFile -> VideoProbe; failures to the ``failures`` output (stage ``probe``).

    Probing runs in an isolated child process: a file that crashes or hangs the
    demuxer becomes a failure row, not a dead worker.

    Args:
        clock: stamps ``scanned_at`` and failures.
        timeout_s: ``--decode_timeout_s`` (0: sized to the file, see ``probe_timeout_s``).
    """

    STAGE = "probe"
    WORKER_NAME = "reelbeam-probe"

    def __init__(self, clock: Clock = utc_now, timeout_s: float = 0.0):
        super().__init__(clock)
        self._timeout_s = timeout_s

    def process(self, found: FoundFile) -> Iterator[VideoProbe | pvalue.TaggedOutput]:
        try:
            probe = self.call_isolated(
                probe_in_child,
                (found, self._clock()),
                probe_timeout_s(found, self._timeout_s),
            )
        except Exception as exc:
            yield self.failure(exc, input_uri=found.uri, video_id=found.video_id)
        else:
            report("files_probed")
            yield probe


class ProbeVideos(beam.PTransform):
    """Probe every found file, each in an isolated process with a timeout.

    Args:
        clock: stamps ``scanned_at`` and failures.
        timeout_s: longest a probe may take (0: sized to the file).

    Returns:
        A ``DoOutputsTuple`` with the main output of ``VideoProbe`` and
        ``failures`` of ``FailureRow`` (stage ``probe``).
    """

    def __init__(self, clock: Clock = utc_now, timeout_s: float = 0.0):
        super().__init__()
        self._clock = clock
        self._timeout_s = timeout_s

    def expand(self, found: beam.PCollection[FoundFile]):
        fn = ProbeFileFn(self._clock, self._timeout_s)
        return found | "Probe" >> beam.ParDo(fn).with_outputs(FAILURES, main="probes")
