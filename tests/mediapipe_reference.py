"""MediaPipe's own pose pipeline over a clip: the reference answer for the BlazePose models.

`reference_landmarks(video)` runs `mp.solutions.pose.Pose` (model_complexity=1, i.e. the same
pose_landmark_full + pose_detection weights as our default model, smoothing off) on every frame
and caches the result as .npz under `cache_dir()/reference/`, keyed by the clip's sha256, the
MediaPipe version and the settings, so repeated test runs cost a file read instead of ~10 s.

Tests only: mediapipe is a dev dependency, never used at run time.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from posetrack.cache import cache_dir
from posetrack.fetch import sha256_of

NUM_LANDMARKS = 33
# Per landmark: x_px, y_px, z_px (MediaPipe's z, scaled by the image width like x), visibility
# (a probability: MediaPipe applied the sigmoid). Presence is left out: the solutions API of
# 0.10.14 leaves it 0 on every landmark.
LANDMARK_COLUMNS = ("x_px", "y_px", "z_px", "visibility")
WORLD_COLUMNS = ("x_m", "y_m", "z_m")  # metres, origin between the hips
# Must match what the tracker under test does: full model, no temporal smoothing, no mask.
POSE_SETTINGS: dict[str, Any] = {
    "static_image_mode": False,
    "model_complexity": 1,
    "smooth_landmarks": False,
    "enable_segmentation": False,
}
_SETTINGS_TAG = "c1-nosmooth-v2"  # part of the cache key: change it when POSE_SETTINGS change


def reference_landmarks(video: Path) -> dict[str, Any]:
    """MediaPipe's landmarks for every frame of `video` (a clip or a single image).

    Returns a dict:
      - "landmarks": list, per frame, of None (no pose found) or a float32 (33, 4) array with
        columns LANDMARK_COLUMNS, in source pixels (origin top-left, y down);
      - "world": list, per frame, of None or a float32 (33, 3) array (WORLD_COLUMNS);
      - "width", "height": source size in pixels; "fps": the clip's frame rate (0 for images);
      - "mediapipe_version": the version that produced it.
    """
    import mediapipe as mp

    video = Path(video)
    key = f"{sha256_of(video)[:16]}-mediapipe{mp.__version__}-{_SETTINGS_TAG}"
    cached = cache_dir() / "reference" / f"{key}.npz"
    if not cached.is_file():
        arrays = _run_mediapipe(video)
        arrays["mediapipe_version"] = np.array(mp.__version__)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.stem}.{os.getpid()}.part.npz")
        np.savez_compressed(partial, **arrays)
        partial.replace(cached)  # atomic: a concurrent or interrupted run never sees half a file
    return _unpack(cached)


def _unpack(path: Path) -> dict[str, Any]:
    with np.load(path) as data:
        found = data["found"]
        landmarks, world = data["landmarks"], data["world"]
        return {
            "landmarks": [landmarks[i] if f else None for i, f in enumerate(found)],
            "world": [world[i] if f else None for i, f in enumerate(found)],
            "width": int(data["width"]),
            "height": int(data["height"]),
            "fps": float(data["fps"]),
            "mediapipe_version": str(data["mediapipe_version"]),
        }


def _frames(video: Path) -> tuple[Iterator[np.ndarray], float]:
    """(iterator of BGR frames, fps) for a video file or a single image."""
    import cv2

    image = cv2.imread(str(video)) if video.suffix.lower() in (".jpg", ".jpeg", ".png") else None
    if image is not None:
        return iter([image]), 0.0
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open {video} as a video or an image")
    fps = float(capture.get(cv2.CAP_PROP_FPS))

    def read() -> Iterator[np.ndarray]:
        try:
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame
        finally:
            capture.release()

    return read(), fps


def _run_mediapipe(video: Path) -> dict[str, np.ndarray]:
    import cv2
    import mediapipe as mp

    frames, fps = _frames(video)
    landmarks: list[np.ndarray] = []
    world: list[np.ndarray] = []
    found: list[bool] = []
    width = height = 0
    with mp.solutions.pose.Pose(**POSE_SETTINGS) as pose:
        for frame in frames:
            height, width = frame.shape[:2]
            result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            found.append(result.pose_landmarks is not None)
            landmarks.append(np.full((NUM_LANDMARKS, len(LANDMARK_COLUMNS)), np.nan, np.float32))
            world.append(np.full((NUM_LANDMARKS, len(WORLD_COLUMNS)), np.nan, np.float32))
            if result.pose_landmarks is None:
                continue
            for i, lm in enumerate(result.pose_landmarks.landmark):
                landmarks[-1][i] = (lm.x * width, lm.y * height, lm.z * width, lm.visibility)
            for i, lm in enumerate(result.pose_world_landmarks.landmark):
                world[-1][i] = (lm.x, lm.y, lm.z)
    if not found:
        raise ValueError(f"{video} has no frames")
    return {
        "landmarks": np.stack(landmarks),
        "world": np.stack(world),
        "found": np.array(found),
        "width": np.array(width),
        "height": np.array(height),
        "fps": np.array(fps),
    }
