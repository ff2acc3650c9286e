"""Bone-length depth for characters (posetrack/retarget/depth.py).

A synthetic body with known 3D, seen by a pinhole camera, checks the solve itself; Pose2Sim's
four calibrated views (tests/multiview.py) check that the driven mannequin's limbs, with the
default corrections, point where the triangulated limbs point at least as well as the model's
own world landmarks do.
"""

import numpy as np
from multiview import (  # tests/ is on sys.path under pytest
    BODY,
    body_3d,
    limb_angles,
)
from multiview_tracks import calibration, character_views  # tests/ is on sys.path

from posetrack.retarget.depth import FOV_DEG, BoneDepth

SIZE = (1080, 1920)  # the four-view clip's frames (portrait)
NAMES = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
FRAMES = 40  # four-view clip frames tracked per view (~0.7 s of walking at 60 fps)


def _body(t: float) -> np.ndarray:
    """A walking-ish body in the camera frame (x right, y down, z forwards, metres), 3 m away:
    limbs swinging toward and away from the camera (the depth the model guesses)."""
    swing = 0.6 * np.sin(2 * np.pi * t)
    hip = np.array([0.2, 0.3, 3.0])
    pts = {
        "left_hip": hip + [0.1, 0, 0], "right_hip": hip - [0.1, 0, 0],
        "left_shoulder": hip + [0.18, -0.5, 0.05], "right_shoulder": hip + [-0.18, -0.5, -0.05],
    }  # fmt: skip
    for side, sign in (("left", 1.0), ("right", -1.0)):
        a = sign * swing
        pts[f"{side}_knee"] = pts[f"{side}_hip"] + 0.42 * np.array([0, np.cos(a), np.sin(a)])
        b = a - 0.5 * abs(a)
        pts[f"{side}_ankle"] = pts[f"{side}_knee"] + 0.40 * np.array([0, np.cos(b), np.sin(b)])
        c = -a
        pts[f"{side}_elbow"] = pts[f"{side}_shoulder"] + 0.28 * np.array(
            [0.2 * sign, np.cos(c), np.sin(c)]
        ) / np.linalg.norm([0.2, np.cos(c), np.sin(c)])
        d = c - 0.8
        pts[f"{side}_wrist"] = pts[f"{side}_elbow"] + 0.25 * np.array([0, np.cos(d), np.sin(d)])
    return np.array([pts[n] for n in NAMES])


def _project(points: np.ndarray) -> np.ndarray:
    focal = 0.5 * max(SIZE) / np.tan(np.radians(FOV_DEG) / 2)
    xy = focal * points[:, :2] / points[:, 2:3] + np.array(SIZE) / 2
    return np.column_stack([xy, np.ones(len(points))])


def _limb_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = []
    for child, parent in ((2, 0), (3, 1), (4, 2), (5, 3), (8, 6), (9, 7), (10, 8), (11, 9)):
        u, v = a[child] - a[parent], b[child] - b[parent]
        cos = u @ v / np.linalg.norm(u) / np.linalg.norm(v)
        out.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return np.array(out)


def _solve(noise_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Limb direction errors (deg) of the world landmarks and of the solve over 50 frames,
    the world landmarks' depth off by up to +-noise_m per joint (the model's kind of error:
    x, y right, z guessed)."""
    rng = np.random.default_rng(7)
    depth = BoneDepth(NAMES)
    noisy_deg, solved_deg = [], []
    for f in range(60):
        truth = _body(f / 30.0)
        world = truth - truth[6:8].mean(axis=0)
        world[:, 2] += rng.uniform(-noise_m, noise_m, len(NAMES))
        solved = depth(_project(truth), world, SIZE)
        if f >= 10:  # bone lengths settled
            noisy_deg.append(_limb_deg(truth, world))
            solved_deg.append(_limb_deg(truth, solved))
    return np.array(noisy_deg), np.array(solved_deg)


def test_the_depth_solve_recovers_known_limb_directions() -> None:
    """From exact 2D and exact world landmarks the solve keeps the limbs (what is left is the
    scale fit's error: bones near the image plane are sensitive to it); from world landmarks
    with depth off by up to 10 cm per joint it recovers most of the truth from the 2D."""
    _, exact = _solve(0.0)
    noisy, solved = _solve(0.1)
    print(f"limb direction error, median/p90 deg: exact input -> {np.median(exact):.1f}/"
          f"{np.percentile(exact, 90):.1f}; noisy depth {np.median(noisy):.1f}/"
          f"{np.percentile(noisy, 90):.1f} -> {np.median(solved):.1f}/"
          f"{np.percentile(solved, 90):.1f}")  # fmt: skip
    assert np.median(exact) < 2.5
    assert np.median(solved) < 0.6 * np.median(noisy)
    assert np.percentile(solved, 90) < np.percentile(noisy, 90)


def test_the_character_is_no_worse_than_the_world_landmarks_on_four_views() -> None:
    cameras = list(calibration())
    views = list(character_views(FRAMES))
    assert views[0].header["corrections"] == {"swaps": True, "bone_depth": True}
    reference = body_3d(cameras, views)
    world, character = [], []
    for v, view in enumerate(views):
        world.append(limb_angles(cameras, reference, v, view.body_world()))
        character.append(limb_angles(cameras, reference, v, view.character))
        print(f"cam0{v + 1}: world {np.nanmedian(world[-1]):.1f} deg, character "
              f"{np.nanmedian(character[-1]):.1f} deg (median, {len(BODY) - 4} limbs)")  # fmt: skip
    assert np.nanmedian(character) <= np.nanmedian(world)
