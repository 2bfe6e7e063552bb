"""What to render for a video: parameters, jobs and chunks, ladder rungs, cache keys, timeouts.

Pure: no Beam, no IO. A cache key names the source (URI, size, mtime, duration)
and every parameter an artifact depends on, so a rerun reuses exactly the
artifacts whose inputs did not change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from transforms.encoding.settings import EncodeSettings
from transforms.media.damage import DEFAULT_MAX_ERRORS
from transforms.media.geometry import target_size
from transforms.records import Segment, VideoProbe
from transforms.render.auto_chunks import AUTO, chunk_seconds


@dataclasses.dataclass(frozen=True)
class RenderParams:
    """What to render and how (from the options)."""

    kinds: tuple[str, ...] = ("proxy", "ladder", "thumbnails", "preview", "highlights", "timeline")
    proxy_height: int = 720
    ladder: tuple[int, ...] = (1080, 720, 480)
    settings: EncodeSettings = EncodeSettings()
    render_chunk_s: float = AUTO  # seconds, or AUTO: sized per source (auto_chunks)
    render_workers: int = 1  # workers that encode chunks at once (sizes AUTO chunks)
    highlight_pre_s: float = 2.0
    highlight_post_s: float = 3.0
    thumbnails: int = 6
    timeout_s: float = 0.0
    max_decode_errors: int = DEFAULT_MAX_ERRORS


@dataclasses.dataclass(frozen=True)
class RenderJob:
    """One video to render: its probe and, when analysed, its motion."""

    probe: VideoProbe
    segments: tuple[Segment, ...] = ()

    @property
    def video_id(self) -> str:
        """The video's ``video_id``."""
        return self.probe.video_id


@dataclasses.dataclass(frozen=True)
class RenderChunk:
    """An exact frame range of a long source, encoded to every rung on one worker.

    With ``audio`` set, the element is the source's audio pass instead: the whole audio
    track encoded once, on a worker of its own beside the frame ranges (``rungs`` empty,
    ``index == count``), so the join only copies streams.
    """

    job: RenderJob
    index: int
    count: int
    start_s: float
    end_s: float | None
    rungs: tuple[tuple[int, str, str], ...]  # (height, asset_type, final file name)
    key: str
    audio: bool = False  # the source's whole audio track, encoded once beside the ranges


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


def kind_key(kind: str, job: RenderJob, params: RenderParams) -> str:
    """Cache key of one artifact kind (``ladder``, ``thumbnails``, ``preview``, ``reel``)."""
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


def is_long(job: RenderJob, params: RenderParams) -> bool:
    """Whether the source's proxy and ladder are encoded in parallel chunks and joined."""
    duration_s = job.probe.duration_s
    chunk_s = chunk_seconds(
        duration_s, params.render_chunk_s, params.render_workers, job.probe.has_audio
    )
    return duration_s > chunk_s


def wanted_kinds(job: RenderJob, params: RenderParams) -> list[str]:
    """Artifact kinds rendered whole, per video (a long source's ladder goes by chunks)."""
    kinds = []
    if not is_long(job, params) and rungs_for(job.probe, params):
        kinds.append("ladder")
    if "thumbnails" in params.kinds and params.thumbnails > 0:
        kinds.append("thumbnails")
    if "preview" in params.kinds:
        kinds.append("preview")
    if "highlights" in params.kinds or "timeline" in params.kinds:
        kinds.append("reel")
    return kinds


def render_timeout_s(job: RenderJob, params: RenderParams, share: float = 1.0) -> float:
    """``--decode_timeout_s`` if set, else 120 s plus 6x the media time rendered.

    ``share`` is the part of the source's duration the call renders (0 for calls that
    read only the container index, such as planning chunks at keyframes).
    """
    if params.timeout_s > 0:
        return params.timeout_s
    return 120.0 + 6.0 * job.probe.duration_s * share
