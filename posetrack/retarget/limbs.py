"""Which tracked keypoints define which character bone.

Keypoint names are the snake_case names of posetrack.models.skeletons: BlazePose's 33 and
COCO-17 share them (`left_shoulder`, `left_elbow`, ...), so one table serves both; a bone whose
keypoints a model lacks (hands and feet on COCO-17) is simply never observed and follows its
parent. Bone names are the VRM humanoid names; "left" is the person's (and the character's) own
left. Directions are in the character frame: Z up, the character faces -Y, its left is +X.
"""

from dataclasses import dataclass

import numpy as np

from posetrack.characters.presets import REQUIRED_BONES

# Parents first: the solver walks this order (the bones every supported rig has).
BONES: tuple[str, ...] = REQUIRED_BONES

PARENTS: dict[str, str | None] = {
    "hips": None, "spine": "hips", "chest": "spine", "neck": "chest", "head": "neck",
    "leftUpperArm": "chest", "leftLowerArm": "leftUpperArm", "leftHand": "leftLowerArm",
    "rightUpperArm": "chest", "rightLowerArm": "rightUpperArm", "rightHand": "rightLowerArm",
    "leftUpperLeg": "hips", "leftLowerLeg": "leftUpperLeg", "leftFoot": "leftLowerLeg",
    "rightUpperLeg": "hips", "rightLowerLeg": "rightUpperLeg", "rightFoot": "rightLowerLeg",
}  # fmt: skip

FORWARD = np.array([0.0, -1.0, 0.0])  # the character faces -Y (toward a default Panda camera)
UP = np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class LimbSource:
    """A bone aimed along the observed vector mean(start keypoints) -> mean(end keypoints)."""

    bone: str
    start: tuple[str, ...]
    end: tuple[str, ...]
    rest_child: str | None  # rest direction = rest position of this bone -> of rest_child
    rest_tip: str = ""  # when rest_child is None: "forward", "up" or "continue" (parent's dir)


def _sides(template: list[tuple[str, tuple[str, ...], tuple[str, ...], str | None, str]]):
    out = []
    for side in ("left", "right"):
        for bone, start, end, child, tip in template:
            out.append(
                LimbSource(
                    bone.replace("*", side),
                    tuple(k.replace("*", side) for k in start),
                    tuple(k.replace("*", side) for k in end),
                    child.replace("*", side) if child else None,
                    tip,
                )
            )
    return tuple(out)


LIMBS: tuple[LimbSource, ...] = (
    LimbSource("neck", ("left_shoulder", "right_shoulder"), ("left_ear", "right_ear"), "head"),
) + _sides(
    [
        ("*UpperArm", ("*_shoulder",), ("*_elbow",), "*LowerArm", ""),
        ("*LowerArm", ("*_elbow",), ("*_wrist",), "*Hand", ""),
        # the palm points from the wrist to the knuckles, between index and pinky
        ("*Hand", ("*_wrist",), ("*_index", "*_pinky"), None, "continue"),
        ("*UpperLeg", ("*_hip",), ("*_knee",), "*LowerLeg", ""),
        ("*LowerLeg", ("*_knee",), ("*_ankle",), "*Foot", ""),
        # heel -> toe, not ankle -> toe: it is level when the foot is flat, like the rest foot
        ("*Foot", ("*_heel",), ("*_foot_index",), None, "forward"),
    ]
)

LIMB_BY_BONE: dict[str, LimbSource] = {limb.bone: limb for limb in LIMBS}

# Torso frame: the hip line and the shoulder line, with the hip-centre -> shoulder-centre "up".
HIP_KEYPOINTS = ("left_hip", "right_hip")
SHOULDER_KEYPOINTS = ("left_shoulder", "right_shoulder")
TORSO_KEYPOINTS = HIP_KEYPOINTS + SHOULDER_KEYPOINTS
TORSO_JOINTS = {  # the rig joints that stand for those keypoints
    "left_hip": "leftUpperLeg", "right_hip": "rightUpperLeg",
    "left_shoulder": "leftUpperArm", "right_shoulder": "rightUpperArm",
}  # fmt: skip
HEAD_KEYPOINTS = ("left_ear", "right_ear", "nose")


@dataclass(frozen=True)
class Hinge:
    """A hinge joint (elbow, knee) between an upper and a lower bone.

    `bend` is the way the lower bone swings when the joint flexes, in the character frame at
    rest (elbows fold forward, knees backward); flexion runs from -hyperextension to max_flex.
    """

    upper: str
    lower: str
    bend: tuple[float, float, float]
    max_flex_deg: float
    hyperextension_deg: float
    max_twist_deg: float


HINGES: tuple[Hinge, ...] = tuple(
    h
    for side in ("left", "right")
    for h in (
        # elbow: flexion ~145-150 deg in the anatomy literature; 0-10 deg hyperextension is
        # common. Twist unlimited: relative to the shortest swing from the chest a valid arm can
        # need any humerus twist (Codman's paradox: raise it forward or sideways, same end).
        Hinge(f"{side}UpperArm", f"{side}LowerArm", (0.0, -1.0, 0.0), 150.0, 10.0, 180.0),
        # knee: ~140-150 deg passive flexion; more than ~10 deg hyperextension is pathological.
        # Twist: the hip rotates ~40-45 deg each way, plus ~15 deg for the swing path's own twist.
        Hinge(f"{side}UpperLeg", f"{side}LowerLeg", (0.0, 1.0, 0.0), 150.0, 10.0, 60.0),
    )
)
HINGE_BY_UPPER: dict[str, Hinge] = {h.upper: h for h in HINGES}
HINGE_BY_LOWER: dict[str, Hinge] = {h.lower: h for h in HINGES}

# The rig joint whose world position stands for each tracked keypoint (for "character" output).
KEYPOINT_JOINTS: dict[str, str] = {
    f"{side}_{kp}": f"{side}{bone}"
    for side in ("left", "right")
    for kp, bone in (
        ("shoulder", "UpperArm"), ("elbow", "LowerArm"), ("wrist", "Hand"),
        ("hip", "UpperLeg"), ("knee", "LowerLeg"), ("ankle", "Foot"),
    )
}  # fmt: skip


def mirror_name(name: str) -> str:
    """The keypoint or bone name of the other side (left_x <-> right_x, leftX <-> rightX)."""
    for a, b in (("left_", "right_"), ("right_", "left_"), ("left", "right"), ("right", "left")):
        if name.startswith(a):
            return b + name[len(a) :]
    return name


def observable_bones(keypoint_names: tuple[str, ...]) -> set[str]:
    """Bones whose keypoints a model with these names provides (the others follow parents)."""
    have = set(keypoint_names)
    bones = {limb.bone for limb in LIMBS if have.issuperset(limb.start + limb.end)}
    if have.issuperset(TORSO_KEYPOINTS):
        bones |= {"hips", "spine", "chest"}
    if have.issuperset(HEAD_KEYPOINTS):
        bones.add("head")
    return bones
