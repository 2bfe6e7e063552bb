"""Asset rows of written artifacts, and the per-artifact manifests that let reruns skip them.

A manifest, ``videos/<id>/.render/<kind>.json``, holds the cache key an artifact
kind was rendered with and its asset rows; it is written (atomically) only after
every file of the kind is in place, so it never names a missing or partial file.
"""

from __future__ import annotations

import dataclasses
import json

from transforms.artifacts import artifact_uri
from transforms.encoding.mux import RenditionInfo
from transforms.io.atomic import write_text
from transforms.io.filesystems import exists, md5_of, read_bytes, size_of
from transforms.schemas import AssetRow


def asset_row(
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
    """The ``assets`` row of a file already written at ``uri`` (size and MD5 read back)."""
    size = size_of(uri)
    return AssetRow(
        video_id=video_id,
        asset_type=asset_type,
        uri=uri,
        width=width,
        height=height,
        duration_s=round(duration_s, 3) if duration_s is not None else None,
        bitrate_kbps=round(bitrate_kbps, 1) if bitrate_kbps is not None else None,
        size_bytes=int(size),
        md5=md5_of(uri),
        codec=codec,
    )


def video_asset_row(video_id: str, asset_type: str, uri: str, info: RenditionInfo) -> AssetRow:
    """The ``assets`` row of an encoded MP4."""
    return asset_row(
        video_id,
        asset_type,
        uri,
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        bitrate_kbps=info.bitrate_kbps,
        codec=info.codec,
    )


@dataclasses.dataclass(frozen=True)
class Rendered:
    """An artifact kind as rendered: its asset rows and, for the ladder, the damage it met.

    Attributes:
        rows: The ``assets`` rows of its files.
        decode_errors: Damaged packets per stream kind that decoding the whole source
            concealed (the proxy and ladder pass), None for the other kinds.
    """

    rows: list[AssetRow]
    decode_errors: dict[str, int] | None = None


class Manifest:
    """Which artifacts of a video are complete, for which source and parameters."""

    def __init__(self, output: str, video_id: str):
        self._output = output
        self._video_id = video_id

    def _uri(self, kind: str) -> str:
        return artifact_uri(self._output, self._video_id, f".render/{kind}.json")

    def cached(self, kind: str, key: str) -> Rendered | None:
        """A complete artifact kind rendered with this key, or None."""
        uri = self._uri(kind)
        if not exists(uri):
            return None
        doc = json.loads(read_bytes(uri))
        if doc.get("key") != key:
            return None
        rows = [AssetRow.model_validate(r) for r in doc["assets"]]
        for row in rows:
            if size_of(row.uri) != row.size_bytes:
                return None
        return Rendered(rows, doc.get("decode_errors"))

    def record(self, kind: str, key: str, rendered: Rendered) -> None:
        """Record ``rendered`` as the complete artifact ``kind`` rendered with ``key``."""
        doc = {"key": key, "assets": [r.model_dump(mode="json") for r in rendered.rows]}
        if rendered.decode_errors is not None:
            doc["decode_errors"] = rendered.decode_errors
        write_text(self._uri(kind), json.dumps(doc), "application/json")
