import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import esper

from posetrack.characters import skeleton_from_actor
from posetrack.components import (
    EndOfStream,
    PoseResult,
    StageTimes,
    TrackingConfig,
)
from posetrack.components.character import CharacterBinding, FilterConfig
from posetrack.components.tracker import TrackingStatus
from posetrack.models.adapters import load_pose_model
from posetrack.models.auto import AUTO, choose_model
from posetrack.motion.recording import Recording
from posetrack.motion.vmc import VmcSender, parse_target
from posetrack.retarget import RetargetConfig
from posetrack.stages.assembly import assemble
from posetrack.stages.handover import HandOver
from posetrack.stages.identity import IdentityState
from posetrack.stages.live import LiveWorker
from posetrack.stages.sources import FrameSource, open_source
from posetrack.systems.animate import AnimateSystem
from posetrack.systems.filter import FilterSystem
from posetrack.systems.retarget import RetargetSystem
from posetrack.systems.vmc_stream import VmcStreamSystem

log = logging.getLogger("posetrack")

POSE_STAGES = ("capture", "detect", "preprocess", "inference", "decode")


# a game's frame: characters solved per frame until this is spent, the rest the next frame
# (the host's slice is ~1.5 ms on the 2-core CI machine; one character's solve takes ~0.7-0.8
# ms there, benchmarks/character_cost.py: so two a frame, each character at the pose rate)
RETARGET_BUDGET_MS = 1.0
_IDLE_S = 0.002  # results(): no new frame from a live source yet: wait, don't spin a core


