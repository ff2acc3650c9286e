"""The demo's tracker: built from the game's settings, rebuilt when the model or backends
change, and never fatal: a tracker that cannot be built or fails at run time leaves the game
running with tracking "lost" (the characters relax to rest)."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import esper

from posetrack.components import PoseResult, StageTimes, TrackingConfig
from posetrack.components.character import FilterConfig, FilteredPose
from posetrack.errors import PosetrackError
from posetrack.stages.identity import IdentityState
from posetrack.stages.sources import FrameSource
from posetrack.systems.pose_tracking import PoseTrackingSystem

log = logging.getLogger("posetrack")

# The models the demo cycles through (key M): the default first, then the TF.js family.
MODELS = ("auto", "blazepose-full", "posenet", "movenet-lightning", "movenet-thunder")


def filter_config(config: TrackingConfig, values: FilterConfig | None) -> FilterConfig:
    """The One Euro values (None: the defaults), or pass-through when smoothing is off."""
    base = values or FilterConfig()
    return base if config.smoothing else FilterConfig(**{**vars(base), "mode": "none"})


@dataclass
class Health:
    """How tracking is going, for the HUD."""

    state: str  # "starting", "tracking", "no_person", "lost", "ended"
    reason: str  # why not tracking ("" when tracking)


class TrackerSession:
    """Owns the PoseTrackingSystem and the entity the characters read their pose from.

    `pose_entity` is the tracker's entity (PoseResult, FilteredPose, StageTimes) or, with no
    working tracker, a stand-in whose FilteredPose says "nobody" every frame, so the retarget
    stage relaxes the characters to rest. `open_source()` gives a fresh FrameSource (a rebuild
    reopens the camera or the clip).
    """

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        gpu_context: object | None,
        config: TrackingConfig,
        filter_values: FilterConfig | None = None,
    ) -> None:
        self._open_source = open_source
        self._gpu_context = gpu_context
        self.config = config  # what the tracker runs; the editor and the keys change it
        self.filter_values = filter_values  # the One Euro values; None: the defaults
        self.tracker: PoseTrackingSystem | None = None
        self.source: FrameSource | None = None  # the tracker's source (a LoopingClip: fed)
        self.error = ""  # why there is no tracker
        self.notices: list[str] = []
        self._standin = esper.create_entity()
        self._standin_frame = 0
        self._loops = 0  # the clip's loop count seen last (LoopingClip.loops)
        self.builds = 0  # trackers built so far (a scene reload must not add one needlessly)
        self.build()

    # -- life cycle ---------------------------------------------------------------------
    def build(self) -> None:
        """(Re)build the tracker from `settings`; on failure keep going without one."""
        self.builds += 1
        self.close_tracker()

        source = None
        try:
            source = self.source = self._open_source()
            self.tracker = PoseTrackingSystem(
                source,
                self.config,
                gpu_context=self._gpu_context,
                filter_config=self.filter_config(),
                # a camera or a paced clip: the live hand-over, as a user's game gets it; the
                # headless clip in lockstep with the fixed clock: every frame, in order
                live=source.live,
            )
        except PosetrackError as error:
            if source is not None and self.tracker is None:
                source.close()
            self.error = str(error)
            log.warning("posetrack demo: tracking unavailable: %s", error)
            return
        self.error = ""
        self.notices = list(self.tracker.notices)

    def set_smoothing(self, on: bool) -> None:
        """Switch the One Euro filter on or off without a rebuild (the filter reads the
        FilterConfig on the tracker entity)."""
        self.config.smoothing = on
        if self.tracker is not None:
            esper.add_component(self.tracker.entity, self.filter_config())

    def set_filter(self, config: FilterConfig) -> None:
        """New One Euro values (the editor), applied from the next frame."""
        self.filter_values = config
        self.set_smoothing(self.config.smoothing)

    def filter_config(self) -> FilterConfig:
        return filter_config(self.config, self.filter_values)

    def process(self) -> None:
        """One tracking step (never raises for run-time failures: the tracker degrades)."""
        if self.tracker is not None:
            release = getattr(self.source, "release_frame", None)
            if release is not None:  # a clip in lockstep: one frame per game frame
                release()
            self.tracker.process()
            loops = getattr(self.source, "loops", 0)
            if loops != self._loops and self.tracker.identity is not None:
                # the clip started over: its people jump back to where they began, a new
                # scene for the identity stage (a camera never does this)
                self.tracker.identity = IdentityState(self.tracker.identity.slots)
            self._loops = loops
            return
        # the stand-in: "nobody in view" on a new frame each step, so the characters relax
        self._standin_frame += 1
        esper.add_component(self._standin, FilteredPose(self._standin_frame, time.perf_counter(),
                                                        (), None, mode="none"))  # fmt: skip

    # -- reading ------------------------------------------------------------------------
    @property
    def pose_entity(self) -> int:
        return self.tracker.entity if self.tracker is not None else self._standin

    @property
    def result(self) -> PoseResult | None:
        return self.tracker.result if self.tracker is not None else None

    @property
    def times(self) -> StageTimes | None:
        if self.tracker is None:
            return None
        return esper.try_component(self.tracker.entity, StageTimes)

    @property
    def health(self) -> Health:
        if self.tracker is None:
            return Health("lost", self.error or "no tracker")
        status = self.tracker.status
        return Health(status.state, status.reason)

    @property
    def dropped_frames(self) -> int:
        return self.tracker.dropped_frames if self.tracker is not None else 0

    @property
    def backends(self) -> dict[str, str]:
        return dict(self.tracker.backends) if self.tracker is not None else {}

    @property
    def model_label(self) -> str:
        """The model that runs, and for auto the measured cost and budget (the HUD's line)."""
        if self.tracker is None:
            return self.config.model
        return self.tracker.model_choice.label()

    @property
    def source_description(self) -> str:
        return self.tracker.source.description if self.tracker is not None else "none"

    def close_tracker(self) -> None:
        stop = getattr(self.source, "stop", None)
        if stop is not None:  # a reader waiting for the game's next frame: let it go
            stop()
        if self.tracker is not None:
            self.tracker.close()
            self.tracker = None

    def close(self) -> None:
        self.close_tracker()
        if esper.entity_exists(self._standin):
            esper.delete_entity(self._standin, immediate=True)
