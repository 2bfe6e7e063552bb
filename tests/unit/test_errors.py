"""Permanent vs transient: what goes to dead letters at once and what is retried."""

import errno

import av
import pytest
from google.api_core import exceptions as gexc

from transforms.errors import CorruptMediaError, TransientIOError, classify
from transforms.io.retry import call_with_retries


@pytest.mark.parametrize(
    ("exc", "name", "permanent"),
    [
        (CorruptMediaError("x"), "CorruptMediaError", True),
        (av.error.InvalidDataError(1094995529, "Invalid data"), "InvalidDataError", True),
        (FileNotFoundError("gone"), "SourceVanishedError", True),
        (TransientIOError("blip"), "TransientIOError", False),
        (TimeoutError(), "TimeoutError", False),
        (ConnectionResetError(), "ConnectionResetError", False),
        (OSError(errno.EIO, "io"), "OSError", False),
        (gexc.ServiceUnavailable("503"), "ServiceUnavailable", False),
        (gexc.TooManyRequests("429"), "TooManyRequests", False),
        (gexc.NotFound("404"), "NotFound", True),
        (ValueError("bug"), "ValueError", True),
    ],
)
def test_classify(exc, name, permanent):
    assert classify(exc) == (name, permanent)


def test_transient_errors_are_retried_with_backoff_and_permanent_ones_are_not():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise gexc.ServiceUnavailable("503 backend")
        return "ok"

    assert (
        call_with_retries(flaky, attempts=4, base_delay_s=0.5, jitter=0, sleep=sleeps.append)
        == "ok"
    )
    assert sleeps == [0.5, 1.0]

    def broken():
        calls.append(1)
        raise CorruptMediaError("bad bytes")

    calls.clear()
    with pytest.raises(CorruptMediaError):
        call_with_retries(broken, sleep=sleeps.append)
    assert len(calls) == 1


def test_a_transient_error_that_persists_is_raised_after_the_attempts():
    sleeps = []
    with pytest.raises(TimeoutError):
        call_with_retries(
            lambda: (_ for _ in ()).throw(TimeoutError()), jitter=0, sleep=sleeps.append
        )
    assert sleeps == [0.5, 1.0]
