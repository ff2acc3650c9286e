from dataclasses import dataclass, field
from typing import Literal, get_args

from posetrack.components.fields import setting
from posetrack.components.roi import RegionOfInterest

Backend = Literal["auto", "gpu", "cpu"]  # where a stage runs; auto: by the GL renderer
Device = Literal["auto", "cpu", "cuda"]  # where ONNX Runtime runs the model
BACKENDS: tuple[str, ...] = get_args(Backend)
DEVICES: tuple[str, ...] = get_args(Device)
# What the tracker is doing: "starting" (no frame yet), "tracking" (a pose on the newest frame),
# "no_person" (nobody in view), "lost" (a stage failed on the newest frame: no pose given),
# "ended" (the source will give no more frames: end of a clip, camera unplugged).
StatusState = Literal["starting", "tracking", "no_person", "lost", "ended"]


@dataclass
class TrackingConfig:
    """What to track with; the entity holding it is the tracker.

    The one settings type of the tracker: `posetrack.init(base, **fields)` takes its fields as
    keyword arguments, each is also the PRC variable `posetrack-<field>` (plugin/config.py),
    `posetrack track` derives its options from them, a scene's `[entity.tracker]` table is this
    type, and docs/config.md is generated from it.
    """

    source: str = setting(
        "webcam:0",
        "camera webcam:N, a video, an image, a folder of images, or sample:NAME",
        scene=False,
    )
    model: str = setting("auto", "pose model of posetrack.models.zoo; auto: the most accurate "
                         "BlazePose that keeps up with the source on this machine (measured "
                         "once)", choices="pose_models")  # fmt: skip
    device: Device = setting("auto", "where ONNX Runtime runs the model: cuda if it can, else cpu")
    preprocess: Backend = setting(
        "auto", "crop/resize: compute shader (gpu) or OpenCV (cpu); auto: by the GL renderer"
    )
    decode: Backend = setting(
        "auto", "heatmap decode: compute shader (gpu) or numpy (cpu); auto: by the GL renderer"
    )
    smoothing: bool = setting(True, "One Euro filter on the tracked pose before characters read it")
    fix_swaps: bool = setting(
        True, "relabel a limb pair the model swapped left/right, by continuity with past frames"
    )
    max_poses: int = setting(
        1, "people reported per frame by multi-person models (PoseNet, MoveNet MultiPose)", ge=1
    )
    vmc: str = setting(
        "",
        "stream the driven character (else the mannequin) over the VMC protocol (OSC/UDP) to "
        "HOST:PORT, e.g. 127.0.0.1:39539; empty: off",
    )


@dataclass
class TrackingState:
    """Carried between frames: the ROI predicted from the last landmarks, if tracking holds."""

    next_roi: RegionOfInterest | None = None
    last_frame: int = -1  # CameraFrame.index of the newest frame the pipeline started on


@dataclass
class StageTimes:
    """What each stage cost on the newest frame, by stage name: milliseconds, and the bytes it
    sent to the GPU (up) and read back from it (down); the CPU path moves none."""

    ms: dict[str, float] = field(default_factory=dict)
    bytes_up: dict[str, int] = field(default_factory=dict)
    bytes_down: dict[str, int] = field(default_factory=dict)


@dataclass
class TrackingStatus:
    """How tracking went on the newest frame, and why not when it did not.

    Written on the tracker entity by PoseTrackingSystem. When a stage fails at run time (camera
    unplugged, inference error, NaN outputs) the host keeps running: `state` says "lost" (or
    "ended" for the source), `stage` names the stage, `reason` is one line, and that frame's
    PoseResult has no poses. The next good frame sets it back to "tracking".
    """

    state: StatusState = "starting"
    reason: str = ""  # one line: why lost or ended; empty while tracking
    stage: str = ""  # the stage that failed ("capture", "detect", "inference", ...), or ""
    frame: int = -1  # the CameraFrame.index this status is about
    lost_frames: int = 0  # frames given up on because a stage failed, since the start
