"""MediaPipe's own pose pipeline, run inside its own venv (.venv-mediapipe) as a subprocess.

The tests' reference answer for the BlazePose models. It runs apart from the tracker's venv:
mediapipe 0.10.14 pulls opencv-contrib-python, whose cv2 would land over the tracker's
opencv-python-headless and change the code under test. So this file imports only mediapipe,
numpy and cv2 (never posetrack), and talks through files:

    .venv-mediapipe/bin/python tests/mediapipe_worker.py REQUEST.json

REQUEST.json: {"kind": ..., "out": "result.npz", ...}; kinds:
- "video": {"video": path}: mp.solutions.pose in video mode (model_complexity=1, smoothing off)
  over every frame; "landmarks" (F, 33, 4: x_px, y_px, z_px, visibility), "world" (F, 33, 3),
  "found" (F), "width", "height", "fps".
- "runs": {"images": images.npz, "runs": [[name, ...], ...], "static": bool}: a fresh Pose per
  run, its images in order; per image "<run>/<i>/landmarks" (33, 3: x_px, y_px, visibility) and
  "<run>/<i>/world" (33, 3), absent when no pose was found.
- "roi": {"images": images.npz, "names": [...]}: the pose graph with MediaPipe's detector ROI
  exposed; per image found "<name>/landmarks" (33, 2) and "<name>/rect" (x_centre, y_centre,
  width, height in px, rotation).
Every result also holds "mediapipe_version" and "refine_pb2_imported" (see REFINE_PB2).
"""

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import mediapipe as mp
import numpy as np

# mp.solutions.pose runs RefineLandmarksFromHeatmap with kernel 9 unless this _pb2 was imported
# before the Pose object was built (then the graph's 7): reported so the client can match it
REFINE_PB2 = "mediapipe.calculators.util.refine_landmarks_from_heatmap_calculator_pb2"
POSE_SETTINGS: dict[str, Any] = {"model_complexity": 1, "smooth_landmarks": False}


def _video_frames(path: str) -> tuple[Iterator[np.ndarray], float]:
    """(BGR frames, fps) of a clip, or of a single image (fps 0)."""
    image = cv2.imread(path) if Path(path).suffix.lower() in (".jpg", ".jpeg", ".png") else None
    if image is not None:
        return iter([image]), 0.0
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        sys.exit(f"cannot open {path} as a video or an image")
    fps = float(capture.get(cv2.CAP_PROP_FPS))

    def read() -> Iterator[np.ndarray]:
        try:
            while (frame := capture.read())[0]:
                yield frame[1]
        finally:
            capture.release()

    return read(), fps


def video(request: dict[str, Any]) -> dict[str, np.ndarray]:
    frames, fps = _video_frames(request["video"])
    landmarks, world, found = [], [], []
    width = height = 0
    settings = {"static_image_mode": False, "enable_segmentation": False, **POSE_SETTINGS}
    with mp.solutions.pose.Pose(**settings) as pose:
        for frame in frames:
            height, width = frame.shape[:2]
            result = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            found.append(result.pose_landmarks is not None)
            landmarks.append(np.full((33, 4), np.nan, np.float32))
            world.append(np.full((33, 3), np.nan, np.float32))
            if result.pose_landmarks is None:
                continue
            for i, m in enumerate(result.pose_landmarks.landmark):
                landmarks[-1][i] = (m.x * width, m.y * height, m.z * width, m.visibility)
            for i, m in enumerate(result.pose_world_landmarks.landmark):
                world[-1][i] = (m.x, m.y, m.z)
    if not found:
        sys.exit(f"{request['video']} has no frames")
    return {
        "landmarks": np.stack(landmarks), "world": np.stack(world), "found": np.array(found),
        "width": np.array(width), "height": np.array(height), "fps": np.array(fps),
    }  # fmt: skip


def runs(request: dict[str, Any]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    with np.load(request["images"]) as images:
        for r, names in enumerate(request["runs"]):
            with mp.solutions.pose.Pose(
                static_image_mode=request["static"], **POSE_SETTINGS
            ) as pose:
                for i, name in enumerate(names):
                    image = images[name]
                    height, width = image.shape[:2]
                    result = pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                    if result.pose_landmarks is None:
                        continue
                    marks = result.pose_landmarks.landmark
                    out[f"{r}/{i}/landmarks"] = np.array(
                        [[m.x * width, m.y * height, m.visibility] for m in marks]
                    )
                    out[f"{r}/{i}/world"] = np.array(
                        [[m.x, m.y, m.z] for m in result.pose_world_landmarks.landmark]
                    )
    return out


def roi(request: dict[str, Any]) -> dict[str, np.ndarray]:
    from mediapipe.python.solution_base import SolutionBase

    graph = SolutionBase(
        binary_graph_path=mp.solutions.pose._BINARYPB_FILE_PATH,
        side_inputs={
            "model_complexity": 1,
            "smooth_landmarks": False,
            "enable_segmentation": False,
            "smooth_segmentation": False,
            "use_prev_landmarks": False,
        },  # fmt: skip
        outputs=["pose_landmarks", "pose_rect_from_detection"],
    )
    out: dict[str, np.ndarray] = {}
    try:
        with np.load(request["images"]) as images:
            for name in request["names"]:
                image = images[name]
                height, width = image.shape[:2]
                result = graph.process({"image": cv2.cvtColor(image, cv2.COLOR_BGR2RGB)})
                if result.pose_landmarks is None:
                    continue
                rect = result.pose_rect_from_detection
                out[f"{name}/rect"] = np.array([
                    rect.x_center * width, rect.y_center * height,
                    rect.width * width, rect.height * height, rect.rotation,
                ])  # fmt: skip
                out[f"{name}/landmarks"] = np.array(
                    [[m.x * width, m.y * height] for m in result.pose_landmarks.landmark]
                )
    finally:
        graph.close()
    return out


KINDS = {"video": video, "runs": runs, "roi": roi}


def main() -> None:
    request = json.loads(Path(sys.argv[1]).read_text())
    result = KINDS[request["kind"]](request)
    result["mediapipe_version"] = np.array(mp.__version__)
    result["refine_pb2_imported"] = np.array(REFINE_PB2 in sys.modules)
    np.savez_compressed(request["out"], **result)


if __name__ == "__main__":
    main()
