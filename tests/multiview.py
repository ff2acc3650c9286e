"""Calibrated multi-view footage as ground truth: calibration, triangulation, metrics.

For the four synchronised, calibrated views of Pose2Sim's demo (samples pose2sim-*-cam01..04):
`load_qca` reads the Qualisys calibration, `triangulate` solves each joint from the views by
a visibility-weighted DLT on undistorted points, and the metrics compare one model's tracking
of each view with that 3D body: reprojection error (cross-camera consistency), left/right swaps
(a view whose limb labels fit the other views' body better exchanged) and 3D limb directions.

Qualisys conventions (checked against the footage: the triangulated joints reproject within a
few pixels for blazepose-heavy): `transform` holds the camera's position in the world (mm) and
a rotation whose rows, read row by row, turn world vectors into the camera's axes with y up and
z backwards (OpenGL-like); OpenCV's camera (y down, z forwards) is that turned by 180 degrees
about x. `intrinsic` is in sensor units: sensorMaxU / (fov right - left + 1) of them per pixel
(64 here), distortion coefficients in OpenCV's order (k1, k2, p1, p2, k3) are unitless.
"""

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# the 12 body joints of the metric, and which of them form the limbs and left/right pairs
BODY = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
LIMBS = {  # limb -> (start, end) joint names, per side
    f"{side}_{name}": (f"{side}_{a}", f"{side}_{b}")
    for side in ("left", "right")
    for name, a, b in (
        ("upper_arm", "shoulder", "elbow"),
        ("lower_arm", "elbow", "wrist"),
        ("upper_leg", "hip", "knee"),
        ("lower_leg", "knee", "ankle"),
    )
}
# the left/right pairs a swap exchanges: the arm (elbow, wrist) and the leg (knee, ankle), with
# the root joint of the limb (shoulder, hip) too: a swapped leg is a swapped hip + knee + ankle
PAIRS = {"arms": ("shoulder", "elbow", "wrist"), "legs": ("hip", "knee", "ankle")}


@dataclass(frozen=True)
class Camera:
    """One calibrated camera, OpenCV conventions: x_cam = R @ X_world + t (metres)."""

    name: str
    matrix: np.ndarray  # 3 x 3 intrinsics, pixels
    distortion: np.ndarray  # k1, k2, p1, p2, k3
    rotation: np.ndarray  # 3 x 3 world -> camera
    translation: np.ndarray  # (3,) metres

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) world points -> (N, 2) distorted pixels."""
        rvec, _ = cv2.Rodrigues(self.rotation)
        pixels, _ = cv2.projectPoints(
            np.asarray(points, np.float64).reshape(-1, 1, 3), rvec, self.translation,
            self.matrix, self.distortion,
        )  # fmt: skip
        return pixels.reshape(-1, 2)

    def normalised(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 2) distorted pixels -> (N, 2) undistorted normalised image coordinates."""
        points = np.asarray(pixels, np.float64).reshape(-1, 1, 2)
        return cv2.undistortPoints(points, self.matrix, self.distortion).reshape(-1, 2)


def load_qca(path: Path) -> list[Camera]:
    """The cameras of a Qualisys .qca.txt calibration, in file order (see the module doc)."""
    cameras = []
    for cam in ET.parse(path).getroot().iter("camera"):
        fov = cam.find("fov_video").attrib
        intr = {k: float(v) for k, v in cam.find("intrinsic").attrib.items() if _is_num(v)}
        tr = {k: float(v) for k, v in cam.find("transform").attrib.items()}
        per_px = intr["sensorMaxU"] / (float(fov["right"]) - float(fov["left"]) + 1.0)
        left, top = float(fov["left"]), float(fov["top"])
        matrix = np.array([
            [intr["focalLengthU"] / per_px, 0.0, intr["centerPointU"] / per_px - left],
            [0.0, intr["focalLengthV"] / per_px, intr["centerPointV"] / per_px - top],
            [0.0, 0.0, 1.0],
        ])  # fmt: skip
        distortion = np.array([intr["radialDistortion1"], intr["radialDistortion2"],
                               intr["tangentalDistortion1"], intr["tangentalDistortion2"],
                               intr["radialDistortion3"]])  # fmt: skip
        rows = np.array([[tr[f"r{i}{j}"] for j in (1, 2, 3)] for i in (1, 2, 3)])
        flip = np.diag([1.0, -1.0, -1.0])  # y up, z backwards -> OpenCV's y down, z forwards
        rotation = flip @ rows
        position = np.array([tr["x"], tr["y"], tr["z"]]) / 1000.0
        cameras.append(
            Camera(cam.get("serial"), matrix, distortion, rotation, -rotation @ position)
        )
    return cameras


