"""``RenderVideos``: proxy and ladder, thumbnails, preview, highlight reel and its timeline.

Sources up to ``--render_chunk_s`` are rendered by one DoFn per video (one decode
feeds every rung). Longer sources have their proxy and ladder encoded as exact frame
ranges on different workers and joined by stream copy, with the audio encoded once
per file at the join. Every artifact is written to a temporary name and moved into
place at the contract's path; a rerun skips artifacts already complete for the same
source and parameters (a small manifest per artifact kind under
``videos/<id>/.render/``).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator

import apache_beam as beam
import google_crc32c
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems

from transforms.artifacts import artifact_uri
from transforms.encode import (
    EncodeSettings,
    RenditionInfo,
    encode_audio,
    encode_ladder_range,
    join_chunks,
    keyframe_times,
    plan_render_chunks,
    render_ladder,
    target_size,
)
from transforms.errors import TransientIOError
from transforms.highlights import highlight_windows, render_highlights, write_otio
from transforms.io.deadletter import FAILURES, Clock, failure_row, utc_now
from transforms.io.isolation import IsolatedWorker
from transforms.io.retry import call_with_retries
from transforms.io.uris import is_local
from transforms.progress import report
from transforms.records import Segment, VideoMotion, VideoProbe
from transforms.schemas import AssetRow
from transforms.stills import thumbnail_times, write_preview, write_thumbnails

ASSETS = "assets"


@dataclasses.dataclass(frozen=True)
class RenderParams:
    """What to render and how (from the options)."""

    kinds: tuple[str, ...] = ("proxy", "ladder", "thumbnails", "preview", "highlights", "timeline")
    proxy_height: int = 720
    ladder: tuple[int, ...] = (1080, 720, 480)
    settings: EncodeSettings = EncodeSettings()
    render_chunk_s: float = 300.0
    highlight_pre_s: float = 2.0
    highlight_post_s: float = 3.0
    thumbnails: int = 6
    timeout_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class RenderJob:
    """One video to render: its probe and, when analysed, its motion."""

    probe: VideoProbe
    segments: tuple[Segment, ...] = ()

    @property
    def video_id(self) -> str:
        return self.probe.video_id


@dataclasses.dataclass(frozen=True)
class RenderChunk:
    """An exact frame range of a long source, encoded to every rung on one worker."""

    job: RenderJob
    index: int
    count: int
    start_s: float
    end_s: float | None
    rungs: tuple[tuple[int, str, str], ...]  # (height, asset_type, final file name)
    key: str


def rungs_for(probe: VideoProbe, params: RenderParams) -> list[tuple[int, str, str]]:
    """``(height, asset_type, file name)`` of the proxy and ladder rungs for a source.

    Rungs above the source's display height are skipped (never upscaled); the proxy is
    the ``proxy_height`` rung, so a ladder rung of the same output size is not encoded twice.
    """
    rungs: list[tuple[int, str, str]] = []
    sizes: set[tuple[int, int]] = set()
    if "proxy" in params.kinds:
        rungs.append((params.proxy_height, "proxy", f"proxy_{params.proxy_height}p.mp4"))
        sizes.add(target_size(probe, params.proxy_height))
    if "ladder" in params.kinds:
        for height in params.ladder:
            size = target_size(probe, height)
            if height > probe.display_height or size in sizes:
                continue
            sizes.add(size)
            rungs.append((height, "rendition", f"rendition_{height}p.mp4"))
    return rungs


def _digest(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _source_key(probe: VideoProbe) -> tuple:
    return (probe.uri, probe.file_size_bytes, probe.source_mtime, probe.duration_s)


def _md5_of(uri: str) -> str:
    digest = hashlib.md5()
    with FileSystems.open(uri) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def local_target(uri: str) -> Iterator[str]:
    """A local path to write ``uri``'s bytes to; uploaded atomically afterwards if remote.

    Local outputs are written in place (the encoders write ``.part`` files and rename);
    ``gs://`` outputs are written to a temporary folder, uploaded to a temporary object,
    and renamed into place, so no reader sees a partial object.
    """
    if is_local(uri):
        os.makedirs(os.path.dirname(uri), exist_ok=True)
        yield uri
        return
    folder = tempfile.mkdtemp(prefix="reelbeam-")
    try:
        path = os.path.join(folder, os.path.basename(uri))
        yield path
        if os.path.exists(path):
            upload(path, uri)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def upload(path: str, uri: str) -> None:
    """Copy a local file to ``uri`` through a temporary name, verified by checksum.

    Raises:
        TransientIOError: the stored object's CRC32C differs from the local file's
            (the upload is retried as a whole).
    """
    tmp = f"{uri}.tmp-{uuid.uuid4().hex}"
    crc = google_crc32c.Checksum()
    with open(path, "rb") as src, FileSystems.create(tmp) as dst:
        for block in iter(lambda: src.read(1 << 20), b""):
            crc.update(block)
            dst.write(block)
    if uri.startswith("gs://"):
        stored = FileSystems.checksum(tmp)
        local = base64.b64encode(crc.digest()).decode()
        if stored != local:
            FileSystems.delete([tmp])
            raise TransientIOError(f"upload of {uri} stored CRC32C {stored}, expected {local}")
    FileSystems.rename([tmp], [uri])


def _asset(
    video_id: str,
    asset_type: str,
    uri: str,
    *,
    width: int | None,
    height: int | None,
    duration_s: float | None,
    bitrate_kbps: float | None,
    codec: str,
) -> AssetRow:
    size = FileSystems.match([uri])[0].metadata_list[0].size_in_bytes
    return AssetRow(
        video_id=video_id,
        asset_type=asset_type,
        uri=uri,
        width=width,
        height=height,
        duration_s=round(duration_s, 3) if duration_s is not None else None,
        bitrate_kbps=round(bitrate_kbps, 1) if bitrate_kbps is not None else None,
        size_bytes=int(size),
        md5=_md5_of(uri),
        codec=codec,
    )


def _video_asset(video_id: str, asset_type: str, uri: str, info: RenditionInfo) -> AssetRow:
    return _asset(
        video_id,
        asset_type,
        uri,
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        bitrate_kbps=info.bitrate_kbps,
        codec=info.codec,
    )


class Manifest:
    """Which artifacts of a video are complete, for which source and parameters."""

    def __init__(self, output: str, video_id: str):
        self._output = output
        self._video_id = video_id

    def _uri(self, kind: str) -> str:
        return artifact_uri(self._output, self._video_id, f".render/{kind}.json")

    def cached(self, kind: str, key: str) -> list[AssetRow] | None:
        """The asset rows of a complete artifact with this key, or None."""
        uri = self._uri(kind)
        if not FileSystems.exists(uri):
            return None
        with FileSystems.open(uri) as handle:
            doc = json.loads(handle.read())
        if doc.get("key") != key:
            return None
        rows = [AssetRow.model_validate(r) for r in doc["assets"]]
        for row in rows:
            found = FileSystems.match([row.uri])[0].metadata_list
            if not found or found[0].size_in_bytes != row.size_bytes:
                return None
        return rows

    def record(self, kind: str, key: str, rows: list[AssetRow]) -> None:
        doc = {"key": key, "assets": [r.model_dump(mode="json") for r in rows]}
        uri = self._uri(kind)
        tmp = f"{uri}.tmp-{uuid.uuid4().hex}"
        with FileSystems.create(tmp, mime_type="application/json") as handle:
            handle.write(json.dumps(doc).encode())
        FileSystems.rename([tmp], [uri])


def _remove(uris: Iterable[str]) -> None:
    existing = [u for u in uris if FileSystems.exists(u)]
    if existing:
        FileSystems.delete(existing)


# -- the work, run in the isolated child process -----------------------------------------------


def render_ladder_whole(job: RenderJob, output: str, params: RenderParams) -> list[AssetRow]:
    """Proxy and ladder of a short source from one decode."""
    rungs = rungs_for(job.probe, params)
    if not rungs:
        return []
    uris = {h: artifact_uri(output, job.video_id, name) for h, _, name in rungs}
    with contextlib.ExitStack() as stack:
        paths = {h: stack.enter_context(local_target(uri)) for h, uri in uris.items()}
        infos = render_ladder(job.probe.uri, paths, params.settings)
    return [_video_asset(job.video_id, kind, uris[h], infos[h]) for h, kind, _ in rungs]


def render_thumbnails(job: RenderJob, output: str, params: RenderParams) -> list[AssetRow]:
    """Evenly spaced thumbnails plus a poster inside the strongest segment."""
    times = thumbnail_times(job.probe.duration_s, params.thumbnails, job.segments)
    uris = [artifact_uri(output, job.video_id, f"thumbs/{i:03d}.jpg") for i in range(len(times))]
    with contextlib.ExitStack() as stack:
        paths = [stack.enter_context(local_target(uri)) for uri in uris]
        infos = write_thumbnails(job.probe.uri, times, paths)
    return [
        _asset(
            job.video_id,
            "thumbnail",
            uri,
            width=info.width,
            height=info.height,
            duration_s=None,
            bitrate_kbps=None,
            codec=info.codec,
        )
        for uri, info in zip(uris, infos, strict=True)
    ]


def render_preview(job: RenderJob, output: str, params: RenderParams) -> list[AssetRow]:
    """A short animated WebP from the segments (from the start when there are none)."""
    uri = artifact_uri(output, job.video_id, "preview.webp")
    with local_target(uri) as path:
        info = write_preview(job.probe.uri, path, job.segments, job.probe.duration_s)
    return [
        _asset(
            job.video_id,
            "preview",
            uri,
            width=info.width,
            height=info.height,
            duration_s=info.duration_s,
            bitrate_kbps=None,
            codec=info.codec,
        )
    ]


def render_reel(job: RenderJob, output: str, params: RenderParams) -> list[AssetRow]:
    """The highlight reel and/or its OpenTimelineIO edit; nothing when there are no segments."""
    windows = highlight_windows(
        job.segments, job.probe.duration_s, params.highlight_pre_s, params.highlight_post_s
    )
    rows: list[AssetRow] = []
    stale = [artifact_uri(output, job.video_id, n) for n in ("highlights.mp4", "highlights.otio")]
    if not windows:
        _remove(stale)  # no segments now: an old reel would contradict the row
        return rows
    if "highlights" in params.kinds:
        uri = stale[0]
        with local_target(uri) as path:
            info = render_highlights(
                job.probe.uri, path, windows, params.settings, params.proxy_height
            )
        rows.append(_video_asset(job.video_id, "highlights", uri, info))
    if "timeline" in params.kinds:
        uri = stale[1]
        with local_target(uri) as path:
            write_otio(path, job.probe.uri, windows, job.probe.fps, job.probe.duration_s)
        total = sum(b - a for a, b in windows)
        rows.append(
            _asset(
                job.video_id,
                "timeline",
                uri,
                width=None,
                height=None,
                duration_s=total,
                bitrate_kbps=None,
                codec="otio",
            )
        )
    return rows


_RENDERERS = {
    "ladder": render_ladder_whole,
    "thumbnails": render_thumbnails,
    "preview": render_preview,
    "reel": render_reel,
}


def _render_in_child(state: dict, kind: str, job: RenderJob, output: str, params: RenderParams):
    return _RENDERERS[kind](job, output, params)


def encode_chunk_in_child(state: dict, chunk: RenderChunk, output: str, params: RenderParams):
    """Encode one frame range to every rung; parts go to ``.render/parts/<key>/``."""
    parts = {}
    with contextlib.ExitStack() as stack:
        paths = {}
        for height, _, _ in chunk.rungs:
            uri = _part_uri(output, chunk, height)
            paths[height] = stack.enter_context(local_target(uri))
            parts[height] = uri
        encode_ladder_range(chunk.job.probe.uri, paths, params.settings, chunk.start_s, chunk.end_s)
    return parts


def _part_uri(output: str, chunk: RenderChunk, height: int) -> str:
    name = f".render/parts/{chunk.key}/{height}p_{chunk.index:05d}.mp4"
    return artifact_uri(output, chunk.job.video_id, name)


def join_in_child(
    state: dict, job: RenderJob, parts: dict[int, list[str]], rungs, output: str, params
) -> list[AssetRow]:
    """Download the parts, encode the audio once, join every rung by stream copy."""
    folder = tempfile.mkdtemp(prefix="reelbeam-join-")
    try:
        audio = None
        if job.probe.has_audio:
            audio = os.path.join(folder, "audio.m4a")
            if encode_audio(job.probe.uri, audio, params.settings) is None:
                audio = None
        rows = []
        for height, kind, name in rungs:
            local_parts = []
            for i, uri in enumerate(parts[height]):
                path = os.path.join(folder, f"{height}_{i:05d}.mp4")
                with FileSystems.open(uri) as src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                local_parts.append(path)
            final = artifact_uri(output, job.video_id, name)
            with local_target(final) as path:
                info = join_chunks(local_parts, audio, path)
            rows.append(_video_asset(job.video_id, kind, final, info))
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- Beam ----------------------------------------------------------------------------------------


def render_timeout_s(job: RenderJob, params: RenderParams, share: float = 1.0) -> float:
    """``--decode_timeout_s`` if set, else 120 s plus 6x the media time rendered."""
    if params.timeout_s > 0:
        return params.timeout_s
    return 120.0 + 6.0 * job.probe.duration_s * share


def _kind_key(kind: str, job: RenderJob, params: RenderParams) -> str:
    seg = [(s.start_s, s.end_s) for s in job.segments]
    settings = dataclasses.asdict(params.settings)
    if kind == "ladder":
        return _digest(_source_key(job.probe), rungs_for(job.probe, params), settings)
    if kind == "thumbnails":
        return _digest(_source_key(job.probe), params.thumbnails, seg)
    if kind == "preview":
        return _digest(_source_key(job.probe), seg)
    return _digest(
        _source_key(job.probe),
        seg,
        params.highlight_pre_s,
        params.highlight_post_s,
        params.proxy_height,
        settings,
        [k for k in params.kinds if k in ("highlights", "timeline")],
    )


def _wanted(job: RenderJob, params: RenderParams) -> list[str]:
    kinds = []
    long_source = job.probe.duration_s > params.render_chunk_s
    if not long_source and rungs_for(job.probe, params):
        kinds.append("ladder")
    if "thumbnails" in params.kinds and params.thumbnails > 0:
        kinds.append("thumbnails")
    if "preview" in params.kinds:
        kinds.append("preview")
    if "highlights" in params.kinds or "timeline" in params.kinds:
        kinds.append("reel")
    return kinds


class _IsolatedRenderFn(beam.DoFn):
    """Base of the render DoFns: output, params, clock, and an isolated child per instance."""

    WORKER_NAME = "reelbeam-render"

    def __init__(self, output: str, params: RenderParams, clock: Clock):
        self._output = output
        self._params = params
        self._clock = clock
        self._worker: IsolatedWorker | None = None

    def setup(self) -> None:
        self._worker = IsolatedWorker(self.WORKER_NAME)

    def teardown(self) -> None:
        if self._worker is not None:
            self._worker.close()


class _RenderVideoFn(_IsolatedRenderFn):
    """RenderJob -> asset rows of every artifact kind; each kind fails on its own."""

    WORKER_NAME = "reelbeam-render"

    def process(self, job: RenderJob):
        manifest = Manifest(self._output, job.video_id)
        for kind in _wanted(job, self._params):
            key = _kind_key(kind, job, self._params)
            try:
                rows = manifest.cached(kind, key)
                if rows is not None:
                    report("artifacts_reused", len(rows))
                else:
                    assert self._worker is not None
                    args = (kind, job, self._output, self._params)
                    timeout_s = render_timeout_s(job, self._params)
                    rows = call_with_retries(
                        lambda: self._worker.call(_render_in_child, args, timeout_s)  # noqa: B023
                    )
                    manifest.record(kind, key, rows)
                    report("artifacts_rendered", len(rows))
                    if kind == "ladder":
                        report("seconds_encoded", int(job.probe.duration_s))
            except Exception as exc:
                row = render_failure(exc, job, self._clock)
                logging.warning(
                    "render %s failed for %s: %s: %s",
                    kind,
                    job.probe.uri,
                    row.error_type,
                    row.message,
                )
                yield pvalue.TaggedOutput(FAILURES, row)
                continue
            yield from rows


class _PlanChunksFn(beam.DoFn):
    """Long sources -> RenderChunk elements (or their cached asset rows)."""

    def __init__(self, output: str, params: RenderParams, clock: Clock):
        self._output = output
        self._params = params
        self._clock = clock

    def process(self, job: RenderJob):
        rungs = tuple(rungs_for(job.probe, self._params))
        if job.probe.duration_s > self._params.render_chunk_s and rungs:
            yield from self._plan(job, rungs)

    def _plan(self, job: RenderJob, rungs: tuple):
        key = _kind_key("ladder", job, self._params)
        try:
            cached = Manifest(self._output, job.video_id).cached("ladder", key)
            ranges = []
            if cached is None:
                ranges = plan_render_chunks(
                    job.probe.duration_s,
                    self._params.render_chunk_s,
                    keyframe_times(job.probe.uri),
                )
        except Exception as exc:
            row = render_failure(exc, job, self._clock)
            yield pvalue.TaggedOutput(FAILURES, row)
            return
        for row in cached or ():
            yield pvalue.TaggedOutput(ASSETS, row)
        for i, (start, end) in enumerate(ranges):
            last = i == len(ranges) - 1
            yield RenderChunk(job, i, len(ranges), start, None if last else end, rungs, key)


class _EncodeChunkFn(_IsolatedRenderFn):
    """RenderChunk -> (video_id, (chunk, part uris)); a failed range is a failure row."""

    WORKER_NAME = "reelbeam-encode"

    def process(self, chunk: RenderChunk):
        end = chunk.end_s if chunk.end_s is not None else chunk.job.probe.duration_s
        share = (end - chunk.start_s) / max(chunk.job.probe.duration_s, 1e-6)
        try:
            assert self._worker is not None
            parts = self._worker.call(
                encode_chunk_in_child,
                (chunk, self._output, self._params),
                render_timeout_s(chunk.job, self._params, share),
            )
        except Exception as exc:
            yield pvalue.TaggedOutput(
                FAILURES,
                render_failure(exc, chunk.job, self._clock, chunk_index=chunk.index),
            )
            parts = None
        else:
            report("seconds_encoded", int(end - chunk.start_s))
        yield chunk.job.video_id, (chunk, parts)


class _JoinFn(_IsolatedRenderFn):
    """All parts of one video -> the joined proxy and renditions (or one failure row)."""

    WORKER_NAME = "reelbeam-join"

    def process(self, element):
        _, results = element
        results = sorted(results, key=lambda r: r[0].index)
        first = results[0][0]
        job, rungs = first.job, first.rungs
        part_uris = [uri for _, parts in results if parts for uri in parts.values()]
        try:
            missing = first.count - sum(1 for _, p in results if p)
            if missing:
                raise RuntimeError(f"{missing} of {first.count} render chunks failed; not joined")
            parts = {h: [p[h] for _, p in results] for h, _, _ in rungs}
            assert self._worker is not None
            rows = self._worker.call(
                join_in_child,
                (job, parts, rungs, self._output, self._params),
                render_timeout_s(job, self._params, 0.5),
            )
            Manifest(self._output, job.video_id).record("ladder", first.key, rows)
        except Exception as exc:
            yield pvalue.TaggedOutput(
                FAILURES,
                render_failure(exc, job, self._clock),
            )
        else:
            yield from rows
        finally:
            _remove(part_uris)
            # Local file systems keep the emptied folder; object stores have none.
            _remove([artifact_uri(self._output, job.video_id, ".render/parts")])


def render_failure(exc: Exception, job: RenderJob, clock: Clock, chunk_index: int | None = None):
    """The failure row (stage ``render``) of one video's artifact or render chunk."""
    return failure_row(
        exc,
        input_uri=job.probe.uri,
        stage="render",
        video_id=job.video_id,
        chunk_index=chunk_index,
        clock=clock,
    )


