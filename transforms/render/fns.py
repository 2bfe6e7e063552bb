"""The render DoFns: each a fail-safe ``IsolatedFn``; render failures are keyed by artifact.

``RenderVideoFn`` renders one whole-video artifact kind per element; a long source's proxy
and ladder go ``PlanChunksFn`` -> ``EncodeChunkFn`` (one frame range per element,
fanned out) -> ``JoinFn``. Everything that opens the source runs in the isolated
child; the manifests are read and written here, in the worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from apache_beam import pvalue

from transforms.artifacts import artifact_uri
from transforms.encoding.chunked import plan_render_chunks
from transforms.io.deadletter import Clock
from transforms.io.failsafe import IsolatedFn
from transforms.io.filesystems import delete
from transforms.media.damage import DecodeErrors, SourceDamage
from transforms.progress import report
from transforms.render.auto_chunks import chunk_seconds
from transforms.render.jobs import (
    RenderChunk,
    RenderJob,
    RenderParams,
    is_long,
    kind_key,
    render_timeout_s,
    rungs_for,
    wanted_kinds,
)
from transforms.render.manifest import Manifest, Rendered
from transforms.render.work import (
    AUDIO_PART,
    counted_in_child,
    encode_chunk_in_child,
    join_in_child,
    keyframe_times_in_child,
    render_kind_in_child,
)
from transforms.schemas import AssetRow

ASSETS = "assets"
"""Tag of the render DoFns' ``AssetRow`` output."""

DAMAGE = "damage"
"""Tag of the ``SourceDamage`` output: what decoding a whole source (the ladder) concealed."""

LADDER = "ladder"
"""The artifact kind of the proxy and its renditions (failure rows' ``artifact``)."""


def damage_of(job: RenderJob, rendered: Rendered) -> Iterator[pvalue.TaggedOutput]:
    """The ``damage`` output of a rendered ladder (nothing for kinds that decode part of it)."""
    if rendered.decode_errors is not None:
        yield pvalue.TaggedOutput(DAMAGE, SourceDamage(job.video_id, rendered.decode_errors))


class RenderFn(IsolatedFn):
    """Base of the render DoFns: output, params, clock, and an isolated child per instance.

    Args:
        output: ``--output`` folder or ``gs://`` prefix.
        params: what to render and how.
        clock: stamps failures.
        rerender: ``--reprocess``: render every artifact again, even one its manifest
            shows complete for the same source and parameters.
    """

    STAGE = "render"
    WORKER_NAME = "reelbeam-render"

    def __init__(self, output: str, params: RenderParams, clock: Clock, rerender: bool = False):
        super().__init__(clock)
        self._output = output
        self._params = params
        self._rerender = rerender

    def cached(self, manifest: Manifest, kind: str, key: str) -> Rendered | None:
        """The complete artifact ``kind`` rendered with ``key``, or None to render it."""
        return None if self._rerender else manifest.cached(kind, key)

    def counted(self, fn, job: RenderJob, args: tuple, timeout_s: float):
        """``fn`` run isolated, damaged packets counted: ``(result, decode_errors)``."""
        limit = self._params.max_decode_errors
        return self.call_isolated(counted_in_child, (fn, limit, job.probe.uri, *args), timeout_s)

    def render_failure(
        self, exc: Exception, job: RenderJob, artifact: str, chunk_index: int | None = None
    ) -> pvalue.TaggedOutput:
        """The failure row of one artifact kind (or render chunk) of ``job``."""
        return self.failure(
            exc,
            input_uri=job.probe.uri,
            video_id=job.video_id,
            chunk_index=chunk_index,
            artifact=artifact,
        )


def kinds_of(
    job: RenderJob, params: RenderParams, *, ladder: bool
) -> Iterator[tuple[RenderJob, str]]:
    """One ``(job, kind)`` element per whole-video artifact kind, for ``RenderVideoFn``.

    ``ladder``: the proxy and ladder only (they need no motion); otherwise every other
    kind (thumbnails, preview and reel are placed by the motion segments).
    """
    for kind in wanted_kinds(job, params):
        if (kind == LADDER) == ladder:
            yield job, kind


class RenderVideoFn(RenderFn):
    """(RenderJob, kind) -> asset rows of that whole-video artifact kind, or its failure row.

    One element per kind, fanned out: a video's ladder, thumbnails, preview and reel are
    rendered on different workers at once, so the largest video's renders do not
    serialise on one worker while the others wait.
    """

    def process(self, item: tuple[RenderJob, str]) -> Iterator[AssetRow | pvalue.TaggedOutput]:
        job, kind = item
        key = kind_key(kind, job, self._params)
        try:
            rendered = self.cached(Manifest(self._output, job.video_id), kind, key)
            if rendered is not None:
                report("artifacts_reused", len(rendered.rows))
            else:
                rows, counts = self.counted(
                    render_kind_in_child,
                    job,
                    (kind, job, self._output, self._params),
                    render_timeout_s(job, self._params),
                )
                # Only the ladder decodes every packet of both streams: its count is the
                # source's; the other kinds decode parts of it.
                rendered = Rendered(rows, counts if kind == LADDER else None)
                Manifest(self._output, job.video_id).record(kind, key, rendered)
                report("artifacts_rendered", len(rows))
                if kind == LADDER:
                    report("seconds_encoded", int(job.probe.duration_s))
                    report("decode_errors", sum(counts.values()))
        except Exception as exc:
            yield self.render_failure(exc, job, kind)
            return
        yield from rendered.rows
        yield from damage_of(job, rendered)


