"""Write a recorded MotionClip as BVH (Biovision hierarchy) text.

HIERARCHY: the rig's own joint names and tree; the top joint is the ROOT with 6 channels
(Xposition Yposition Zposition Zrotation Xrotation Yrotation), every other joint a JOINT with
3 (Zrotation Xrotation Yrotation); a joint without children ends in an End Site that continues
its parent's bone. A rig with several top joints gets a ROOT named "root" at the origin above
them. OFFSETs are the rest offsets from the parent joint; the ROOT's OFFSET is zero and its
position channels hold its absolute position (readers that add the OFFSET to the channels and
readers that do not then agree).

MOTION: one line per frame, Frame Time = 1 / the source's frame rate.

Conventions (those of the files Blender, MotionBuilder and the CMU / Mixamo BVH collections
read and write): Y up, the character facing +Z, its left on +X; metres (Blender's importer maps
one unit to one metre at its default scale); angles in degrees. Each joint's transform is
T(offset) * Rz * Rx * Ry for column vectors, in the order the CHANNELS line lists them. ZXY is
the order most BVH files in circulation use (CMU conversions, MotionBuilder, Mixamo), so a
reader that ignores the declared order still reads these right; its gimbal lock (X at +-90
degrees: a bone pitched straight forward from rest) is handled by continuity below. Every
joint's rest frame is aligned with the world axes (BVH has no rest rotations), so the rest pose
is zero rotations and each rotation is the joint's world change from rest relative to its
parent's (motion/recorder.py).
"""

from pathlib import Path
from typing import TextIO

import numpy as np

from posetrack.motion.recorder import MotionClip

CHANNEL_ORDER = "ZXY"
_END_FRACTION = 0.5  # an End Site continues its parent's bone by half that bone's length
_END_DEFAULT = 0.05  # metres: the End Site of a lone joint points up by this much
_GIMBAL = 1e-9  # |cos X| below this: X is +-90 degrees, Z and Y share one angle


def write_bvh(path: str | Path, clip: MotionClip) -> None:
    """Write `clip` (uniform frames: MotionClip.uniform()) as a BVH file at `path`."""
    with open(path, "w", encoding="ascii", newline="\n") as out:
        write_bvh_to(out, clip)


def write_bvh_to(out: TextIO, clip: MotionClip) -> None:
    rig = clip.rig
    rest = clip.rest_positions()
    roots = rig.roots
    synthetic = len(roots) > 1
    out.write("HIERARCHY\n")
    channels = "CHANNELS 6 Xposition Yposition Zposition " + _rotation_channels()
    if synthetic:
        out.write(f"ROOT root\n{{\n\tOFFSET 0.000000 0.000000 0.000000\n\t{channels}\n")
        for r in roots:
            _joint(out, clip, r, 1, rest[r], "JOINT", "CHANNELS 3 " + _rotation_channels())
        out.write("}\n")
    else:
        _joint(out, clip, roots[0], 0, np.zeros(3), "ROOT", channels)

    order = _write_order(rig, roots)
    local = clip.local_rotations()  # (F, J, 3, 3)
    angles = euler_zxy(local[:, order])  # (F, J', 3) degrees, continuous in time
    positions = clip.positions()
    lines = []
    for f in range(len(clip.times)):
        values: list[np.ndarray] = []
        if synthetic:
            values += [np.zeros(3), np.zeros(3)]
        else:
            values.append(positions[f, roots[0]])
        values.append(angles[f].ravel())
        lines.append(" ".join(f"{v:.6f}" for v in np.concatenate(values)))
    out.write(f"MOTION\nFrames: {len(lines)}\nFrame Time: {clip.frame_time:.8f}\n")
    out.write("\n".join(lines) + "\n")


def _rotation_channels() -> str:
    return " ".join(f"{axis}rotation" for axis in CHANNEL_ORDER)


def _write_order(rig, roots: list[int]) -> list[int]:
    """Joints in the order the hierarchy lists them (depth first): the MOTION column order."""
    order: list[int] = []

    def visit(joint: int) -> None:
        order.append(joint)
        for child in rig.children(joint):
            visit(child)

    for r in roots:
        visit(r)
    return order


