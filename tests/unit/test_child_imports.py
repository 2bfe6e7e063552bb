"""The isolated children start without Beam: what they run imports none of it.

The fork server preloads ``FORKSERVER_PRELOAD`` beside the launcher's own Beam import;
one module of it that imports Beam at module level would put Beam's 2-3 s back in
front of the first probe (``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelines.argv import names_remote_uri
from transforms.chunk_analysis import analyse_in_child, load_backend_in_child
from transforms.io.isolation import FORKSERVER_PRELOAD
from transforms.media.probe import probe_in_child
from transforms.render.work import (
    counted_in_child,
    encode_chunk_in_child,
    join_in_child,
    keyframe_times_in_child,
    render_kind_in_child,
)

CHILD_FUNCTIONS = (
    probe_in_child,
    load_backend_in_child,
    analyse_in_child,
    counted_in_child,
    encode_chunk_in_child,
    join_in_child,
    keyframe_times_in_child,
    render_kind_in_child,
)


@pytest.mark.parametrize("fn", CHILD_FUNCTIONS, ids=lambda fn: fn.__name__)
def test_what_a_child_runs_is_in_a_preloaded_module(fn):
    assert fn.__module__ in FORKSERVER_PRELOAD


def test_the_preloaded_modules_import_no_beam():
    code = (
        "import sys\n"
        f"for name in {list(FORKSERVER_PRELOAD)!r}:\n"
        "    __import__(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'apache_beam')[:5])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", f"a preloaded module imports Beam: {out.stdout}"


@pytest.mark.parametrize(
    ("argv", "remote"),
    [
        (["--input", "sample", "--output", "out"], False),
        (["--input", "gs://b/raw/**", "--output", "out"], True),
        (["--input", "sample", "--output=gs://b/out"], True),
        (["--watch", "/nas/inbox", "--output", "out"], False),
        (["--input_subscription", "projects/p/subscriptions/s", "--output", "out"], True),
        (["--input", "sample", "--output", "out", "--pose_model", "gs://m/pose.task"], True),
    ],
)
def test_a_command_line_naming_gs_preloads_remote_io(argv, remote):
    assert names_remote_uri(argv) is remote
