"""The render work itself, run in the isolated child process of a render DoFn.

Each function is called as ``fn(state, *args)`` by ``IsolatedWorker``. Outputs go
through ``transforms.io.atomic.local_target``: encoders write a local file, which
is published under its final name (renamed locally, uploaded and verified on
``gs://``) only when it is complete.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from transforms.artifacts import artifact_uri
from transforms.encoding.chunked import encode_audio, join_chunks, keyframe_times
from transforms.encoding.highlights import highlight_windows, render_highlights, write_otio
from transforms.encoding.ladder import encode_ladder_range, render_ladder
from transforms.encoding.stills import thumbnail_times, write_preview, write_thumbnails
from transforms.io.atomic import local_target
from transforms.io.filesystems import delete, open_read
from transforms.io.uris import is_local
from transforms.media.damage import DecodeErrors
from transforms.render.jobs import RenderChunk, RenderJob, RenderParams, rungs_for
from transforms.render.manifest import asset_row, video_asset_row
from transforms.schemas import AssetRow


def counted_in_child(
    state: dict, fn: Callable[..., Any], max_errors: int, source: str, *args
) -> tuple[Any, dict[str, int]]:
    """Run ``fn(state, *args, errors=...)`` and return its result and the damage it met.

    Damaged packets are skipped and counted (``transforms.media.damage``); past
    ``max_errors`` (``--max_decode_errors``) the call fails with ``CorruptMediaError``.
    """
    errors = DecodeErrors(max_errors, source=source)
    return fn(state, *args, errors=errors), errors.as_dict()


def render_ladder_whole(
    job: RenderJob, output: str, params: RenderParams, errors: DecodeErrors | None = None
) -> list[AssetRow]:
    """Proxy and ladder of a short source from one decode (damage counted in ``errors``)."""
    rungs = rungs_for(job.probe, params)
    if not rungs:
        return []
    uris = {h: artifact_uri(output, job.video_id, name) for h, _, name in rungs}
    with contextlib.ExitStack() as stack:
        paths = {h: stack.enter_context(local_target(uri)) for h, uri in uris.items()}
        infos = render_ladder(job.probe.uri, paths, params.settings, errors=errors)
    return [video_asset_row(job.video_id, kind, uris[h], infos[h]) for h, kind, _ in rungs]


def render_thumbnails(
    job: RenderJob, output: str, params: RenderParams, errors: DecodeErrors | None = None
) -> list[AssetRow]:
    """Evenly spaced thumbnails plus a poster inside the strongest segment."""
    times = thumbnail_times(job.probe.duration_s, params.thumbnails, job.segments)
    uris = [artifact_uri(output, job.video_id, f"thumbs/{i:03d}.jpg") for i in range(len(times))]
    with contextlib.ExitStack() as stack:
        paths = [stack.enter_context(local_target(uri)) for uri in uris]
        infos = write_thumbnails(job.probe.uri, times, paths, errors=errors)
    return [
        asset_row(
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


def render_preview(
    job: RenderJob, output: str, params: RenderParams, errors: DecodeErrors | None = None
) -> list[AssetRow]:
    """A short animated WebP from the segments (from the start when there are none)."""
    uri = artifact_uri(output, job.video_id, "preview.webp")
    with local_target(uri) as path:
        info = write_preview(job.probe.uri, path, job.segments, job.probe.duration_s, errors=errors)
    return [
        asset_row(
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


def render_reel(
    job: RenderJob, output: str, params: RenderParams, errors: DecodeErrors | None = None
) -> list[AssetRow]:
    """The highlight reel and/or its OpenTimelineIO edit; nothing when there are no segments."""
    windows = highlight_windows(
        job.segments, job.probe.duration_s, params.highlight_pre_s, params.highlight_post_s
    )
    rows: list[AssetRow] = []
    stale = [artifact_uri(output, job.video_id, n) for n in ("highlights.mp4", "highlights.otio")]
    if not windows:
        delete(stale)  # no segments now: an old reel would contradict the row
        return rows
    if "highlights" in params.kinds:
        uri = stale[0]
        with local_target(uri) as path:
            info = render_highlights(
                job.probe.uri, path, windows, params.settings, params.proxy_height, errors
            )
        rows.append(video_asset_row(job.video_id, "highlights", uri, info))
    if "timeline" in params.kinds:
        uri = stale[1]
        with local_target(uri) as path:
            write_otio(path, job.probe.uri, windows, job.probe.fps, job.probe.duration_s)
        total = sum(b - a for a, b in windows)
        rows.append(
            asset_row(
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


def render_kind_in_child(
    state: dict,
    kind: str,
    job: RenderJob,
    output: str,
    params: RenderParams,
    errors: DecodeErrors | None = None,
) -> list[AssetRow]:
    """Render one artifact kind (``ladder``, ``thumbnails``, ``preview``, ``reel``)."""
    return _RENDERERS[kind](job, output, params, errors)


def keyframe_times_in_child(state: dict, src: str) -> list[float]:
    """The source's keyframe times: opening it is decoding untrusted input, so it runs here."""
    return keyframe_times(src)


