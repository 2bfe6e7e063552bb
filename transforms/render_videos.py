"""``RenderVideos``: proxy and ladder, thumbnails, preview, highlight reel and its timeline.

Each whole-video artifact kind (the proxy and ladder of a source up to
``--render_chunk_s``, one decode feeding every rung; thumbnails; preview; reel) is one
element, fanned out over the workers. Longer sources have their proxy and ladder encoded
as exact frame ranges on different workers and joined by stream copy, with the audio
encoded once per file by an element of its own beside them (the audio pass), so the
join only copies streams. The proxy and ladder wait for nothing but the probe; the
other kinds are placed by the motion segments and follow the detection. Every artifact
appears at the contract's path complete or not at all; a rerun skips artifacts already
complete for the same source and parameters (a small manifest per artifact kind under
``videos/<id>/.render/``).
"""

from __future__ import annotations

from collections.abc import Iterator

import apache_beam as beam

from transforms.io.deadletter import FAILURES, Clock, utc_now
from transforms.progress import report
from transforms.records import VideoMotion, VideoProbe
from transforms.render.fns import (
    ASSETS,
    DAMAGE,
    EncodeChunkFn,
    JoinFn,
    PlanChunksFn,
    RenderVideoFn,
    kinds_of,
)
from transforms.render.jobs import RenderJob, RenderParams, rungs_for


def _ladder_job(probe: VideoProbe, params: RenderParams) -> RenderJob:
    """The proxy and ladder's job: the probe alone (no segments: it needs no motion)."""
    job = RenderJob(probe, ())
    if rungs_for(probe, params):
        report("seconds_to_encode", int(probe.duration_s))
    return job


def _job(element) -> Iterator[RenderJob]:
    _, grouped = element
    probes = list(grouped["probe"])
    if not probes:
        return
    motions: list[VideoMotion] = list(grouped["motion"])
    segments = motions[0].segments if motions else ()
    yield RenderJob(probes[0], tuple(segments))


class RenderVideos(beam.PTransform):
    """Probes (+ motion) -> every artifact, as ``assets`` rows; ``failures`` at stage render.

    Input: ``{"probe": PCollection[VideoProbe], "motion": PCollection[VideoMotion]}``.
    Output: ``{"assets": ..., "failures": ..., "damage": PCollection[SourceDamage]}``, the
    last with what decoding each whole source for its proxy and ladder concealed.

    Args:
        output: ``--output`` folder or ``gs://`` prefix.
        params: what to render and how.
        clock: stamps failures.
        rerender: ``--reprocess``: render every artifact again, complete or not.
    """

    def __init__(
        self, output: str, params: RenderParams, clock: Clock = utc_now, rerender: bool = False
    ):
        super().__init__()
        self._output = output
        self._params = params
        self._clock = clock
        self._rerender = rerender

    @property
    def _fn_args(self) -> tuple:
        return (self._output, self._params, self._clock, self._rerender)

    def _render_kinds(self, jobs: beam.PCollection, ladder: bool, labels: tuple[str, str, str]):
        """Each job's whole-video kinds (the ladder, or the others) fanned out and rendered."""
        kinds, spread, render = labels
        return (
            jobs
            | kinds >> beam.FlatMap(kinds_of, self._params, ladder=ladder)
            | spread >> beam.Reshuffle()
            | render
            >> beam.ParDo(RenderVideoFn(*self._fn_args)).with_outputs(FAILURES, DAMAGE, main=ASSETS)
        )

    def expand(self, inputs: dict[str, beam.PCollection]):
        keyed = {
            "probe": inputs["probe"] | "KeyProbe" >> beam.Map(lambda p: (p.video_id, p)),
            "motion": inputs["motion"] | "KeyMotion" >> beam.Map(lambda m: (m.video_id, m)),
        }
        # The proxy and ladder need only the probe: they start as soon as a video is probed,
        # beside the detection (on Dataflow; the DirectRunner runs its stages in turn).
        ladder_jobs = inputs["probe"] | "LadderJobs" >> beam.Map(_ladder_job, self._params)
        jobs = keyed | "Join" >> beam.CoGroupByKey() | "Jobs" >> beam.FlatMap(_job)
        ladders = self._render_kinds(
            ladder_jobs, True, ("LadderKind", "SpreadLadders", "RenderLadders")
        )
        whole = self._render_kinds(jobs, False, ("Kinds", "SpreadKinds", "Render"))
        planned = ladder_jobs | "PlanChunks" >> beam.ParDo(
            PlanChunksFn(*self._fn_args)
        ).with_outputs(FAILURES, ASSETS, DAMAGE, main="chunks")
        encoded = (
            planned.chunks
            | "FanOut" >> beam.Reshuffle()
            | "EncodeChunks"
            >> beam.ParDo(EncodeChunkFn(*self._fn_args)).with_outputs(FAILURES, main="parts")
        )
        joined = (
            encoded.parts
            | "GroupParts" >> beam.GroupByKey()
            | "JoinParts"
            >> beam.ParDo(JoinFn(*self._fn_args)).with_outputs(FAILURES, DAMAGE, main=ASSETS)
        )
        assets = (
            ladders[ASSETS],
            whole[ASSETS],
            planned[ASSETS],
            joined[ASSETS],
        ) | "AllAssets" >> beam.Flatten()
        failures = (
            ladders[FAILURES],
            whole[FAILURES],
            planned[FAILURES],
            encoded[FAILURES],
            joined[FAILURES],
        ) | "AllRenderFailures" >> beam.Flatten()
        damage = (
            ladders[DAMAGE],
            whole[DAMAGE],
            planned[DAMAGE],
            joined[DAMAGE],
        ) | "AllDamage" >> beam.Flatten()
        return {"assets": assets, "failures": failures, "damage": damage}
