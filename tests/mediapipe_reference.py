"""The client side of MediaPipe's reference pipeline: runs tests/mediapipe_worker.py in the
MediaPipe venv (.venv-mediapipe, built by `make reference`, part of `make test`) and reads its
answers back.

mediapipe never enters the tracker's venv: it brings opencv-contrib-python, a second cv2 that
would change the code under test. Video results are cached as .npz under
`cache_dir()/reference/`, keyed by the clip's sha256, the MediaPipe version and the settings, so
repeated test runs cost a file read instead of ~10 s.
"""

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posetrack.downloads.cache import cache_dir
from posetrack.downloads.fetch import sha256_of

REPO = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("mediapipe_worker.py")
REFERENCE_VERSION = "0.10.14"  # requirements/mediapipe.in pins it; part of the cache key
# Per landmark of a "video" result: x_px, y_px, z_px (MediaPipe's z, scaled by the image width
# like x), visibility (a probability: MediaPipe applied the sigmoid). Presence is left out: the
# solutions API of 0.10.14 leaves it 0 on every landmark.
LANDMARK_COLUMNS = ("x_px", "y_px", "z_px", "visibility")
WORLD_COLUMNS = ("x_m", "y_m", "z_m")  # metres, origin between the hips
_SETTINGS_TAG = "c1-nosmooth-v2"  # part of the cache key: change it when the worker's settings do
WORKER_TIMEOUT_S = 900  # guards against a hang only: the 230-frame clip takes ~15 s


def reference_python() -> Path:
    """The MediaPipe venv's interpreter (POSETRACK_MEDIAPIPE_PYTHON overrides); a clear failure,
    never a skip, when it is missing."""
    path = Path(os.environ.get("POSETRACK_MEDIAPIPE_PYTHON", REPO / ".venv-mediapipe/bin/python"))
    if not path.is_file():
        pytest.fail(
            f"MediaPipe's reference venv is missing ({path}): run `make reference` "
            "(`make test` builds it from requirements/mediapipe.txt)",
            pytrace=False,
        )
    return path


def run_worker(kind: str, out: Path, **request: Any) -> dict[str, Any]:
    """One request to the worker in a fresh process; its .npz result as a dict of arrays."""
    with tempfile.TemporaryDirectory(prefix="posetrack-mediapipe-") as tmp:
        request_file = Path(tmp) / "request.json"
        request_file.write_text(json.dumps({"kind": kind, "out": str(out), **request}))
        run = subprocess.run(
            [str(reference_python()), str(WORKER), str(request_file)],
            capture_output=True, text=True, timeout=WORKER_TIMEOUT_S,
        )  # fmt: skip
    assert run.returncode == 0, f"MediaPipe worker ({kind}) failed:\n{run.stderr[-3000:]}"
    with np.load(out) as data:
        return {name: data[name] for name in data.files}


def run_on_images(kind: str, images: dict[str, np.ndarray], **request: Any) -> dict[str, Any]:
    """A worker request over in-memory BGR images (passed to the worker as an .npz file)."""
    with tempfile.TemporaryDirectory(prefix="posetrack-mediapipe-") as tmp:
        np.savez(Path(tmp) / "images.npz", **images)
        return run_worker(kind, Path(tmp) / "out.npz", images=str(Path(tmp) / "images.npz"),
                          **request)  # fmt: skip


def reference_landmarks(video: Path) -> dict[str, Any]:
    """MediaPipe's landmarks for every frame of `video` (a clip or a single image).

    Returns a dict:
      - "landmarks": list, per frame, of None (no pose found) or a float32 (33, 4) array with
        columns LANDMARK_COLUMNS, in source pixels (origin top-left, y down);
      - "world": list, per frame, of None or a float32 (33, 3) array (WORLD_COLUMNS);
      - "width", "height": source size in pixels; "fps": the clip's frame rate (0 for images);
      - "mediapipe_version": the version that produced it.
    """
    video = Path(video)
    key = f"{sha256_of(video)[:16]}-mediapipe{REFERENCE_VERSION}-{_SETTINGS_TAG}"
    cached = cache_dir() / "reference" / f"{key}.npz"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.stem}.{os.getpid()}.part.npz")
        result = run_worker("video", partial, video=str(video))
        assert str(result["mediapipe_version"]) == REFERENCE_VERSION, "the venv's mediapipe moved"
        partial.replace(cached)  # atomic: a concurrent or interrupted run never sees half a file
    with np.load(cached) as data:
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