class PoseTrackingSystem(Recording, esper.Processor):
    """The whole pipeline as one processor: capture -> detect -> preprocess -> inference ->
    decode, then (when asked) filter -> retarget -> animate.

    Creates its own tracker entity in the current esper world and writes, on it: CameraFrame,
    RegionOfInterest, ModelInput, ModelOutputs, PoseResult (read this), TrackingStatus
    (tracking / no_person / lost / ended, and why), StageTimes (ms and host <-> GPU bytes per
    stage on the newest frame), EndOfStream once a source is exhausted, and with a filter
    stage FilterConfig + FilteredPose; `drive(actor)` adds a character entity (CharacterBinding,
    JointTargets); `config.vmc` (HOST:PORT) adds a last stage that sends each new pose of the
    driven character (else of a mannequin of its own) over the VMC protocol (vmc_stream.py).
    The stage processors stay usable on their own. Owns the source thread, the ORT sessions,
    the GPU paths' resources and the VMC socket: close(). `gpu_context` lends a host's GpuContext
    (posetrack.stages.gpu_context.GpuContext.from_showbase) instead of a headless one of our own.
    `config` is the tracker's settings (its `source` is what posetrack.init() opens; here the
    `source` argument is used); `max_poses`, when given, wins over config.max_poses.
    `model_choice` says which model runs and why (config.model "auto": models/auto.py).

    `live=False` (the default: `posetrack track`, results(), tests): each process() takes the
    next frame and runs every stage on it in the calling thread, every frame in order. `live=True`
    (what posetrack.init() asks for): the pose stages run on a worker thread (stages/live.py) on
    the newest frame, a file plays at its own frame rate as a camera would, and process() only
    applies the newest finished frame and runs the character stages: a game's frame never waits
    for a model. Either way the same FramePipeline (stages/pipeline.py) runs the stages.

    `degrade=True` (what posetrack.init() asks for): a stage that fails at run time (camera
    unplugged, an ORT error, NaN outputs) never raises out of process(): the frame is given up
    (an empty PoseResult), TrackingStatus says why, one warning is logged, and the next good
    frame recovers. `degrade=False` (the default, for `posetrack track`, which must fail loudly
    on a truncated file) raises instead; NaN/inf keypoints never reach PoseResult either way.
    """

    def __init__(
        self,
        source: str | FrameSource,
        config: TrackingConfig | None = None,
        max_poses: int | None = None,
        gpu_context: object | None = None,
        *,
        filter_config: object | None = None,
        degrade: bool = False,
        live: bool = False,
    ) -> None:
        self.config = config or TrackingConfig()
        self.degrade = degrade
        self.world = esper.current_world  # where the entity lives: close() cleans up there
        self.process_calls = 0  # how many times process() ran (the plugin's scheduling check)
        self.entity: int | None = None
        self.gpu_context: object | None = None  # the GL context a GPU path runs on, if any
        self._owned: list[object] = []  # closed in reverse order
        self._on_close: list[Callable[[], None]] = []
        self._characters: list[int] = []
        self._character_stages: list[tuple[str, esper.Processor]] = []  # retarget, animate
        # what result and status say once closed (the entity is gone)
        self._closed: tuple[PoseResult | None, TrackingStatus] = (
            None, TrackingStatus("ended", "closed"),
        )  # fmt: skip
        opened = None  # model auto: the source is opened first, its rate decides the model
        try:
            if self.config.model == AUTO and isinstance(source, str):
                source = opened = open_source(source)
            self.model_choice = choose_model(self.config, source)
            self.model = load_pose_model(
                self.model_choice.model, max_poses or self.config.max_poses
            )
        except BaseException:
            if opened is not None:
                opened.close()
            raise
        self.keypoint_names = self.model.keypoint_names
        try:
            live = self.live = self._build(source, gpu_context, live)
            if filter_config is not None:
                self._add_filter(filter_config)
            if self.config.vmc:  # the VMC stream: the last character stage
                self._add_vmc(self.config.vmc)
            worker = None
            if live:  # last: the worker starts at once
                worker = LiveWorker(self._stages["capture"], self._pipeline)
                self._owned.append(worker)  # closed before the capture stage
            self._handover = HandOver(self.entity, self._stages["capture"], self._pipeline,
                                      self._guard, worker, self.degrade)  # fmt: skip
        except BaseException:
            self.close()
            raise

    def _build(self, source: str | FrameSource, gpu_context: object | None, live: bool) -> bool:
        """Set up every stage (stages/assembly.py); returns whether the pose stages run on a
        worker (`live`)."""
        built = assemble(self.config, self.model, source, gpu_context, live, self._owned)
        self.entity, self.source = built.entity, built.source
        self._stages, self._pipeline, self._guard = built.stages, built.pipeline, built.guard
        self.backends, self.notices, self.gpu_context = (
            built.backends, built.notices, built.gpu_context,
        )  # fmt: skip
        return built.live

    @property
    def stages(self) -> dict[str, esper.Processor]:
        """The stage processors by name, in pipeline order (the pose stages run through
        FramePipeline; their own process() stays usable on its own)."""
        return {**self._stages, **dict(self._character_stages)}

    @property
    def identity(self) -> IdentityState | None:
        """The identity stage's slots (stages/identity.py): with max_poses >= 2 on a
        multi-person model, PoseResult.poses come in player order, each with its `player`.
        Set to None for the model's own order (best first); to IdentityState(n) to start over."""
        return self._pipeline.identity

    @identity.setter
    def identity(self, state: IdentityState | None) -> None:
        self._pipeline.identity = state

    @property
    def dropped_frames(self) -> int:
        """Frames never applied: replaced by a newer one before the worker took them (live
        capture), or before the host took the worker's outcome."""
        return self._handover.dropped_frames

    def latency_ms(self) -> dict[str, float]:
        """Capture -> pose applied on the host's thread, over the last frames (handover.py):
        median and 95th percentile in ms, and how many frames that covers."""
        return self._handover.latency_ms()

    def process(self, *args: Any, **kwargs: Any) -> None:
        """Apply the newest finished frame (live) or run the next one (lockstep), then the
        character stages; arguments (a host's `esper.process(dt)`) are ignored."""
        self.process_calls += 1
        times = esper.component_for_entity(self.entity, StageTimes)
        # the filter reads the tracker's FilterConfig, which a host may swap at run time
        self._pipeline.filter_config = esper.try_component(self.entity, FilterConfig)
        self._handover.step(times)
        for name, stage in self._character_stages:
            start = time.perf_counter()
            try:
                stage.process()
            except Exception as error:
                if not self.degrade:
                    raise
                self._guard.fail(name, error)
            finally:
                times.ms[name] = (time.perf_counter() - start) * 1000.0
        self._record_frame()  # record(path): buffer the first character's joints

    @property
    def result(self) -> PoseResult | None:
        """The newest frame's poses (None before the first frame; the last one after close())."""
        if self.entity is None:
            return self._closed[0]
        return self._in_world(lambda: esper.try_component(self.entity, PoseResult))

    @property
    def status(self) -> TrackingStatus:
        """How tracking went on the newest frame (state, reason, failing stage); after close(),
        "ended" with the reason "closed"."""
        if self.entity is None:
            return self._closed[1]
        return self._in_world(lambda: esper.component_for_entity(self.entity, TrackingStatus))

    @property
    def finished(self) -> bool:
        """True once a finite source has delivered its last frame and it has been decoded (or
        the source failed: its last PoseResult is the empty one after its frames)."""
        end = esper.try_component(self.entity, EndOfStream)
        result = self.result
        return end is not None and (
            end.frames == 0 or (result is not None and result.frame >= end.frames - 1)
        )

    def results(self, max_frames: int | None = None) -> Iterator[PoseResult]:
        """Run the pipeline and yield each new frame's PoseResult, until a finite source ends
        (or after `max_frames`): for scripts and tools; a game calls process() per frame."""
        last, count = None, 0
        while not self.finished and (max_frames is None or count < max_frames):
            self.process()
            result = self.result
            if result is None or result.frame == last:
                time.sleep(_IDLE_S)  # a live source had no new frame yet
                continue
            last, count = result.frame, count + 1
            yield result

    def drive(
        self,
        actor: object,
        preset: object | None = None,
        *,
        mirror: bool = True,
        root_motion: bool = False,
    ) -> int:
        """Let the tracked pose drive a skinned Actor (glTF, bam, egg; the mannequin).

        `preset`: a rig preset name or RigPreset, None to detect it from the joint names.
        `mirror`: the character moves like the player's mirror image (webcam default).
        Adds the filter (if not there yet), retarget and animate stages, so the actor eases
        toward the newest pose on every process() call and relaxes to rest when the pose is
        lost. Returns the character entity (CharacterBinding, JointTargets); close() deletes it
        (the actor itself is the host's).
        """

        skeleton = skeleton_from_actor(actor, preset)
        config = RetargetConfig(mirror=mirror, root_motion=root_motion)
        entity = self._in_world(
            lambda: esper.create_entity(CharacterBinding(self.entity, config, actor, skeleton))
        )
        self._characters.append(entity)
        if "filter" not in self.stages:
            self._add_filter(FilterConfig())
        if "retarget" not in self.stages:
            # before any stage already there (the VMC stream sends what they solve)
            budget = RETARGET_BUDGET_MS if self.live else None  # lockstep: every frame whole
            self._character_stages[:0] = [("retarget", RetargetSystem(budget)),
                                          ("animate", AnimateSystem())]  # fmt: skip
        return entity

    def _add_filter(self, config: object) -> None:
        esper.add_component(self.entity, config)  # the filter reads it from the entity
        self._pipeline.filter = self._stages["filter"] = FilterSystem(config)
        self._pipeline.filter_config = config

    def _add_vmc(self, target: str) -> None:
        if "filter" not in self.stages:  # the stream sends the filtered pose
            self._add_filter(FilterConfig())
        stream = VmcStreamSystem(self.entity, VmcSender(*parse_target(target)))
        self._owned.append(stream)
        self._character_stages.append(("vmc", stream))

    def call_on_close(self, callback: Callable[[], None]) -> None:
        """Run `callback` first thing in close() (the plugin removes its task and processor)."""
        self._on_close.append(callback)

    def close(self) -> None:
        """Stop the capture thread, free GPU resources and ORT sessions, delete the tracker's
        entities (in the world they were made in); idempotent."""
        self._end_recording()  # record(path): the file is written now
        hooks, self._on_close = self._on_close, []
        for hook in reversed(hooks):
            self._in_world(hook)
        for resource in reversed(self._owned):
            resource.close()
        self._owned = []
        if self.entity is not None and self._closed[0] is None:
            last = self.result
            lost = self.status.lost_frames
            ended = TrackingStatus("ended", "closed", "", last.frame if last else -1, lost)
            self._closed = (last, ended)
        self._in_world(self._delete_entities)
        self.entity = None
        self._characters = []

    def _delete_entities(self) -> None:
        for entity in [*self._characters, self.entity]:
            if entity is not None and esper.entity_exists(entity):
                esper.delete_entity(entity, immediate=True)

    def _in_world(self, action: Callable[[], Any]) -> Any:
        """Run `action` in the world this tracker was made in, switching back afterwards."""
        previous = esper.current_world
        if previous == self.world:
            return action()
        if self.world not in esper.list_worlds():
            return None  # the host deleted that world, and our entities with it
        esper.switch_world(self.world)
        try:
            return action()
        finally:
            esper.switch_world(previous)
