"""Components of the character half of the pipeline: filter -> retarget -> animate.

Data only. The tracker entity carries PoseResult (decode) and FilteredPose (filter); a
character entity carries a CharacterBinding (what to drive, from which tracker) and the
JointTargets the retarget stage writes for it.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from posetrack.components.pose import PoseEstimate

if TYPE_CHECKING:  # Panda3D-backed types: only for annotations, components stay data only
    from direct.actor.Actor import Actor

    from posetrack.characters import Skeleton, SpriteCharacter
    from posetrack.retarget import RetargetConfig


@dataclass
class FilterConfig:
    """How the filter stage smooths the tracked pose (MediaPipe's pose_landmark_filtering).

    Put it on the tracker entity to change the defaults; mode "none" passes poses through.
    """

    mode: Literal["one_euro", "none"] = "one_euro"
    # Image keypoints (pixels; the speed is measured in object sizes per second, value scale =
    # 1 / object size, so the same values suit any resolution and distance). MediaPipe's pose
    # graph uses min_cutoff 0.05 Hz: a still landmark gets an EMA weight of ~0.01 per 30 fps
    # frame, i.e. sub-pixel jitter is averaged over seconds.
    min_cutoff: float = 0.05
    # beta 80 with min_cutoff 0.05: MediaPipe's value; a limb moving one body size per second
    # opens the cut-off to ~80 Hz (EMA weight ~0.94): fast moves pass with < 1 frame of lag.
    beta: float = 80.0
    # 1 Hz on the speed estimate (EMA weight ~0.17 at 30 fps): MediaPipe's value; slow enough
    # that single-frame noise does not read as motion and open the cut-off.
    derivate_cutoff: float = 1.0
    # World landmarks (metres, value scaling off): MediaPipe's world-landmark filter uses
    # min_cutoff 0.1 Hz and beta 40 (speed in m/s, so 1 m/s opens the cut-off to ~40 Hz).
    world_min_cutoff: float = 0.1
    world_beta: float = 40.0
    world_derivate_cutoff: float = 1.0
    # Visibility low-pass: new = alpha * raw + (1 - alpha) * previous; MediaPipe's 0.1 keeps a
    # one-frame visibility dip from flickering a limb in and out of the confidence gate.
    visibility_alpha: float = 0.1


@dataclass
class FilteredPose:
    """The filter stage's output for one frame: one person, smoothed (or passed through).

    Written on the tracker entity next to PoseResult. `pose` is None when nobody is in view;
    `source_index` says which of PoseResult.poses it is (the filter follows the first one).
    """

    frame: int
    time: float
    keypoint_names: tuple[str, ...]
    pose: PoseEstimate | None
    source_index: int = 0
    mode: str = "one_euro"  # what ran: "one_euro" or "none"


@dataclass
class CharacterBinding:
    """Binds one character to the tracker entity whose FilteredPose drives it.

    Exactly one of `actor` (a skinned Actor, 3D) and `sprite` (a SpriteCharacter, 2D) is set.
    `skeleton` is the actor's rest pose in canonical bones (characters.skeleton_from_actor);
    `config` a retarget.RetargetConfig (mirror, root motion, gating, joint limits).
    `response_s` is the animate stage's time constant: each rendered frame closes the fraction
    1 - exp(-dt / response_s) of the gap to the newest target; 0 snaps to it.
    """

    tracker: int
    config: "RetargetConfig"
    actor: "Actor | None" = None
    skeleton: "Skeleton | None" = None
    sprite: "SpriteCharacter | None" = None
    # 50 ms: a 30 Hz model step (33 ms) is ~50% covered by the next model frame and ~95% by
    # three display frames' worth (150 ms) of a 60 Hz render; short enough to add at most
    # about one model frame of visible lag, long enough to hide the 30 Hz staircase.
    response_s: float = 0.05


@dataclass
class JointTargets:
    """The retarget stage's output for one character on one frame.

    3D (an actor): `local_quats` maps each canonical bone to its rotation (w, x, y, z) relative
    to the rig's own parent joint of that bone, ready for controlJoint; `root_position` is the
    hips position in the actor's space. 2D (a sprite): `angles` maps sprite bones to image-plane
    directions in degrees. `observed` names the bones aimed from this frame's keypoints.
    """

    frame: int
    time: float
    local_quats: dict[str, np.ndarray] = field(default_factory=dict)
    root_position: np.ndarray | None = None
    angles: dict[str, float] = field(default_factory=dict)
    observed: frozenset[str] = frozenset()
    # 3D: each bone's solved rotation in the character's model space (w, x, y, z), what
    # local_quats were made from: for readers that need world rotations (the VMC stream)
    world_quats: dict[str, np.ndarray] = field(default_factory=dict)
