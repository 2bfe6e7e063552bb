"""proxy_encode: ``render_ladder`` proxy of a 1080p30 source vs the ``ffmpeg`` CLI.

Both sides make the same 720p proxy from the same source: the same scale filter
(``scale=W:H:flags=bicubic``, ``format=yuv420p``, ``setsar=1``, as ``FramePipe`` builds it),
the same encoder options (``video_encoder_options``: libx264, CRF 23, preset fast, High
profile, ``stitchable=1:8x8dct=1``), the same thread settings (``EncodeSettings.threads``,
0 = the codec's automatic count, for the decoder and the encoder) and ``+faststart``.
The source has no audio, so neither side encodes any.
"""

from __future__ import annotations

from pathlib import Path

import av

from benchmarks import media_cache
from benchmarks.common import (
    Context,
    Result,
    interleaved,
    med_cpu,
    med_wall,
    profile_top,
    run_cmd,
    samples,
)
from transforms.encoding.ladder import render_ladder
from transforms.encoding.readback import probe_output
from transforms.encoding.settings import EncodeSettings, video_encoder_options
from transforms.media.geometry import target_size
from transforms.media.probe import probe_video
from transforms.records import FoundFile

NAME = "proxy_encode"
TARGET = "ratio >= 0.95 (ffmpeg s / ours s)"
PROXY_HEIGHT = 720


def ffmpeg_encode_cmd(
    ffmpeg: str, src: Path, dst: Path, size: tuple[int, int], settings: EncodeSettings
) -> list[str]:
    """The ffmpeg CLI command that makes what ``render_ladder`` makes for one rung."""
    codec, options = video_encoder_options(settings)
    threads = str(settings.threads)
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-v", "error"]
    cmd += ["-threads", threads, "-i", str(src), "-map", "0:v:0", "-an", "-sn", "-dn"]
    cmd += ["-vf", f"scale={size[0]}:{size[1]}:flags=bicubic,format=yuv420p,setsar=1"]
    cmd += ["-c:v", codec, "-threads", threads]
    for key, value in options.items():
        cmd += [f"-{key}:v", value]
    cmd += ["-movflags", "+faststart", str(dst)]
    return cmd


def probe_of(path: Path):
    stat = path.stat()
    return probe_video(FoundFile(str(path), stat.st_size, stat.st_mtime, path.stem))


def run(ctx: Context) -> Result:
    seconds = 4 if ctx.quick else 60
    src = media_cache.looped_source(1080, seconds)
    probe = probe_of(src)
    settings = EncodeSettings()
    size = target_size(probe, PROXY_HEIGHT)
    work = ctx.scratch(NAME)
    ours_dst, base_dst = work / "ours.mp4", work / "ffmpeg.mp4"

    def ours():
        return render_ladder(str(src), {PROXY_HEIGHT: str(ours_dst)}, settings)

    baseline = None
    if ctx.ffmpeg:
        cmd = ffmpeg_encode_cmd(ctx.ffmpeg, src, base_dst, size, settings)

        def baseline():
            return run_cmd(cmd)

    mine, theirs = interleaved(ours, baseline, ctx.repeats)
    ours_s, base_s = med_wall(mine), med_wall(theirs)
    mine_out = probe_output(ours_dst)
    notes = [
        f"Source: {seconds} s 1080p30 ({'quick; the issue size is 60 s' if ctx.quick else '1 minute'}"
        f", {probe.frame_count} frames, {probe.bitrate_kbps:.0f} kbit/s), proxy {size[0]}x{size[1]}, "
        f"{settings.encoder} crf {settings.crf} preset {settings.preset}, threads "
        f"{settings.threads or 'auto'} both sides. PyAV {av.__version__} (FFmpeg "
        f"{av.ffmpeg_version_info}).",
    ]
    details = {
        "source_s": seconds,
        "ours": samples(mine),
        "baseline": samples(theirs),
        "throughput": {"proxy_encode (ours)": [float(seconds), med_cpu(mine)]},
    }
    ratio = met = None
    if base_s is not None:
        theirs_out = probe_output(base_dst)
        ratio = base_s / ours_s
        met = ratio >= 0.95
        details["throughput"]["proxy_encode (ffmpeg)"] = [float(seconds), med_cpu(theirs)]
        size_diff = 100 * (mine_out["size_bytes"] / theirs_out["size_bytes"] - 1)
        notes.append(
            f"Frames ours/ffmpeg {mine_out['frame_count']}/{theirs_out['frame_count']}, file size "
            f"{size_diff:+.1f}% vs ffmpeg (same settings give the same bits). CPU s ours "
            f"{med_cpu(mine):.1f} vs ffmpeg {med_cpu(theirs):.1f}; cores busy ours "
            f"{med_cpu(mine) / ours_s:.2f} vs ffmpeg {med_cpu(theirs) / base_s:.2f}."
        )
        if not met:
            _, top = profile_top(ours, ctx.out / "profiles" / f"{NAME}.txt")
            notes.append(
                "Target missed. Main-thread profile of ours (full table in "
                f"profiles/{NAME}.txt): "
                + "; ".join(top)
                + ". "
                + explain(med_cpu(mine), ours_s, med_cpu(theirs), base_s)
            )
    else:
        notes.append(
            "Baseline skipped: ffmpeg CLI not found (run scripts/apt_install.sh ffmpeg ffmpeg ffprobe)."
        )
    note = ctx.busy_note()
    return Result(NAME, ours_s, base_s, ratio, TARGET, "s", " ".join(notes) + note, met, details)


def explain(ours_cpu: float, ours_s: float, base_cpu: float, base_s: float) -> str:
    """What bounds an encode that is slower than ffmpeg's, from its CPU and wall times."""
    if ours_cpu > base_cpu * 1.05:
        return (
            f"Ours spends {100 * (ours_cpu / base_cpu - 1):.0f}% more CPU for the same output: "
            "the per-frame work itself costs more (the encoder/scaler builds bundled with PyAV "
            "vs Debian's, or extra frame copies); matching builds or fewer conversions would "
            "move it."
        )
    return (
        "Ours spends about the same CPU but keeps fewer cores busy: decode, filter and encode "
        "run one after another on the calling thread between x264's frame threads; "
        "overlapping decode+scale with encoding (a decode thread feeding a queue) would move it."
    )
