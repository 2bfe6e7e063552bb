"""The runner capability table, the option checks it drives, the wait and the summary line."""

from __future__ import annotations

import json
import pathlib
import time

import pytest
from apache_beam.options.pipeline_options import DirectOptions
from apache_beam.runners.runner import PipelineState

from pipelines.launcher import catalog_counts, parse, run, summary
from pipelines.run_config import RunConfig, SinkConfig, StreamConfig
from pipelines.runners import (
    RUNNERS,
    Capabilities,
    canonical_name,
    capabilities,
    delivery_warnings,
    option_problems,
    runs_streaming,
    shared_path_warnings,
)
from pipelines.streaming import local_worker_problems, pulls_subscription, wait_streaming

SUBSCRIPTION = "projects/p/subscriptions/s"


@pytest.mark.parametrize(
    "runner, name",
    [
        (None, "DirectRunner"),
        ("direct", "DirectRunner"),
        ("DirectRunner", "DirectRunner"),
        ("BundleBasedDirectRunner", "BundleBasedDirectRunner"),
        ("dataflow", "DataflowRunner"),
        ("apache_beam.runners.dataflow.dataflow_runner.DataflowRunner", "DataflowRunner"),
        ("PortableRunner", "PortableRunner"),
        ("flink", "FlinkRunner"),
        ("SparkRunner", "SparkRunner"),
        ("prism", "PrismRunner"),
        ("MyClusterRunner", "MyClusterRunner"),
    ],
)
def test_runner_names_map_to_one_row(runner, name):
    assert canonical_name(runner) == name


def test_runner_instances_are_named_by_class():
    class FlinkRunner:  # the class name is what counts
        pass

    assert capabilities(FlinkRunner()).name == "FlinkRunner"


@pytest.mark.parametrize(
    "name, pubsub, unbounded_watch, shares_local_files",
    [
        ("DirectRunner", True, False, True),
        ("BundleBasedDirectRunner", True, False, True),
        ("DataflowRunner", True, True, False),
        ("PortableRunner", False, False, False),
        ("FlinkRunner", False, True, False),
        ("SparkRunner", False, False, False),
        ("PrismRunner", False, True, True),
    ],
)
def test_capability_table(name, pubsub, unbounded_watch, shares_local_files):
    caps = RUNNERS[name]
    assert (caps.pubsub, caps.unbounded_watch, caps.shares_local_files) == (
        pubsub,
        unbounded_watch,
        shares_local_files,
    )


def test_spark_has_no_streaming_state_and_unknown_runners_get_the_careful_row():
    assert RUNNERS["SparkRunner"].streaming_state is False
    unknown = capabilities("MyClusterRunner")
    assert unknown == Capabilities("MyClusterRunner", metrics=False, streaming_state=False)


def _config(**stream) -> RunConfig:
    return RunConfig(stream=StreamConfig(**stream), sink=SinkConfig(output="/data/out"))


@pytest.mark.parametrize("runner", ["PortableRunner", "FlinkRunner", "SparkRunner", "prism"])
def test_pubsub_anywhere_but_dataflow_or_direct_is_refused(runner):
    (problem,) = option_problems(capabilities(runner), _config(input_subscription=SUBSCRIPTION))
    assert problem.startswith(f"--input_subscription: the {canonical_name(runner)} cannot")
    assert "--runner=DataflowRunner" in problem


@pytest.mark.parametrize("runner", ["DirectRunner", "DataflowRunner", "BundleBasedDirectRunner"])
def test_pubsub_on_dataflow_or_direct_is_fine(runner):
    config = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=60)
    assert option_problems(capabilities(runner), config) == []


def test_an_endless_local_subscription_streams_with_a_warning_about_delivery():
    """No stop time: the DirectRunner streams Beam's read, which acks on pull; said once."""
    endless = _config(input_subscription=SUBSCRIPTION)
    assert option_problems(capabilities("DirectRunner"), endless) == []
    (warning,) = delivery_warnings(capabilities("DirectRunner"), endless)
    assert "acks each message as it pulls it" in warning and "--watch_stop_after_s" in warning
    stopping = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=60)
    assert delivery_warnings(capabilities("DirectRunner"), stopping) == []
    assert delivery_warnings(capabilities("DataflowRunner"), endless) == []


def test_reelbeam_pulls_unless_the_runner_acks_after_a_commit_or_the_stream_is_endless():
    stopping = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=60).stream
    endless = _config(input_subscription=SUBSCRIPTION).stream
    assert not pulls_subscription(capabilities("DataflowRunner"), stopping)
    assert pulls_subscription(capabilities("DirectRunner"), stopping)
    assert pulls_subscription(capabilities("BundleBasedDirectRunner"), stopping)
    assert not pulls_subscription(capabilities("DirectRunner"), endless)