class PlanChunksFn(RenderFn):
    """Long sources -> RenderChunk elements (or their cached asset rows on ``assets``).

    The keyframe times the chunk bounds snap to are read in the isolated child: the
    index belongs to an untrusted file.
    """

    WORKER_NAME = "reelbeam-plan"

    def process(self, job: RenderJob) -> Iterator[RenderChunk | pvalue.TaggedOutput]:
        rungs = tuple(rungs_for(job.probe, self._params))
        if is_long(job, self._params) and rungs:
            yield from self._plan(job, rungs)

    def _plan(self, job: RenderJob, rungs: tuple) -> Iterator[RenderChunk | pvalue.TaggedOutput]:
        key = kind_key(LADDER, job, self._params)
        try:
            cached = self.cached(Manifest(self._output, job.video_id), LADDER, key)
            ranges = []
            if cached is None:
                keys = self.call_isolated(
                    keyframe_times_in_child,
                    (job.probe.uri,),
                    render_timeout_s(job, self._params, share=0.0),
                )
                duration_s, params = job.probe.duration_s, self._params
                chunk_s = chunk_seconds(
                    duration_s, params.render_chunk_s, params.render_workers, job.probe.has_audio
                )
                ranges = plan_render_chunks(duration_s, chunk_s, keys)
        except Exception as exc:
            yield self.render_failure(exc, job, LADDER)
            return
        if cached is not None:
            for row in cached.rows:
                yield pvalue.TaggedOutput(ASSETS, row)
            yield from damage_of(job, cached)
        if ranges and job.probe.has_audio:
            # The audio pass: its own element, encoded beside the ranges, not at the join;
            # first, as the longest single element of the video should start first.
            count = len(ranges)
            yield RenderChunk(job, count, count, 0.0, None, (), key, audio=True)
        for i, (start, end) in enumerate(ranges):
            last = i == len(ranges) - 1
            yield RenderChunk(job, i, len(ranges), start, None if last else end, rungs, key)


class EncodeChunkFn(RenderFn):
    """RenderChunk -> (video_id, (chunk, part uris, damage)); a failed range is a failure row."""

    WORKER_NAME = "reelbeam-encode"

    def process(self, chunk: RenderChunk) -> Iterator[Any]:
        end = chunk.end_s if chunk.end_s is not None else chunk.job.probe.duration_s
        # The audio pass reads the whole source's audio: half a video range's time per second.
        share = (
            0.5 if chunk.audio else (end - chunk.start_s) / max(chunk.job.probe.duration_s, 1e-6)
        )
        counts: dict[str, int] = {}
        try:
            parts, counts = self.counted(
                encode_chunk_in_child,
                chunk.job,
                (chunk, self._output, self._params),
                render_timeout_s(chunk.job, self._params, share),
            )
        except Exception as exc:
            yield self.render_failure(exc, chunk.job, LADDER, chunk_index=chunk.index)
            parts = None
        else:
            if not chunk.audio:
                report("seconds_encoded", int(end - chunk.start_s))
        yield chunk.job.video_id, (chunk, parts, counts)


class JoinFn(RenderFn):
    """All parts of one video (frame ranges and the audio pass) -> the joined proxy and
    renditions, by stream copy (or one failure row)."""

    WORKER_NAME = "reelbeam-join"

    def process(
        self,
        element: tuple[str, Iterable[tuple[RenderChunk, dict[int, str] | None, dict[str, int]]]],
    ) -> Iterator[AssetRow | pvalue.TaggedOutput]:
        _, results = element
        results = sorted(results, key=lambda r: r[0].index)
        part_uris = [uri for _, parts, _ in results if parts for uri in parts.values()]
        ranges = [r for r in results if not r[0].audio]
        audio = [parts for chunk, parts, _ in results if chunk.audio]
        first = (ranges or results)[0][0]
        job = first.job
        try:
            missing = first.count - sum(1 for _, p, _ in ranges if p)
            if missing:
                raise RuntimeError(f"{missing} of {first.count} render chunks failed; not joined")
            if job.probe.has_audio and (not audio or audio[0] is None):
                raise RuntimeError("the audio pass failed; not joined")
            audio_uri = audio[0].get(AUDIO_PART) if audio else None
            parts = {h: [p[h] for _, p, _ in ranges] for h, _, _ in first.rungs}
            rows, _ = self.counted(
                join_in_child,
                job,
                (job, parts, first.rungs, self._output, audio_uri),
                render_timeout_s(job, self._params, 0.1),
            )
            # The ranges decoded the video (they tile it), the audio pass the audio, once each.
            total = DecodeErrors(source=job.probe.uri)
            for _, _, counts in results:
                total.merge(counts)
            rendered = Rendered(rows, total.as_dict())
            Manifest(self._output, job.video_id).record(LADDER, first.key, rendered)
            report("decode_errors", total.total)
        except Exception as exc:
            yield self.render_failure(exc, job, LADDER)
        else:
            yield from rendered.rows
            yield from damage_of(job, rendered)
        finally:
            delete(part_uris)
            # Local file systems keep the emptied folder; object stores have none.
            delete([artifact_uri(self._output, job.video_id, ".render/parts")])