def _joint(
    out: TextIO, clip: MotionClip, joint: int, depth: int, offset: np.ndarray, kind: str, channels
) -> None:
    rig, rest = clip.rig, clip.rest_positions()
    pad = "\t" * depth
    out.write(f"{pad}{kind} {_name(rig.names[joint])}\n{pad}{{\n")
    out.write(f"{pad}\tOFFSET {_vec(offset)}\n{pad}\t{channels}\n")
    kids = rig.children(joint)
    for child in kids:
        _joint(out, clip, child, depth + 1, rest[child] - rest[joint], "JOINT",
               "CHANNELS 3 " + _rotation_channels())  # fmt: skip
    if not kids:
        parent = rig.parents[joint]
        bone = rest[joint] - rest[parent] if parent >= 0 else np.zeros(3)
        length = float(np.linalg.norm(bone))
        end = bone * _END_FRACTION if length > 0 else np.array([0.0, _END_DEFAULT, 0.0])
        out.write(f"{pad}\tEnd Site\n{pad}\t{{\n{pad}\t\tOFFSET {_vec(end)}\n{pad}\t}}\n")
    out.write(f"{pad}}}\n")


def _name(name: str) -> str:
    # BVH names are one whitespace-free token; ':' (Mixamo's "mixamorig:Hips") is kept
    return "_".join(name.split()) or "joint"


def _vec(v: np.ndarray) -> str:
    return " ".join(f"{float(x):.6f}" for x in v)


def euler_zxy(rot: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotations R = Rz(z) Rx(x) Ry(y) -> (..., 3) degrees (z, x, y), in the order
    of the CHANNELS line. Along the first axis (frames), each joint takes the equivalent angles
    nearest its previous frame's (either solution, whole turns added), so curves do not jump."""
    r = np.asarray(rot, dtype=np.float64)
    sx = np.clip(r[..., 2, 1], -1.0, 1.0)
    x = np.arcsin(sx)
    cx = np.cos(x)
    z = np.arctan2(-r[..., 0, 1], r[..., 1, 1])
    y = np.arctan2(-r[..., 2, 0], r[..., 2, 2])
    lock = cx < _GIMBAL  # R = Rz(z) Rx(+-90) Ry(y): only z +- y is defined; put it in z
    z = np.where(lock, np.arctan2(r[..., 1, 0], r[..., 0, 0]), z)
    y = np.where(lock, 0.0, y)
    angles = np.degrees(np.stack([z, x, y], axis=-1))
    for f in range(1, angles.shape[0]):
        angles[f] = _nearest(angles[f], angles[f - 1])
    return angles


def _nearest(now: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Of (z, x, y) and (z + 180, 180 - x, y + 180), whole turns added, the one nearest."""
    other = np.stack([now[..., 0] + 180.0, 180.0 - now[..., 1], now[..., 2] + 180.0], axis=-1)
    best = None
    for candidate in (now, other):
        wrapped = previous + (candidate - previous + 180.0) % 360.0 - 180.0
        cost = np.abs(wrapped - previous).sum(axis=-1, keepdims=True)
        best = (wrapped, cost) if best is None else (
            np.where(cost < best[1], wrapped, best[0]), np.minimum(cost, best[1]))  # fmt: skip
    return best[0]


def rotation_zxy(angles_deg: np.ndarray) -> np.ndarray:
    """(..., 3) degrees (z, x, y) -> (..., 3, 3) Rz Rx Ry (the inverse of euler_zxy)."""
    z, x, y = np.moveaxis(np.radians(angles_deg), -1, 0)
    return _rz(z) @ _rx(x) @ _ry(y)


def _rx(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([i, o, o, o, c, -s, o, s, c], axis=-1).reshape(*np.shape(a), 3, 3)


def _ry(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, o, s, o, i, o, -s, o, c], axis=-1).reshape(*np.shape(a), 3, 3)


def _rz(a: np.ndarray) -> np.ndarray:
    c, s, o, i = np.cos(a), np.sin(a), np.zeros_like(a), np.ones_like(a)
    return np.stack([c, -s, o, s, c, o, o, o, i], axis=-1).reshape(*np.shape(a), 3, 3)