def part_uri(output: str, chunk: RenderChunk, height: int) -> str:
    """Where one rung of one render chunk is kept until the join."""
    leaf = "audio.m4a" if chunk.audio else f"{height}p_{chunk.index:05d}.mp4"
    return artifact_uri(output, chunk.job.video_id, f".render/parts/{chunk.key}/{leaf}")


AUDIO_PART = 0
"""The key of the audio pass's part among a render chunk's parts (rung heights are > 0)."""


def encode_chunk_in_child(
    state: dict,
    chunk: RenderChunk,
    output: str,
    params: RenderParams,
    errors: DecodeErrors | None = None,
) -> dict[int, str]:
    """Encode one frame range to every rung; returns rung height -> part URI.

    The audio pass (``chunk.audio``) encodes the source's audio track instead, to
    ``{AUDIO_PART: uri}``, or ``{}`` when the source has no audio that decodes.
    """
    if chunk.audio:
        uri = part_uri(output, chunk, AUDIO_PART)
        with local_target(uri) as path:
            duration_s = encode_audio(chunk.job.probe.uri, path, params.settings, errors)
        return {} if duration_s is None else {AUDIO_PART: uri}
    parts = {}
    with contextlib.ExitStack() as stack:
        paths = {}
        for height, _, _ in chunk.rungs:
            uri = part_uri(output, chunk, height)
            paths[height] = stack.enter_context(local_target(uri))
            parts[height] = uri
        encode_ladder_range(
            chunk.job.probe.uri, paths, params.settings, chunk.start_s, chunk.end_s, errors
        )
    return parts


def _local(uri: str, path: str) -> str:
    """A local path holding ``uri``: itself when local, else downloaded to ``path``."""
    if is_local(uri):
        return uri
    with open_read(uri) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return path


def join_in_child(
    state: dict,
    job: RenderJob,
    parts: dict[int, list[str]],
    rungs: tuple[tuple[int, str, str], ...],
    output: str,
    audio_uri: str | None,
    errors: DecodeErrors | None = None,
) -> list[AssetRow]:
    """Join every rung's parts and the audio pass's track by stream copy (remote parts are
    downloaded first; local ones are read where they are)."""
    folder = tempfile.mkdtemp(prefix="reelbeam-join-")
    try:
        audio = _local(audio_uri, os.path.join(folder, "audio.m4a")) if audio_uri else None
        rows = []
        for height, kind, name in rungs:
            local_parts = []
            for i, uri in enumerate(parts[height]):
                local_parts.append(_local(uri, os.path.join(folder, f"{height}_{i:05d}.mp4")))
            final = artifact_uri(output, job.video_id, name)
            with local_target(final) as path:
                info = join_chunks(local_parts, audio, path)
            rows.append(video_asset_row(job.video_id, kind, final, info))
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)
