"""pytest plugin: in CI a skipped test is a failure, unless it needs a GPU.

A test that skips because an emulator, Chromium or a model is missing proves
nothing, and a CI run that skips it must not go green. With ``CI=true`` every skip
becomes a failure naming its reason, except tests marked ``gpu`` (CI machines have
none). Locally skips stay allowed; ``-ra`` names each one in the summary.

GPU tests call ``gpu_present()`` to decide: they skip only where no NVIDIA GPU is
visible, and fail like any other test where one is present but broken.
"""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    """True under CI (``CI=true``, as CI services and ``.ci/run`` set it)."""
    return os.environ.get("CI", "").lower() == "true"


def gpu_present() -> bool:
    """True where an NVIDIA GPU is visible to this process (a device node or the driver tool)."""
    if os.path.exists("/dev/nvidia0"):
        return True
    return shutil.which("nvidia-smi") is not None and os.path.exists("/proc/driver/nvidia")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or not in_ci() or item.get_closest_marker("gpu"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true (only gpu tests may skip): {reason}"