def _is_num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def triangulate(cameras: list[Camera], pixels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted DLT. pixels (V, J, 2), weights (V, J) (0: unseen) -> (J, 3); NaN where fewer
    than two views see a joint."""
    views, joints = weights.shape
    norm = np.stack([cam.normalised(pixels[v]) for v, cam in enumerate(cameras)])
    proj = np.stack([np.hstack([c.rotation, c.translation[:, None]]) for c in cameras])
    out = np.full((joints, 3), np.nan)
    for j in range(joints):
        seen = weights[:, j] > 0
        if seen.sum() < 2:
            continue
        rows = []
        for v in np.flatnonzero(seen):
            x, y = norm[v, j]
            rows += [weights[v, j] * (x * proj[v, 2] - proj[v, 0]),
                     weights[v, j] * (y * proj[v, 2] - proj[v, 1])]  # fmt: skip
        _, _, vt = np.linalg.svd(np.array(rows))
        out[j] = vt[-1, :3] / vt[-1, 3]
    return out


@dataclass
class ViewTrack:
    """One view's tracked clip, read from a `posetrack track` JSONL stream; NaN: no pose."""

    header: dict
    keypoints: np.ndarray  # (F, 33, 3) x_px, y_px, confidence
    world: np.ndarray  # (F, 33, 3) metres
    character: np.ndarray  # (F, 12, 3) in BODY order (NaN without --character)
    names: tuple[str, ...]

    def body(self) -> np.ndarray:
        """(F, 12, 3) keypoints of the BODY joints."""
        return self.keypoints[:, [self.names.index(n) for n in BODY]]

    def body_world(self) -> np.ndarray:
        return self.world[:, [self.names.index(n) for n in BODY]]


def read_stream(path: Path) -> ViewTrack:
    """The frames of a pose stream (first pose of each frame)."""
    lines = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    header = lines[0]
    frames = [line for line in lines if line["type"] == "frame"]
    names = tuple(header["keypoints"])
    count = len(frames)
    keypoints = np.full((count, len(names), 3), np.nan)
    world = np.full((count, len(names), 3), np.nan)
    character = np.full((count, len(BODY), 3), np.nan)
    for i, frame in enumerate(frames):
        if not frame["poses"]:
            continue
        pose = frame["poses"][0]
        keypoints[i] = pose["keypoints"]
        if pose.get("world") is not None:
            world[i] = pose["world"]
        if "character" in pose:
            character[i] = [pose["character"][n] for n in BODY]
    return ViewTrack(header, keypoints, world, character, names)


def body_3d(cameras: list[Camera], views: list[ViewTrack]) -> np.ndarray:
    """(F, 12, 3) triangulated BODY joints of each frame, labels as each view gives them."""
    pts = np.stack([v.body() for v in views])  # V, F, 12, 3
    frames = min(v.keypoints.shape[0] for v in views)
    out = np.full((frames, len(BODY), 3), np.nan)
    for f in range(frames):
        weights = np.nan_to_num(pts[:, f, :, 2])
        out[f] = triangulate(cameras, np.nan_to_num(pts[:, f, :, :2]), weights)
    return out


def reprojection_errors(cameras: list[Camera], views: list[ViewTrack], body: np.ndarray):
    """(V, F, 12) pixel distance between each view's keypoints and the reprojected 3D body."""
    frames = body.shape[0]
    err = np.full((len(views), frames, len(BODY)), np.nan)
    for v, (cam, view) in enumerate(zip(cameras, views, strict=True)):
        pts = view.body()[:frames, :, :2]
        for f in range(frames):
            if np.isfinite(body[f]).all() and np.isfinite(pts[f]).all():
                err[v, f] = np.linalg.norm(cam.project(body[f]) - pts[f], axis=1)
    return err


def _exchanged(part: str) -> np.ndarray:
    """BODY order with `part`'s (arms or legs) left and right joints exchanged."""
    order = list(range(len(BODY)))
    for joint in PAIRS[part]:
        a, b = BODY.index(f"left_{joint}"), BODY.index(f"right_{joint}")
        order[a], order[b] = b, a
    return np.array(order)


def count_swaps(cameras: list[Camera], views: list[ViewTrack]) -> np.ndarray:
    """(V, F, 2) True where a view's arms ([..., 0]) or legs ([..., 1]) are labelled left/right
    the other way round from the body the views agree on.

    Per frame and limb pair every combination of per-view labellings (as given, or that pair's
    left and right exchanged) is triangulated; the one with the smallest summed reprojection
    error says which labelling fits each view. A combination and its complement are the same
    body with its labels exchanged: of the two, the one exchanging fewer views is taken (a tie,
    two views against two: the one that leaves the first views as they are).
    """
    pts = np.stack([v.body() for v in views])
    count, frames = len(views), min(v.keypoints.shape[0] for v in views)
    out = np.zeros((count, frames, len(PAIRS)), dtype=bool)
    combos = [np.array([(c >> v) & 1 for v in range(count)], bool) for c in range(2**count)]
    combos = [c for c in combos if c.sum() * 2 < count or (c.sum() * 2 == count and not c[0])]
    for p, part in enumerate(PAIRS):
        rows = [BODY.index(f"{s}_{j}") for j in PAIRS[part] for s in ("left", "right")]
        order = _exchanged(part)[rows]
        for f in range(frames):
            if not np.isfinite(pts[:, f, rows]).all():
                continue
            best, best_err = None, np.inf
            for combo in combos:
                seen = np.stack([pts[v, f][order if combo[v] else rows] for v in range(count)])
                body = triangulate(cameras, seen[..., :2], seen[..., 2])
                err = sum(np.linalg.norm(cam.project(body) - seen[v, :, :2], axis=1).sum()
                          for v, cam in enumerate(cameras))  # fmt: skip
                if err < best_err:
                    best, best_err = combo, err
            out[:, f, p] = best
    return out


def swap_runs(flags: np.ndarray) -> int:
    """How many runs of consecutive swapped frames (one swap = left and right exchanged, for
    as many frames as it lasts)."""
    padded = np.concatenate([[False], flags.astype(bool)])
    return int((padded[1:] & ~padded[:-1]).sum())


def limb_angles(cameras: list[Camera], body: np.ndarray, view: int, pose3d: np.ndarray):
    """(F, 8) degrees between each limb's triangulated direction, turned into camera `view`'s
    axes (x right, y down, z forwards: the world landmarks' axes), and that limb in `pose3d`
    ((F, 12, 3) in BODY order, e.g. a view's world landmarks or its character)."""
    rot = cameras[view].rotation
    frames = min(body.shape[0], pose3d.shape[0])
    out = np.full((frames, len(LIMBS)), np.nan)
    for k, (a, b) in enumerate(LIMBS.values()):
        ia, ib = BODY.index(a), BODY.index(b)
        truth = (body[:frames, ib] - body[:frames, ia]) @ rot.T
        seen = pose3d[:frames, ib] - pose3d[:frames, ia]
        cos = np.sum(truth * seen, axis=1) / (
            np.linalg.norm(truth, axis=1) * np.linalg.norm(seen, axis=1)
        )
        out[:, k] = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return out
