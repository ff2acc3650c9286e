"""The filter stage: One Euro per coordinate over the tracked pose, visibility low-pass."""

import esper
import numpy as np

from posetrack.components import PoseEstimate, PoseResult
from posetrack.components.character import FilterConfig, FilteredPose
from posetrack.stages.one_euro import OneEuroFilter

# MediaPipe skips smoothing for an object smaller than this (its min_allowed_object_scale): a
# degenerate box would blow the value scale (1 / size) up.
_MIN_OBJECT_SCALE = 1e-6


class PoseFilter:
    """The filter state of one tracked person: image keypoints, world landmarks, visibility."""

    def __init__(self, config: FilterConfig) -> None:
        self.config = config
        self._image = OneEuroFilter(config.min_cutoff, config.beta, config.derivate_cutoff)
        self._world = OneEuroFilter(
            config.world_min_cutoff, config.world_beta, config.world_derivate_cutoff
        )
        self._visibility: np.ndarray | None = None

    def __call__(self, time_s: float, pose: PoseEstimate) -> PoseEstimate:
        """The smoothed copy of `pose` at `time_s` (seconds, from the frame's own clock)."""
        if self.config.mode == "none":
            return pose
        keypoints = np.array(pose.keypoints, dtype=np.float64)
        # object scale as MediaPipe measures it: mean of the keypoints' box width and height
        span = keypoints[:, :2].max(axis=0) - keypoints[:, :2].min(axis=0)
        scale = float(span.mean())
        if scale > _MIN_OBJECT_SCALE:
            keypoints[:, :2] = self._image(time_s, keypoints[:, :2], 1.0 / scale)
        alpha = self.config.visibility_alpha
        visibility = keypoints[:, 2].copy()
        if self._visibility is not None and self._visibility.shape == visibility.shape:
            visibility = alpha * visibility + (1.0 - alpha) * self._visibility
        self._visibility = visibility
        keypoints[:, 2] = visibility
        world = None
        if pose.world is not None:
            world = self._world(time_s, np.asarray(pose.world, dtype=np.float64))
        return PoseEstimate(keypoints, pose.score, world, pose.player)

    def reset(self) -> None:
        """Forget the history (the person was lost: the next pose starts afresh)."""
        self._image.reset()
        self._world.reset()
        self._visibility = None


class FilterSystem(esper.Processor):
    """Smooths the newest pose of each tracker.

    Reads PoseResult (and FilterConfig, when the entity has one; else the defaults). Writes
    FilteredPose on the same entity, once per new frame. Several poses: the first one is
    followed (BlazePose tracks one person; with several, the identity stage puts them in player
    order, so it is player 1 while player 1 is seen: stages/identity.py). A frame with no pose
    resets the filter, so a person who comes back is not dragged from where the last one left.
    """

    def __init__(self, config: FilterConfig | None = None) -> None:
        self.config = config or FilterConfig()
        self._filters: dict[int, PoseFilter] = {}

    def process(self) -> None:
        for ent, result in esper.get_component(PoseResult):
            done = esper.try_component(ent, FilteredPose)
            # already filtered this frame
            if done is not None and done.frame == result.frame:
                continue
            config = esper.try_component(ent, FilterConfig) or self.config
            esper.add_component(ent, self.smooth(ent, result, config))
        for ent in [e for e in self._filters if not esper.entity_exists(e)]:
            del self._filters[ent]

    def forget(self, ent: int) -> None:
        """Drop tracker `ent`'s filter state: its next pose starts afresh."""
        self._filters.pop(ent, None)

    def smooth(self, ent: int, result: PoseResult, config: FilterConfig) -> FilteredPose:
        """The filtered pose of tracker `ent`'s newest result (what process() writes)."""
        state = self._filters.get(ent)
        if state is None or state.config is not config:
            state = self._filters[ent] = PoseFilter(config)
        # nobody in view: reset, say so
        if not result.poses:
            state.reset()
            return FilteredPose(result.frame, result.time, result.keypoint_names, None, 0,
                                config.mode)  # fmt: skip
        pose = state(result.time, result.poses[0])
        return FilteredPose(result.frame, result.time, result.keypoint_names, pose, 0, config.mode)


def filtered_result(result: PoseResult, filtered: FilteredPose) -> PoseResult:
    """`result` with its followed pose replaced by the filtered one (for the pose stream)."""
    if filtered.pose is None or not result.poses:
        return result
    poses = list(result.poses)
    poses[filtered.source_index] = filtered.pose
    return PoseResult(result.frame, result.time, result.keypoint_names, poses, result.t_capture)


def describe(config: FilterConfig) -> dict[str, object] | bool:
    """What the filter stage runs, for the stream header ("smoothing")."""
    if config.mode == "none":
        return False
    return {
        "filter": "one_euro",
        "keypoints": {"min_cutoff": config.min_cutoff, "beta": config.beta,
                      "derivate_cutoff": config.derivate_cutoff, "value_scale": "1/object_size"},
        "world": {"min_cutoff": config.world_min_cutoff, "beta": config.world_beta,
                  "derivate_cutoff": config.world_derivate_cutoff, "value_scale": 1.0},
        "visibility_alpha": config.visibility_alpha,
        "pose": "first",
    }  # fmt: skip
