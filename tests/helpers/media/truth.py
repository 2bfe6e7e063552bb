"""Ground-truth records of the clips this package writes, and the rotation convention.

Rotation convention:
    ``rotation_deg`` is the **clockwise** rotation a player applies to the stored (coded) frames
    to show them upright; it is what the legacy ``rotate`` tag of phone videos says. A phone
    held upright typically stores landscape frames with ``rotation_deg=90``. It is written as a
    display matrix (MP4/MOV ``tkhd`` matrix, Matroska projection). Readers report the opposite
    sign: PyAV 18's ``VideoFrame.rotation`` (like ``ffprobe``'s ``side_data_list[].rotation`` and
    FFmpeg's ``av_display_rotation_get``) is the *counter-clockwise* angle in ``[-180, 180]``, so
    ``rotation_deg`` 90, 180 and 270 read back as ``frame.rotation`` -90, -180 and 90. Use
    :func:`clockwise_rotation` to convert a read-back value to this convention.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction


@dataclasses.dataclass(frozen=True)
class ClipTruth:
    """Ground truth of a clip written by :func:`write_synthetic_clip`.

    Attributes:
        width: Coded (stored) frame width in pixels, before rotation.
        height: Coded (stored) frame height in pixels, before rotation.
        fps: Frame rate. For a variable-frame-rate clip this is the mean rate, and the frame
            gaps alternate between 2/3 and 4/3 of ``1 / fps``.
        frame_count: Number of video frames (equals the number of video packets).
        duration_s: Video duration: the last frame's timestamp plus its duration.
        rotation_deg: Clockwise rotation a player applies to show the frames upright
            (0, 90, 180 or 270); see the module docstring for the sign convention.
        sar: Sample (pixel) aspect ratio as a reduced ``(num, den)``; ``(1, 1)`` is square.
        has_audio: Whether there is an audio stream.
        audio_rate: Audio sample rate in Hz, or None without audio.
        audio_channels: Number of audio channels, or None without audio.
        codec: Video encoder name (``libx264``, ``libvpx-vp9``, ...).
        pix_fmt: Pixel format of the encoded video.
        is_vfr: Whether frame timestamps are irregularly spaced.
        audio_codec: Audio encoder name, or None without audio.
        audio_duration_s: Duration of the audio, or None without audio.
    """

    width: int
    height: int
    fps: Fraction
    frame_count: int
    duration_s: float
    rotation_deg: int
    sar: tuple[int, int]
    has_audio: bool
    audio_rate: int | None
    audio_channels: int | None
    codec: str
    pix_fmt: str
    is_vfr: bool
    audio_codec: str | None = None
    audio_duration_s: float | None = None

    @property
    def display_width(self) -> int:
        """Width of the upright picture in stored pixels (rotation applied, SAR not)."""
        return self.height if self.rotation_deg in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        """Height of the upright picture in stored pixels (rotation applied, SAR not)."""
        return self.width if self.rotation_deg in (90, 270) else self.height

    @property
    def frame_rotation(self) -> int:
        """The value PyAV 18's ``VideoFrame.rotation`` reports for this clip (counter-clockwise)."""
        return {0: 0, 90: -90, 180: -180, 270: 90}[self.rotation_deg]


@dataclasses.dataclass(frozen=True)
class AudioTruth:
    """Ground truth of a file written by :func:`write_audio_only`.

    Attributes:
        duration_s: Audio duration in seconds.
        rate: Sample rate in Hz.
        channels: Number of channels.
        codec: Audio encoder name.
        sample_count: Number of samples per channel that were encoded.
    """

    duration_s: float
    rate: int
    channels: int
    codec: str
    sample_count: int


def clockwise_rotation(frame_rotation: float) -> int:
    """Convert a read-back display rotation to this module's clockwise convention.

    Args:
        frame_rotation: Counter-clockwise angle as reported by PyAV's ``VideoFrame.rotation``
            or ffprobe's display-matrix ``rotation`` (e.g. -90).

    Returns:
        The clockwise rotation a player applies, in ``{0, 90, 180, 270}`` (e.g. 90).
    """
    return int(round(-frame_rotation / 90.0)) * 90 % 360
