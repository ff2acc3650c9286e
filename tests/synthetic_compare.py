"""The synthetic closed loop's bookkeeping: render a sequence to a folder, track it with the
`posetrack track` command as a user runs it, and compare what came back with the truth.

Compared per frame with a pose, per limb (upper/lower arm and leg, each side): the angle between
the known 3D limb direction (synthetic_scene.Truth, camera axes) and
- "world": the tracked world landmarks (BlazePose's own 3D), and
- "character": the joints of a second mannequin driven by the tracked pose (the stream's
  `character` positions, same axes).
- "world, body turn removed": the world landmarks after the rotation that best fits all twelve
  limb keypoints to the truth (Kabsch) on that frame: what is left is the limbs' own error,
  not the body's orientation as a whole.
Left/right: a limb group (arms: shoulder, elbow, wrist; legs: hip, knee, ankle) counts as
swapped on a frame when its hip-centred 3D points sit closer to the other side's truth than to
their own by more than SWAP_MARGIN_M on average; a swap is the start of a run of such frames.
"""

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from synthetic_scene import FPS, CameraSpec, SyntheticScene, Truth

LIMBS = {  # limb -> (from keypoint, to keypoint), without the side
    "upper_arm": ("shoulder", "elbow"), "lower_arm": ("elbow", "wrist"),
    "upper_leg": ("hip", "knee"), "lower_leg": ("knee", "ankle"),
}  # fmt: skip
GROUPS = {"arms": ("shoulder", "elbow", "wrist"), "legs": ("hip", "knee", "ankle")}
# the mean distance by which the other side's truth must be closer for a swap: 5 cm is well
# above the landmarks' own scatter (a few cm), well below the gap between two legs in a stride
SWAP_MARGIN_M = 0.05
CLI_TIMEOUT_S = 900  # guards against a hang only
ALIGNED = "world, body turn removed"
METRICS = ("world", ALIGNED, "character")


def render_sequence(
    scene: SyntheticScene, camera: CameraSpec, frames: int, folder: Path, start_s: float = 0.0
) -> list[Truth]:
    """`frames` frames at FPS from `start_s` seconds of the motion, seen from `camera`, as PNG
    files in `folder`, and their truth (also written to folder/truth.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    truths = []
    for i in range(frames):
        picture, truth = scene.frame(start_s + i / FPS, camera)
        # PNG level 1: lossless like any level, and the fastest to write
        cv2.imwrite(str(folder / f"frame{i:04d}.png"), picture[:, :, ::-1],
                    [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fmt: skip
        truths.append(truth)
    (folder / "truth.json").write_text(json.dumps([asdict(t) for t in truths]))
    return truths


def load_truth(folder: Path) -> list[Truth]:
    return [Truth(**t) for t in json.loads((folder / "truth.json").read_text())]


def track(folder: Path, out: Path, *extra: str) -> list[dict]:
    """`posetrack track FOLDER --sequence --character mannequin --no-mirror`, plus `extra`;
    the stream's lines."""
    command = [sys.executable, "-m", "posetrack", "track", str(folder), "--sequence",
               "--character", "mannequin", "--no-mirror", "--out", str(out), *extra]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"posetrack track failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    c = a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def _points(line: dict, names: list[str], metric: str) -> dict[str, np.ndarray] | None:
    """Keypoint -> 3D point of the frame's first pose for `metric` (METRICS)."""
    if not line["poses"]:
        return None
    pose = line["poses"][0]
    if metric in ("world", ALIGNED):
        if pose.get("world") is None:
            return None
        return {n: np.array(p, dtype=np.float64) for n, p in zip(names, pose["world"], strict=True)}
    if "character" not in pose:
        return None
    return {n: np.array(p, dtype=np.float64) for n, p in pose["character"].items()}


@dataclass
class LoopResult:
    """One camera, one tracking variant, one metric."""

    frames: int
    detected: int
    errors: dict[str, list[float]] = field(default_factory=dict)  # limb_side -> degrees
    swapped: dict[str, list[bool]] = field(default_factory=dict)  # group -> per posed frame

    @property
    def all_errors(self) -> np.ndarray:
        return np.array([e for errs in self.errors.values() for e in errs])

    def swaps(self) -> int:
        """Runs of swapped frames, over every group."""
        return sum(
            int(flags[0]) + sum(1 for a, b in zip(flags, flags[1:], strict=False) if b and not a)
            for flags in self.swapped.values()
            if flags
        )

    def swaps_per_minute(self) -> float:
        return self.swaps() / (self.frames / FPS / 60.0)


def compare(lines: list[dict], truths: list[Truth], metric: str) -> LoopResult:
    """Per-limb angle errors and swap flags of a tracked stream against the truth."""
    header, frames = lines[0], [line for line in lines if line.get("type") == "frame"]
    names = header["keypoints"]
    result = LoopResult(frames=len(truths), detected=sum(1 for f in frames if f["poses"]))
    for line in frames:
        points = _points(line, names, metric)
        if points is None:
            continue
        truth = {k: np.array(v) for k, v in truths[line["frame"]].camera.items()}
        if metric == ALIGNED:
            points = _aligned(points, truth)
        for side in ("left", "right"):
            for limb, (a, b) in LIMBS.items():
                got = points[f"{side}_{b}"] - points[f"{side}_{a}"]
                want = truth[f"{side}_{b}"] - truth[f"{side}_{a}"]
                result.errors.setdefault(f"{limb}_{side}", []).append(_angle(got, want))
        result_swaps(result, points, truth)
    return result


def _aligned(points: dict, truth: dict) -> dict[str, np.ndarray]:
    """`points` turned by the rotation that best maps the limb keypoints onto the truth."""
    names = list(truth)
    p = np.array([points[n] for n in names])
    q = np.array([truth[n] for n in names])
    pc, qc = p.mean(axis=0), q.mean(axis=0)
    u, _, vt = np.linalg.svd((p - pc).T @ (q - qc))
    d = np.sign(np.linalg.det(u @ vt))  # a rotation, never a reflection
    turn = u @ np.diag([1.0, 1.0, d]) @ vt  # row vectors: p @ turn ~ q
    return {**points, **{n: (points[n] - pc) @ turn + pc for n in names}}


def result_swaps(result: LoopResult, points: dict, truth: dict) -> None:
    """Add this frame's swap flag per group (hip-centred points, own side vs other side)."""
    centre = 0.5 * (points["left_hip"] + points["right_hip"])
    true_centre = 0.5 * (truth["left_hip"] + truth["right_hip"])
    for group, parts in GROUPS.items():
        own = other = 0.0
        for part in parts:
            for side, opposite in (("left", "right"), ("right", "left")):
                p = points[f"{side}_{part}"] - centre
                own += np.linalg.norm(p - (truth[f"{side}_{part}"] - true_centre))
                other += np.linalg.norm(p - (truth[f"{opposite}_{part}"] - true_centre))
        n = 2 * len(parts)
        result.swapped.setdefault(group, []).append(other / n + SWAP_MARGIN_M < own / n)
