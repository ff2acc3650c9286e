"""Two players: the identity stage keeps each person's player number on Pose2Sim's two-person
clips, and `posetrack-demo --players 2` drives one character per person (docs/two-players.md).
benchmarks/identity_switches.py prints the full table."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from game_process import run_game
from PIL import Image

from posetrack.components import PoseResult, TrackingConfig
from posetrack.downloads.samples import sample_path
from posetrack.scene import validate_scene
from posetrack.stages.identity import COAST_S, IdentityState, assign_players, body_of
from posetrack.stages.identity_metrics import switch_frames
from posetrack.systems.pose_tracking import PoseTrackingSystem

CLIPS = tuple(f"pose2sim-multi-cam0{i}.mp4" for i in range(1, 5))
BIN = Path(sys.executable).parent
DEMO_FRAMES = 300  # three times the 100-frame clip: the demo loops it
# Measured: 0 switches with the identity stage on the four clips (111 without it); one is
# allowed so that a model or decode change that moves a keypoint does not fail this test,
# while the stage failing at its job (tens of switches) still does.
MAX_SWITCHES = 1


def track(clip: str, identity: bool = True) -> list[PoseResult]:
    """MoveNet MultiPose with two poses per frame, as the demo runs it (identity on/off)."""
    config = TrackingConfig(model="movenet-multipose", device="cpu", preprocess="cpu",
                            decode="cpu", smoothing=False)  # fmt: skip
    tracker = PoseTrackingSystem(str(sample_path(clip)), config, max_poses=2)
    if not identity:
        tracker.identity = None
    try:
        return list(tracker.results())
    finally:
        tracker.close()


@pytest.fixture(scope="module")
def raw() -> dict[str, list[PoseResult]]:
    """The model's own order (best first) on each clip: what the identity stage starts from."""
    return {clip: track(clip, identity=False) for clip in CLIPS}


def with_identity(results: list[PoseResult]) -> list[PoseResult]:
    state = IdentityState(2)
    return [assign_players(state, result) for result in results]


def centre_x(result: PoseResult, player: int) -> float:
    pose = next(p for p in result.poses if p.player == player)
    return float(body_of(pose, result.keypoint_names).centre[0])


def test_identity_switches_stay_below_the_bound_and_the_raw_order_switches(raw: dict) -> None:
    raw_switches = sum(len(switch_frames(r)) for r in raw.values())
    kept = {clip: switch_frames(with_identity(r)) for clip, r in raw.items()}
    print(f"switches on {len(CLIPS)} clips: {raw_switches} raw, {kept} with the identity stage")
    assert raw_switches >= 20  # the criterion sees the model's order flipping (111 measured)
    assert sum(len(s) for s in kept.values()) <= MAX_SWITCHES


def test_the_pipeline_runs_the_identity_stage(raw: dict) -> None:
    """The tracker's own output (identity on by default for max_poses = 2) is the stage's."""
    clip = "pose2sim-multi-cam03.mp4"  # the man walks behind the woman: an occlusion
    piped = track(clip)
    offline = with_identity(raw[clip])
    assert len(piped) == len(offline) == 100
    for a, b in zip(piped, offline, strict=True):
        assert [p.player for p in a.poses] == [p.player for p in b.poses]
        for p, q in zip(a.poses, b.poses, strict=True):
            np.testing.assert_allclose(p.keypoints, q.keypoints)


def test_left_person_is_player_1_and_stays_so(raw: dict) -> None:
    for clip, results in raw.items():
        named = with_identity(results)
        first = next(r for r in named if len(r.poses) == 2)
        assert centre_x(first, 1) < centre_x(first, 2), clip
        # the people never swap sides in cam01, cam02 and cam04: player 1 stays on the left
        if clip != "pose2sim-multi-cam03.mp4":
            both = [r for r in named if len(r.poses) == 2]
            assert all(centre_x(r, 1) < centre_x(r, 2) for r in both), clip


def test_a_swapped_order_is_restored(raw: dict) -> None:
    """The same frames with the two poses given in the other order: the same players."""
    results = [r for r in raw["pose2sim-multi-cam01.mp4"] if len(r.poses) == 2]
    swapped = [replace(r, poses=r.poses[::-1]) if i % 3 == 0 else r
               for i, r in enumerate(results)]  # fmt: skip
    a, b = with_identity(results), with_identity(swapped)
    for x, y in zip(a, b, strict=True):
        assert [centre_x(x, n) for n in (1, 2)] == [centre_x(y, n) for n in (1, 2)]


