"""The exception hierarchy that decides where a failure goes.

Permanent errors (corrupt, unsupported or vanished media) go to the dead-letter
output at once: retrying cannot help. Transient errors (IO that can pass: network
blips, timeouts, rate limits) are raised again so that the runner retries the
bundle. Anything unexpected is treated as permanent for that one input, so a
single bad file can never stop a batch or crash-loop a stream.
"""

from __future__ import annotations

import errno

import av
from google.api_core import exceptions as gexc


class ReelbeamError(Exception):
    """Base class for errors that reelbeam raises on purpose."""

    permanent: bool = True


class MediaError(ReelbeamError):
    """The file is not media we can use; retrying will not change that."""


class EmptyFileError(MediaError):
    """The file has zero bytes."""


class NoVideoStreamError(MediaError):
    """The container opened but holds no video stream (audio only, image, data)."""


class UnsupportedMediaError(MediaError):
    """The container or codec cannot be decoded by this build."""


class CorruptMediaError(MediaError):
    """The data is damaged: truncated, missing index, undecodable packets."""


class DecodeTimeoutError(MediaError):
    """Decoding took longer than ``--decode_timeout_s``."""


class SourceVanishedError(MediaError):
    """The file was found but no longer exists when it was read."""


class TrustError(ReelbeamError):
    """An input refused for trust reasons; ``--retry_failures`` never retries these."""


class OutsideAllowedRootsError(TrustError):
    """An input list or notification names a file outside the allowed roots."""


def trust_error_types() -> frozenset[str]:
    """``error_type`` values of failure rows refused for trust reasons."""
    return frozenset(cls.__name__ for cls in (TrustError, *TrustError.__subclasses__()))


class TransientIOError(ReelbeamError):
    """IO that may succeed when retried (network, storage 5xx, timeouts)."""

    permanent = False


_TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EINTR, errno.ETIMEDOUT, errno.ECONNRESET, errno.EIO}
# BigQuery error reasons and messages that a retry cures (rate limits, backend blips,
# concurrent MERGE transactions).
_TRANSIENT_REASONS = frozenset(
    {
        "backendError",
        "internalError",
        "rateLimitExceeded",
        "jobBackendError",
        "jobInternalError",
        "jobRateLimitExceeded",
    }
)
_TRANSIENT_MESSAGES = ("concurrent update", "could not serialize access", "retry the transaction")


def _transient_api_error(exc: gexc.GoogleAPICallError) -> bool:
    reasons = {e.get("reason") for e in (exc.errors or []) if isinstance(e, dict)}
    if reasons & _TRANSIENT_REASONS:
        return True
    message = str(exc.message).lower()
    return any(text in message for text in _TRANSIENT_MESSAGES)


def classify(exc: BaseException) -> tuple[str, bool]:
    """Name an exception and say whether it is permanent.

    Args:
        exc: the exception raised while handling one input.

    Returns:
        ``(error_type, permanent)``: the class name recorded in the failure row,
        and True where retrying cannot help.
    """
    name = type(exc).__name__
    if isinstance(exc, ReelbeamError):
        return name, exc.permanent
    if isinstance(exc, FileNotFoundError):
        return SourceVanishedError.__name__, True
    if isinstance(exc, PermissionError):
        return name, True
    if isinstance(exc, av.error.FFmpegError):
        # FFmpeg's own errors on file input are properties of the bytes.
        return name, True
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return name, False
    if isinstance(exc, (gexc.TooManyRequests, gexc.ServerError, gexc.RetryError)):
        return name, False  # cloud storage / BigQuery 429 and 5xx: worth another try
    if isinstance(exc, gexc.GoogleAPICallError):
        return name, not _transient_api_error(exc)
    if _is_requests_network_error(exc):
        return name, False
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return name, False
    return name, True


def _is_requests_network_error(exc: BaseException) -> bool:
    try:
        import requests
    except ImportError:  # pragma: no cover - requests comes with the Google clients
        return False
    return isinstance(exc, (requests.ConnectionError, requests.Timeout))
