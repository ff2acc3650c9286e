"""The demo game: headless run on the real clip (pose changes, picture not blank, HUD and PiP
present), and its rules (touches, scoring, timer) on synthetic joint positions."""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from game_process import run_game
from PIL import Image

from posetrack.game.hud import HudData, perf_lines
from posetrack.game.keys import KEYS, help_text
from posetrack.game.targets import FEET, HANDS, Reach, Rules, Target, TargetGame

FRAMES = 60  # two seconds of the clip: the person moves their arms and starts to jump

# Rest positions like the mannequin's (metres, Z up, left on +X).
REST = {
    "leftUpperArm": np.array([0.18, 0.0, 1.45]), "rightUpperArm": np.array([-0.18, 0.0, 1.45]),
    "leftHand": np.array([0.53, 0.0, 1.03]), "rightHand": np.array([-0.53, 0.0, 1.03]),
    "leftUpperLeg": np.array([0.09, 0.0, 0.94]), "rightUpperLeg": np.array([-0.09, 0.0, 0.94]),
    "leftFoot": np.array([0.09, 0.0, 0.08]), "rightFoot": np.array([-0.09, 0.0, 0.08]),
}  # fmt: skip


@pytest.fixture(scope="module")
def headless_run(tmp_path_factory: pytest.TempPathFactory, sports2d_clip: Path) -> dict:
    """One headless run of the game on the clip: its JSON lines and screenshot."""
    shot = tmp_path_factory.mktemp("demo") / "demo.png"
    env = {**os.environ, "EGL_PLATFORM": os.environ.get("EGL_PLATFORM", "surfaceless")}
    proc = run_game(
        [sys.executable, "-m", "posetrack.game", "--offscreen", "--frames", str(FRAMES),
         "--source", "sample:sports2d-demo.mp4", "--screenshot", str(shot)], env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {"lines": lines, "shot": shot, "stderr": proc.stderr}


def test_headless_run_drives_the_character(headless_run: dict) -> None:
    ticks = [line for line in headless_run["lines"] if line["type"] == "tick"]
    summary = headless_run["lines"][-1]
    assert summary["type"] == "summary" and summary["frames"] == FRAMES
    assert len(ticks) == FRAMES // 30
    # the pose changes between frames: each frame's joint rotations differ (the clip moves)
    assert len({t["digest"] for t in ticks}) == len(ticks)
    assert summary["distinct_poses"] >= FRAMES * 0.9
    assert summary["rotation_deg_max"] - summary["rotation_deg_min"] > 20.0
    assert summary["tracked_frames"] >= FRAMES * 0.9, summary
    assert summary["state"] == "tracking"
    assert summary["latency_ms_median"] is not None


def test_headless_screenshot_is_not_blank(headless_run: dict) -> None:
    image = np.asarray(Image.open(headless_run["shot"]).convert("RGB"))
    assert image.shape == (720, 1280, 3)
    assert image.std() > 20.0  # a blank or one-colour frame has ~0
    colours = np.unique((image // 32).reshape(-1, 3), axis=0)
    assert len(colours) >= 30  # sky, floor, skin, shirt, HUD, camera picture ...
    # the camera picture-in-picture (top right) shows the clip: far busier than the sky
    pip = image[30:140, 1045:1255]
    sky = image[200:300, 900:1000]
    assert pip.std() > 3 * sky.std() + 10


def test_headless_hud_and_pip_present(headless_run: dict) -> None:
    summary = headless_run["lines"][-1]
    assert summary["pip_frames"] >= FRAMES - 1
    hud = summary["hud"]
    assert "fps" in hud["perf"] and "inference" in hud["perf"] and "latency" in hud["perf"]
    assert "model blazepose-" in hud["perf"] and "(auto " in hud["perf"]  # model auto: the pick
    assert hud["score"] == str(summary["score"])
    assert "touched" in hud["clock"]


# -- the rules -----------------------------------------------------------------------------
def _game(**rules: float) -> TargetGame:
    return TargetGame(Reach.from_positions(REST), Rules(**rules), seed=3)


def test_targets_spawn_within_reach() -> None:
    game = _game(max_targets=50, spawn_every_s=0.01, lifetime_s=100.0, round_s=100.0)
    game.start(0.0)
    game.update(0.3, {})
    targets = game.state.targets
    assert len(targets) == 30
    reach = game.reach
    for t in targets:
        if t.effectors == HANDS:
            shoulder = min((reach.left_shoulder, reach.right_shoulder),
                           key=lambda s: np.linalg.norm(t.position - s))  # fmt: skip
            assert np.linalg.norm(t.position - shoulder) <= reach.arm_length
        else:
            assert t.effectors == FEET and t.position[2] < 0.94
    assert {t.kind for t in targets} == {"hand", "foot"}


def test_touch_needs_the_right_limb_within_the_radius() -> None:
    game = _game(radius=0.1)
    game.start(0.0)
    hand = Target(1, np.array([0.6, 0.0, 1.6]), HANDS, 0.0, 5.0)
    foot = Target(2, np.array([0.4, 0.0, 0.3]), FEET, 0.0, 5.0)
    game.state.targets = [hand, foot]
    game._next_spawn = 99.0  # no new targets in this test
    # a foot on the hand target, a hand just outside the foot target's radius: nothing
    assert game.update(1.0, {"left_foot": hand.position, "right_hand": foot.position + 0.11}) == []
    # depth is ignored (frontal plane): a hand 0.5 m in front of the target still touches
    touches = game.update(4.0, {"right_hand": hand.position + [0.05, -0.5, 0.05]})
    assert [(t.target.id, t.effector) for t in touches] == [(1, "right_hand")]
    assert game.state.targets == [foot] and game.state.touches == 1


def test_scoring_rewards_quick_touches_and_counts_misses() -> None:
    game = _game(points=10, quick_bonus=5, lifetime_s=3.0)
    game.start(0.0)
    game._next_spawn = 99.0
    quick = Target(1, np.array([0.6, 0.0, 1.6]), HANDS, 0.0, 3.0)
    slow = Target(2, np.array([-0.6, 0.0, 1.6]), HANDS, 0.0, 3.0)
    lost = Target(3, np.array([0.4, 0.0, 0.3]), FEET, 0.0, 3.0)
    game.state.targets = [quick, slow, lost]
    game.update(0.5, {"left_hand": quick.position})  # within the first third: 15
    game.update(2.5, {"right_hand": slow.position})  # late: 10
    game.update(3.0, {})  # the foot target expires untouched
    assert game.state.score == 25 and game.state.touches == 2 and game.state.misses == 1
    assert game.state.targets == []


def test_round_ends_on_time_and_restarts_the_same() -> None:
    game = _game(round_s=10.0, spawn_every_s=1.0)
    game.start(100.0)
    first = []
    for step in range(0, 121):
        game.update(100.0 + step * 0.1, {})
        if step == 5:
            first = [t.position.copy() for t in game.state.targets]
    assert game.state.over and game.time_left(111.0) == 0.0 and game.state.targets == []
    assert game.update(112.0, {"left_hand": np.zeros(3)}) == []  # over: nothing counts
    game.start(200.0)
    assert not game.state.over and game.time_left(200.0) == 10.0 and game.state.score == 0
    game.update(200.5, {})
    assert [t.position.tolist() for t in game.state.targets] == [p.tolist() for p in first]


def test_help_lists_every_key_and_perf_panel_reads() -> None:
    text = help_text()
    for key in KEYS:
        assert key.help in text
    lines = perf_lines(HudData(fps=59.7, stages_ms={"inference": 11.0, "decode": 0.4},
                               latency_ms=41.0, confidence=0.97, model="posenet"))  # fmt: skip
    joined = "\n".join(lines)
    assert "59.7 fps" in joined and "posenet" in joined and "41 ms" in joined
    assert "inference" in joined and "0.97" in joined


def test_a_model_that_cannot_load_degrades_instead_of_crashing(tmp_path: Path) -> None:
    shot = tmp_path / "lost.png"
    proc = run_game(
        [sys.executable, "-m", "posetrack.game", "--offscreen", "--frames", "5", "--model",
         "no-such-model", "--source", "sample:sports2d-demo.mp4", "--screenshot", str(shot)],
        env={**os.environ, "EGL_PLATFORM": os.environ.get("EGL_PLATFORM", "surfaceless")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["state"] == "lost" and summary["tracked_frames"] == 0
    assert summary["hud"]["message"].startswith("tracking lost: unknown model 'no-such-model'")
    assert summary["rotation_deg_max"] < 1.0  # the character stays at rest
    assert shot.is_file()