@pytest.mark.parametrize("runner", ["DirectRunner", "PortableRunner", "SparkRunner"])
def test_watch_without_a_stop_time_needs_a_streaming_runner(runner):
    caps = capabilities(runner)
    (problem,) = option_problems(caps, _config(watch="/data/inbox"))
    assert f"the {caps.name} writes results only when the watch ends" in problem
    assert "--watch_stop_after_s" in problem and "FlinkRunner" in problem
    assert option_problems(caps, _config(watch="/data/inbox", watch_stop_after_s=60)) == []


@pytest.mark.parametrize("runner", ["FlinkRunner", "DataflowRunner", "PrismRunner"])
def test_streaming_runners_take_an_endless_watch(runner):
    assert option_problems(capabilities(runner), _config(watch="gs://b/inbox")) == []


def test_a_stopping_watch_runs_bounded_where_streaming_has_no_state():
    watch = _config(watch="/data/inbox", watch_stop_after_s=60)
    assert runs_streaming(capabilities("SparkRunner"), watch) is False
    assert runs_streaming(capabilities("FlinkRunner"), watch) is True
    assert runs_streaming(capabilities("DirectRunner"), watch) is True
    assert runs_streaming(capabilities("DataflowRunner"), _config(input_subscription=SUBSCRIPTION))
    assert runs_streaming(capabilities("DirectRunner"), _config()) is False


def test_local_paths_on_remote_workers_are_warned_about():
    caps = capabilities("FlinkRunner")
    warnings = shared_path_warnings(caps, _config(watch="/data/inbox", watch_stop_after_s=5))
    assert [w.split(" is a local path")[0] for w in warnings] == [
        "--output /data/out",
        "--watch /data/inbox",
    ]
    assert all("visible at the same path to every worker" in w for w in warnings)
    assert shared_path_warnings(capabilities("DirectRunner"), _config(watch="/data/in")) == []
    remote = RunConfig(sink=SinkConfig(output="gs://b/out"))
    assert shared_path_warnings(caps, remote) == []


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            [f"--input_subscription={SUBSCRIPTION}", "--runner=PortableRunner"],
            "reelbeam: error: --input_subscription: the PortableRunner cannot read Pub/Sub",
        ),
        (
            ["--watch=WATCH", "--runner=SparkRunner"],
            "reelbeam: error: --watch without --watch_stop_after_s: the SparkRunner",
        ),
        (
            ["--watch=WATCH"],
            "reelbeam: error: --watch without --watch_stop_after_s: the DirectRunner",
        ),
    ],
)
def test_the_launcher_refuses_what_the_runner_cannot_do(argv, expected, tmp_path, capsys):
    argv = [a.replace("WATCH", str(tmp_path)) for a in argv]
    assert run([*argv, f"--output={tmp_path / 'out'}"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(expected), line


class _Result:
    """A stand-in ``PipelineResult`` that records how it was waited for."""

    def __init__(self, state=PipelineState.RUNNING, metrics=None, duration_ok=True):
        self.state, self._metrics, self._duration_ok = state, metrics, duration_ok
        self.calls: list[object] = []

    def wait_until_finish(self, duration=None):
        self.calls.append(("wait", duration))
        if duration and not self._duration_ok:
            raise NotImplementedError
        return self.state

    def cancel(self):
        self.calls.append("cancel")
        self.state = PipelineState.CANCELLED

    def metrics(self):
        if self._metrics is None:
            raise RuntimeError("no metrics service")
        return self._metrics


def test_an_endless_stream_is_left_running_only_on_a_cluster():
    result = _Result()
    config = _config(input_subscription=SUBSCRIPTION)
    assert wait_streaming(result, config.stream, capabilities("DataflowRunner")) is False
    assert result.calls == []
    assert wait_streaming(result, config.stream, capabilities("DirectRunner")) is True
    assert result.calls == [("wait", None)]


def test_a_subscription_run_is_cancelled_after_its_stop_time_through_public_calls():
    result = _Result()
    stream = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=2).stream
    assert wait_streaming(result, stream, capabilities("DataflowRunner")) is True
    assert result.calls == [("wait", 2000), "cancel"]


def test_a_runner_without_a_timed_wait_is_waited_for_in_a_thread_then_cancelled():
    class Blocking(_Result):
        def wait_until_finish(self, duration=None):
            if duration:
                raise NotImplementedError
            self.calls.append("blocked")
            while self.state == PipelineState.RUNNING:  # like the DirectRunner's waiter
                time.sleep(0.01)
            return self.state

    result = Blocking()
    stream = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=0.2).stream
    native = Capabilities("LocalRunner", pubsub=True, pubsub_acks_after_commit=True)
    assert wait_streaming(result, stream, native) is True
    assert result.calls == ["blocked", "cancel"]


