"""`posetrack track`, run as a user runs it, writes the documented stream and agrees with MediaPipe.

The command runs in a subprocess on real footage (the Sports2D clip, OpenCV's messi5.jpg); the
JSONL it writes is checked against the contract in README.md, then compared keypoint by keypoint
(matched by name) with MediaPipe's own pipeline on the same frames, same weights.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from mediapipe_reference import reference_landmarks  # tests/ is on sys.path under pytest

from posetrack.models.skeletons import BLAZEPOSE_33

SPORTS2D_FRAMES = 230  # the clip's frame count (1768x994, 30 fps)
VISIBLE = 0.5  # MediaPipe's own threshold for drawing a landmark as visible
MAX_MEDIAN_TORSO_ERROR = 0.03  # same weights: agreement within a few percent of torso length
MIN_COVERAGE = 0.95  # share of MediaPipe's pose frames where we must find a pose too
HEADER_KEYS = {"type", "model", "keypoints", "width", "height", "fps", "backends"}
CLI_TIMEOUT_S = 900  # guards against a hang only; 230 frames take far less on 2 cores


def run_track(source: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`posetrack track SOURCE ...` through the installed console script, as a user runs it."""
    script = Path(sys.executable).with_name("posetrack")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "posetrack"]
    result = subprocess.run(
        [*command, "track", str(source), *extra],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )
    assert result.returncode == 0, f"posetrack track failed:\n{result.stderr[-3000:]}"
    return result


def read_stream(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(header, frame lines, summary) of a JSONL pose stream, checking the line types' order."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(lines) >= 2, f"{path} holds {len(lines)} lines"
    header, *frames, summary = lines
    assert header["type"] == "header"
    assert summary["type"] == "summary"
    assert all(line["type"] == "frame" for line in frames)
    return header, frames, summary


def best_pose(frame: dict[str, Any]) -> np.ndarray | None:
    """(K, 3) keypoints [x_px, y_px, confidence] of the highest-scoring pose, or None."""
    if not frame["poses"]:
        return None
    pose = max(frame["poses"], key=lambda p: p["score"])
    return np.asarray(pose["keypoints"], dtype=np.float64)


@pytest.fixture(scope="module")
def sports2d_stream(
    sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    out = tmp_path_factory.mktemp("track") / "sports2d.jsonl"
    # MediaPipe's model_complexity=1 is blazepose-full: named, not left to --model auto
    run_track(sports2d_clip, "--no-smooth", "--model", "blazepose-full", "--out", str(out))
    return read_stream(out)


def test_track_stream_follows_the_jsonl_contract(
    sports2d_stream: tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]],
) -> None:
    header, frames, summary = sports2d_stream
    assert HEADER_KEYS <= header.keys(), f"header lacks {HEADER_KEYS - header.keys()}"
    assert header["keypoints"] == list(BLAZEPOSE_33)
    assert (header["width"], header["height"]) == (1768, 994)
    assert header["fps"] == pytest.approx(30, abs=0.01)
    assert isinstance(header["backends"], dict) and header["backends"]

    assert len(frames) == SPORTS2D_FRAMES
    assert [f["frame"] for f in frames] == list(range(SPORTS2D_FRAMES))
    times = [f["time"] for f in frames]
    assert times == sorted(times) and times[-1] == pytest.approx(229 / 30, abs=0.05)
    for frame in frames:
        for pose in frame["poses"]:
            assert 0 <= pose["score"] <= 1
            assert np.asarray(pose["keypoints"]).shape == (33, 3)
            assert pose["world"] is None or np.asarray(pose["world"]).shape == (33, 3)

    assert summary["frames"] == SPORTS2D_FRAMES
    assert summary["fps"] > 0
    assert summary["stages_ms"] and all(ms >= 0 for ms in summary["stages_ms"].values())


def test_track_agrees_with_mediapipe_within_three_percent_of_torso_length(
    sports2d_clip: Path,
    sports2d_stream: tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    header, frames, _ = sports2d_stream
    reference = reference_landmarks(sports2d_clip)
    assert len(reference["landmarks"]) == len(frames)
    ours_index = [header["keypoints"].index(name) for name in BLAZEPOSE_33]  # match by name
    left_sh, right_sh, left_hip, right_hip = (
        BLAZEPOSE_33.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    )

    errors: list[np.ndarray] = []
    with_reference = both = 0
    for frame, ref in zip(frames, reference["landmarks"], strict=True):
        if ref is None:
            continue
        with_reference += 1
        ours = best_pose(frame)
        if ours is None:
            continue
        both += 1
        shoulder_mid = (ref[left_sh, :2] + ref[right_sh, :2]) / 2
        hip_mid = (ref[left_hip, :2] + ref[right_hip, :2]) / 2
        torso = np.linalg.norm(shoulder_mid - hip_mid)
        visible = ref[:, 3] >= VISIBLE
        distance = np.linalg.norm(ours[ours_index, :2] - ref[:, :2], axis=1)
        errors.append(distance[visible] / torso)

    coverage = both / with_reference
    error = np.concatenate(errors) if errors else np.array([np.inf])
    median, p90 = np.median(error), np.percentile(error, 90)
    with capsys.disabled():
        print(
            f"\nSports2D vs MediaPipe {reference['mediapipe_version']}: "
            f"median error {median:.4f} torso, p90 {p90:.4f}, max {error.max():.4f} "
            f"({error.size} visible keypoints); pose on {both}/{with_reference} of MediaPipe's "
            f"frames (coverage {coverage:.3f})"
        )
    assert coverage >= MIN_COVERAGE
    assert median <= MAX_MEDIAN_TORSO_ERROR


def test_track_image_writes_overlay_png_and_one_pose(messi_image: Path, tmp_path: Path) -> None:
    out, overlay = tmp_path / "messi.jsonl", tmp_path / "messi.png"
    run_track(messi_image, "--no-smooth", "--out", str(out), "--overlay", str(overlay))

    header, frames, summary = read_stream(out)
    assert (header["width"], header["height"]) == (548, 342)
    assert len(frames) == 1 and summary["frames"] == 1
    assert len(frames[0]["poses"]) == 1
    drawn = cv2.imread(str(overlay))
    assert drawn is not None, f"{overlay} is not a readable image"
    assert drawn.shape == (342, 548, 3)
    original = cv2.imread(str(messi_image))
    assert np.any(drawn != original), "the overlay draws nothing on the image"