def _job(element, params: RenderParams) -> Iterator[RenderJob]:
    _, grouped = element
    probes = list(grouped["probe"])
    if not probes:
        return
    motions: list[VideoMotion] = list(grouped["motion"])
    segments = motions[0].segments if motions else ()
    job = RenderJob(probes[0], tuple(segments))
    if rungs_for(job.probe, params):
        report("seconds_to_encode", int(job.probe.duration_s))
    yield job


class RenderVideos(beam.PTransform):
    """Probes (+ motion) -> every artifact, as ``assets`` rows; ``failures`` at stage render.

    Input: ``{"probe": PCollection[VideoProbe], "motion": PCollection[VideoMotion]}``.
    """

    def __init__(self, output: str, params: RenderParams, clock: Clock = utc_now):
        super().__init__()
        self._output = output
        self._params = params
        self._clock = clock

    def expand(self, inputs: dict[str, beam.PCollection]):
        keyed = {
            "probe": inputs["probe"] | "KeyProbe" >> beam.Map(lambda p: (p.video_id, p)),
            "motion": inputs["motion"] | "KeyMotion" >> beam.Map(lambda m: (m.video_id, m)),
        }
        jobs = keyed | "Join" >> beam.CoGroupByKey() | "Jobs" >> beam.FlatMap(_job, self._params)
        whole = jobs | "Render" >> beam.ParDo(
            _RenderVideoFn(self._output, self._params, self._clock)
        ).with_outputs(FAILURES, main=ASSETS)
        planned = jobs | "PlanChunks" >> beam.ParDo(
            _PlanChunksFn(self._output, self._params, self._clock)
        ).with_outputs(FAILURES, ASSETS, main="chunks")
        encoded = (
            planned.chunks
            | "FanOut" >> beam.Reshuffle()
            | "EncodeChunks"
            >> beam.ParDo(_EncodeChunkFn(self._output, self._params, self._clock)).with_outputs(
                FAILURES, main="parts"
            )
        )
        joined = (
            encoded.parts
            | "GroupParts" >> beam.GroupByKey()
            | "JoinParts"
            >> beam.ParDo(_JoinFn(self._output, self._params, self._clock)).with_outputs(
                FAILURES, main=ASSETS
            )
        )
        assets = (
            whole[ASSETS],
            planned[ASSETS],
            joined[ASSETS],
        ) | "AllAssets" >> beam.Flatten()
        failures = (
            whole[FAILURES],
            planned[FAILURES],
            encoded[FAILURES],
            joined[FAILURES],
        ) | "AllRenderFailures" >> beam.Flatten()
        return {"assets": assets, "failures": failures}
