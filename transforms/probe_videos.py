"""``ProbeVideos``: every found file probed in an isolated process, failures as rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import apache_beam as beam
from apache_beam import pvalue

from transforms.io.deadletter import FAILURES, Clock, utc_now
from transforms.io.failsafe import IsolatedFn
from transforms.media.probe import is_not_video, probe_in_child, probe_timeout_s
from transforms.paths import has_video_extension
from transforms.progress import report
from transforms.records import FoundFile, VideoProbe

NOT_VIDEO = "not_video"
"""Counter of files ``--extensions '*'`` took that FFmpeg cannot open as video."""


class ProbeFileFn(IsolatedFn):
    """FoundFile -> VideoProbe; failures to the ``failures`` output (stage ``probe``).

    Probing runs in an isolated child process: a file that crashes or hangs the
    demuxer becomes a failure row, not a dead worker.

    Args:
        clock: stamps ``scanned_at`` and failures.
        timeout_s: ``--decode_timeout_s`` (0: sized to the file, see ``probe_timeout_s``).
        any_file: ``--extensions '*'``: a file without a video container's extension that
            FFmpeg cannot open as video (a photo, a sidecar, a text, audio only) is counted
            (``not_video``) and named in one summary line, not made a failure row.
    """

    STAGE = "probe"
    WORKER_NAME = "reelbeam-probe"

    def __init__(self, clock: Clock = utc_now, timeout_s: float = 0.0, any_file: bool = False):
        super().__init__(clock)
        self._timeout_s = timeout_s
        self._any_file = any_file
        self._not_video: list[str] = []

    def process(self, found: FoundFile) -> Iterator[VideoProbe | pvalue.TaggedOutput]:
        try:
            probe = self.call_isolated(
                probe_in_child,
                (found, self._clock()),
                probe_timeout_s(found, self._timeout_s),
            )
        except Exception as exc:
            # A file named like a video that does not open stays a failure, as without '*'.
            if self._any_file and not has_video_extension(found.uri) and is_not_video(exc):
                report(NOT_VIDEO)
                self._not_video.append(found.uri)
                return
            yield self.failure(exc, input_uri=found.uri, video_id=found.video_id)
        else:
            report("files_probed")
            yield probe

    def finish_bundle(self) -> None:
        # One line per bundle, not one per photo: a NAS folder may hold thousands.
        if self._not_video:
            count, first = len(self._not_video), self._not_video[0]
            logging.info(
                "--extensions '*': %d file(s) are not video (e.g. %s); counted as %s, "
                "no failure rows",
                count,
                first,
                NOT_VIDEO,
            )
            self._not_video = []


class ProbeVideos(beam.PTransform):
    """Probe every found file, each in an isolated process with a timeout.

    Args:
        clock: stamps ``scanned_at`` and failures.
        timeout_s: longest a probe may take (0: sized to the file).
        any_file: files were taken by ``--extensions '*'``: those that are not video are
            counted, not failure rows (see ``ProbeFileFn``).

    Returns:
        A ``DoOutputsTuple`` with the main output of ``VideoProbe`` and
        ``failures`` of ``FailureRow`` (stage ``probe``).
    """

    def __init__(self, clock: Clock = utc_now, timeout_s: float = 0.0, any_file: bool = False):
        super().__init__()
        self._clock = clock
        self._timeout_s = timeout_s
        self._any_file = any_file

    def expand(self, found: beam.PCollection[FoundFile]):
        fn = ProbeFileFn(self._clock, self._timeout_s, self._any_file)
        return found | "Probe" >> beam.ParDo(fn).with_outputs(FAILURES, main="probes")