def test_a_person_out_of_view_for_half_a_second_keeps_their_number(raw: dict) -> None:
    """Player 1 taken out of frames 30-59 (0.5 s at 60 fps): back as player 1 at frame 60;
    out for longer than COAST_S: the slot was freed, and the person takes the lowest free one
    (again 1, player 2 never lost theirs)."""
    named = with_identity(raw["pose2sim-multi-cam01.mp4"])
    left = {r.frame: centre_x(r, 1) for r in named if len(r.poses) == 2}

    def hide(results: list[PoseResult], frames: range) -> list[PoseResult]:
        out = []
        for r in results:
            if r.frame in frames:
                keep = [p for p in r.poses if abs(body_of(p, r.keypoint_names).centre[0]
                                                  - left.get(r.frame, -1e9)) > 1]  # fmt: skip
                r = replace(r, poses=keep)
            out.append(r)
        return out

    plain = [replace(r, poses=[replace(p, player=None) for p in r.poses]) for r in named]
    back = with_identity(hide(plain, range(30, 60)))
    assert [p.player for p in back[45].poses] == [2]  # while hidden: player 2 alone
    assert centre_x(back[60], 1) == left[60] and len(back[60].poses) == 2
    assert COAST_S < 1.5  # the next case hides for 1.5 s: longer than the slot is kept
    long_results = [replace(r, time=r.time * 3) for r in plain]  # 100 frames over 5 s
    gone = with_identity(hide(long_results, range(30, 60)))
    assert centre_x(gone[60], 1) == left[60]  # a freed slot 1 is the lowest free one
    assert [p.player for p in gone[61].poses] == [1, 2]


# -- the demo --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    shot = tmp_path_factory.mktemp("two") / "two.png"
    env = {**os.environ, "EGL_PLATFORM": os.environ.get("EGL_PLATFORM", "surfaceless")}
    proc = run_game(
        [sys.executable, "-m", "posetrack.game", "--players", "2", "--offscreen", "--frames",
         str(DEMO_FRAMES), "--source", "sample:pose2sim-multi-cam01.mp4", "--press", "p",
         "--screenshot", str(shot)], env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {"summary": lines[-1], "shot": shot, "stdout": proc.stdout}


def test_demo_with_two_players_drives_both_characters(demo_run: dict) -> None:
    summary = demo_run["summary"]
    assert summary["type"] == "summary" and summary["frames"] == DEMO_FRAMES
    assert summary["model"] == "movenet-multipose"  # picked for two players
    assert "movenet-multipose" in summary["hud"]["notice"]
    one, two = summary["players"]
    assert (one["player"], two["player"]) == (1, 2)
    for player in (one, two):
        assert player["frames"] == DEMO_FRAMES
        # both people are seen on (nearly) every frame of this clip, loops included
        assert player["tracked_frames"] >= 0.9 * DEMO_FRAMES, player
        # the joints moved: a different pose on most frames, over a range of angles
        assert player["distinct_poses"] >= 0.5 * DEMO_FRAMES, player
        assert player["rotation_deg_max"] - player["rotation_deg_min"] > 10.0, player
    # each has a score of their own on the HUD (mirrored: player 2 on the left)
    assert summary["hud"]["score"].split() == ["P2", str(two["score"]), "P1", str(one["score"])]


def test_demo_screenshot_shows_two_characters(demo_run: dict) -> None:
    image = np.asarray(Image.open(demo_run["shot"]).convert("RGB")).astype(np.int32)
    assert image.shape == (720, 1280, 3)
    # the mannequins' blue shirts: one body on each half of the picture
    shirt = (image[..., 2] > 150) & (image[..., 0] < 90) & (image[..., 2] - image[..., 1] > 60)
    left, right = shirt[:, :640].sum(), shirt[:, 640:].sum()
    assert left > 2000 and right > 2000, (left, right)


# -- settings --------------------------------------------------------------------------
SCENE = """\
[[entity]]
name = "game"
[entity.rules]
players = {players}
"""


def test_a_scene_with_two_players_validates_and_three_does_not(tmp_path: Path) -> None:
    two, three = tmp_path / "two.toml", tmp_path / "three.toml"
    two.write_text(SCENE.format(players=2))
    three.write_text(SCENE.format(players=3))
    assert validate_scene(two) == []
    (problem,) = validate_scene(three)
    assert problem.path == "entity[0].rules.players" and problem.line == 4, problem


def run_demo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EGL_PLATFORM="surfaceless")
    command = [str(BIN / "posetrack-demo"), "--offscreen", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_a_scene_with_two_players_starts_the_demo_with_two(tmp_path: Path) -> None:
    scene = tmp_path / "two.toml"
    scene.write_text(SCENE.format(players=2))
    result = run_demo("--frames", "3", "--scene", str(scene), "--source",
                      "sample:pose2sim-multi-cam01.mp4", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["model"] == "movenet-multipose"
    assert [p["player"] for p in summary["players"]] == [1, 2]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--players", "0"), ("--players", "1 to 2")),
        (("--players", "3"), ("--players", "1 to 2")),
        (("--players", "two"), ("--players",)),
        (("--players", "2", "--model", "blazepose-full"), ("multi-person", "blazepose-full")),
    ],
)
def test_bad_player_options_are_one_clear_line(args: tuple, words: tuple, tmp_path: Path):
    result = run_demo("--frames", "2", *args, cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]