def test_a_subscription_pulled_by_reelbeam_ends_by_itself_and_is_waited_for():
    result = _Result()
    stream = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=2).stream
    assert wait_streaming(result, stream, capabilities("DirectRunner")) is True
    assert result.calls == [("wait", None)]


def _write_catalog(out: pathlib.Path) -> None:
    catalog = out / "catalog"
    catalog.mkdir(parents=True)
    tables = {
        "videos": [{"video_id": "a", "source_uri": "/in/a.mp4"}],
        "segments": [{"video_id": "a", "segment_index": i} for i in range(3)],
        "assets": [{"video_id": "a", "asset_type": "motion", "uri": "u"}],
        "failures": [
            {"input_uri": "/in/bad.mp4", "stage": "probe"},
            {"input_uri": "/in/a.mp4", "stage": "render"},  # catalogued: not a failed input
        ],
    }
    for table, rows in tables.items():
        (catalog / f"{table}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_a_runner_without_metrics_gets_its_counts_from_the_catalog(tmp_path):
    out = tmp_path / "out"
    _write_catalog(out)
    assert catalog_counts(str(out)) == {
        "videos_catalogued": 1,
        "inputs_failed": 1,
        "rows_segments": 3,
        "rows_assets": 1,
    }
    config = RunConfig(sink=SinkConfig(output=str(out)))
    for caps, result in [
        (capabilities("MyClusterRunner"), _Result()),  # no metrics by the table
        (capabilities("PortableRunner"), _Result()),  # metrics() raises
    ]:
        line = summary(result, caps, config)
        assert line.startswith(
            "reelbeam: 1 videos catalogued, 1 failed, 3 segments, 1 assets in the catalog "
            f"(the runner reports no metrics); output: {out}; report: "
        ), line


def test_empty_metrics_are_not_printed_as_zeros(tmp_path):
    class NoCounters:
        def query(self, _filter):
            return {"counters": []}

    out = tmp_path / "out"
    _write_catalog(out)
    line = summary(_Result(metrics=NoCounters()), capabilities("FlinkRunner"), _config_at(out))
    assert "1 videos catalogued" in line and "in the catalog" in line


def _config_at(out: pathlib.Path, **sink) -> RunConfig:
    return RunConfig(sink=SinkConfig(output=str(out), **sink))


def test_without_metrics_or_a_local_catalog_the_summary_says_counts_are_unavailable(tmp_path):
    config = _config_at(tmp_path, bigquery_dataset="p:d")
    line = summary(_Result(), capabilities("SparkRunner"), config)
    assert line == (
        f"reelbeam: counts unavailable (the runner reports no metrics); output: {tmp_path}"
    )


def test_a_stream_left_running_says_so(tmp_path):
    line = summary(_Result(), capabilities("DataflowRunner"), _config_at(tmp_path), finished=False)
    assert line == f"reelbeam: streaming job left running on the DataflowRunner; output: {tmp_path}"


def test_a_polling_source_on_several_direct_workers_is_refused():
    """Beam's FnApiRunner drops a splittable DoFn's deferred work across workers."""
    direct = capabilities("DirectRunner")
    watch = _config(watch="/data/inbox", watch_stop_after_s=60)
    (problem,) = local_worker_problems(direct, watch, 2)
    assert problem.startswith("--watch on the DirectRunner runs on one worker")
    assert local_worker_problems(direct, watch, 1) == []
    pulled = _config(input_subscription=SUBSCRIPTION, watch_stop_after_s=60)
    assert local_worker_problems(direct, pulled, 0)
    assert local_worker_problems(direct, _config(input_subscription=SUBSCRIPTION), 2) == []
    assert local_worker_problems(capabilities("DataflowRunner"), watch, 2) == []


def test_streaming_runs_keep_one_local_worker_and_batch_runs_get_a_thread_per_core():
    batch = parse(["--input=/in"]).view_as(DirectOptions)
    assert (batch.direct_running_mode, batch.direct_num_workers) == ("multi_threading", 0)
    watch = parse(["--watch=/in", "--watch_stop_after_s=5"]).view_as(DirectOptions)
    assert watch.direct_num_workers == 1
