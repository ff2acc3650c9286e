"""The tracked pose drives the real mannequin Actor: `posetrack track --character mannequin`.

The clip (Sports2D, 230 frames, BlazePose full, CPU) is tracked once per session through the
command a user runs; the character's joint positions in the stream are read back from the
Actor's joints after controlJoint (posetrack.cli.characters), and its limbs must point where
the tracked world-landmark limbs point.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import esper
import numpy as np
import pytest

from posetrack.characters import SpriteCharacter, build_mannequin, skeleton_from_actor
from posetrack.components import PoseEstimate, PoseResult
from posetrack.components.character import CharacterBinding, FilteredPose, JointTargets
from posetrack.retarget import RetargetConfig, quat
from posetrack.retarget.metrics import stream_limb_errors
from posetrack.systems.animate import AnimateSystem
from posetrack.systems.filter import FilterSystem
from posetrack.systems.retarget import RetargetSystem

VISIBLE = 0.5  # MediaPipe's own threshold for a visible landmark
MAX_MEDIAN_LIMB_DEG = 8.0
CLI_TIMEOUT_S = 900  # guards against a hang only
SPRITE_LIMBS = {"UpperArm": ("shoulder", "elbow"), "LowerArm": ("elbow", "wrist"),
                "UpperLeg": ("hip", "knee"), "LowerLeg": ("knee", "ankle")}  # fmt: skip


def _track(source: Path, out: Path, *extra: str) -> list[dict[str, Any]]:
    script = Path(sys.executable).with_name("posetrack")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "posetrack"]
    done = subprocess.run([*command, "track", str(source), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.fixture(scope="session")
def character_stream(sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> list:
    """The clip's JSONL with the mannequin driven (mirrored, smoothing on), once a session,
    from the world landmarks as they are (--no-bone-depth: the copy is what is checked here;
    tests/test_depth_from_bones.py checks the bone-depth limbs against calibrated 3D)."""
    return _track(sports2d_clip, tmp_path_factory.mktemp("char") / "clip.jsonl",
                  "--character", "mannequin", "--no-bone-depth")  # fmt: skip


def _limb_errors(lines: list[dict[str, Any]]) -> dict[str, list[float]]:
    return stream_limb_errors(lines, VISIBLE)


def test_character_limbs_follow_the_tracked_limbs(character_stream: list) -> None:
    header, frames = character_stream[0], character_stream[1:-1]
    assert header["character"] == {"name": "mannequin", "mirror": True}
    assert header["smoothing"]["filter"] == "one_euro"
    posed = [f for f in frames if f["poses"]]
    assert len(posed) > 200 and all("character" in f["poses"][0] for f in posed)
    errors = _limb_errors(character_stream)
    for limb, values in errors.items():
        assert len(values) > 50, f"{limb}: visible on only {len(values)} frames"
        median = float(np.median(values))
        print(f"{limb}: median {median:.2f} deg over {len(values)} frames")
        assert median <= MAX_MEDIAN_LIMB_DEG, f"{limb}: median {median:.1f} deg"


def test_unmirrored_character_follows_too(sports2d_clip: Path, tmp_path: Path) -> None:
    lines = _track(sports2d_clip, tmp_path / "nm.jsonl", "--character", "mannequin",
                   "--no-mirror", "--max-frames", "60", "--no-smooth",
                   "--no-bone-depth")  # fmt: skip
    assert lines[0]["character"]["mirror"] is False and lines[0]["smoothing"] is False
    for limb, values in _limb_errors(lines).items():
        if values:
            assert np.median(values) <= MAX_MEDIAN_LIMB_DEG, limb


def _poses(stream: list) -> list[PoseResult]:
    names = tuple(stream[0]["keypoints"])
    out = []
    for line in stream[1:-1]:
        poses = [PoseEstimate(np.array(p["keypoints"]), p["score"], np.array(p["world"]))
                 for p in line["poses"]]  # fmt: skip
        out.append(PoseResult(line["frame"], line["time"], names, poses))
    return out


@pytest.fixture
def world() -> Any:
    esper.switch_world("test-character-driving")
    yield
    esper.switch_world("default")
    esper.delete_world("test-character-driving")


def test_actor_joints_take_the_solved_rotations(character_stream: list, world: Any) -> None:
    """controlJoint rotations, relative to each joint's rig parent (a shoulder for an upper
    arm), put every joint at the solver's world rotation, frame after frame."""
    actor = build_mannequin()
    skeleton = skeleton_from_actor(actor)
    tracker = esper.create_entity()
    character = esper.create_entity(
        CharacterBinding(tracker, RetargetConfig(), actor, skeleton, response_s=0.0)
    )
    systems = [FilterSystem(), RetargetSystem(), AnimateSystem(clock=lambda: 1 / 30)]
    exposed = {b: actor.exposeJoint(None, "modelRoot", j) for b, j in skeleton.joint_of.items()}
    worst = 0.0
    for result in _poses(character_stream)[100:130]:
        esper.add_component(tracker, result)
        for system in systems:
            system.process()
        actor.update(force=True)
        targets = esper.component_for_entity(character, JointTargets)
        assert targets.observed >= {"leftUpperArm", "rightLowerLeg"}
        for bone, node in exposed.items():
            q = node.get_quat(actor)
            got = np.array([q.get_r(), q.get_i(), q.get_j(), q.get_k()])
            local = targets.local_quats[bone]
            assert np.isfinite(local).all()
            want = _world_from_rig_locals(skeleton, targets.local_quats, bone)
            worst = max(worst, quat.angle(quat.mul(quat.inverse(want), got)))
    assert np.degrees(worst) < 0.1
    actor.cleanup()


def _world_from_rig_locals(skeleton: Any, local: dict, bone: str) -> np.ndarray:
    parent = skeleton.parents[bone]
    if parent is None:
        return quat.mul(skeleton.rig_parent_quats[bone], local[bone])
    return quat.mul(_world_from_rig_locals(skeleton, local, parent), local[bone])


def test_animate_eases_toward_targets_at_any_render_rate(world: Any) -> None:
    """The slerp step is 1 - exp(-dt / tau): two 120 Hz frames move as far as one 60 Hz one."""
    finals = []
    for dt, steps in ((1 / 60, 3), (1 / 120, 6)):
        actor = build_mannequin()
        skeleton = skeleton_from_actor(actor)
        binding = CharacterBinding(0, RetargetConfig(), actor, skeleton, response_s=0.05)
        turn = quat.from_axis_angle([1, 0, 0], 1.0)
        rest = skeleton.rest_world_quats["leftLowerArm"]
        target = quat.mul(quat.inverse(skeleton.rest_world_quats["leftUpperArm"]),
                          quat.mul(turn, rest))  # fmt: skip
        ent = esper.create_entity(binding, JointTargets(0, 0.0, {"leftLowerArm": target}))
        animate = AnimateSystem(clock=lambda dt=dt: dt)
        gaps = []
        for _ in range(steps):
            animate.process()
            q = animate._joints[ent]["leftLowerArm"].get_quat()
            now = np.array([q.get_r(), q.get_i(), q.get_j(), q.get_k()])
            gaps.append(quat.angle(quat.mul(quat.inverse(target), now)))
        assert all(b < a for a, b in zip(gaps, gaps[1:], strict=False))  # eases, never jumps
        finals.append(gaps[-1])
        esper.delete_entity(ent, immediate=True)
        actor.cleanup()
    expected = 1.0 * np.exp(-3 * (1 / 60) / 0.05)  # the gap left after 50 ms of easing
    np.testing.assert_allclose(finals, expected, rtol=0.02)


def test_sprite_bones_point_along_the_image_limbs(character_stream: list, world: Any) -> None:
    sprite = SpriteCharacter()
    tracker = esper.create_entity()
    config = RetargetConfig(mirror=False)
    esper.create_entity(CharacterBinding(tracker, config, sprite=sprite, response_s=0.0))
    systems = [FilterSystem(), RetargetSystem(), AnimateSystem(clock=lambda: 1 / 30)]
    result = _poses(character_stream)[120]
    esper.add_component(tracker, result)
    for system in systems:
        system.process()
    pose = esper.component_for_entity(tracker, FilteredPose).pose
    observed = esper.get_component(JointTargets)[0][1].observed
    ix = {n: i for i, n in enumerate(result.keypoint_names)}
    checked = 0
    for side in ("left", "right"):
        for part, (a, b) in SPRITE_LIMBS.items():
            if f"{side}{part}" not in observed:
                continue
            dx, dy = pose.keypoints[ix[f"{side}_{b}"], :2] - pose.keypoints[ix[f"{side}_{a}"], :2]
            want = np.degrees(np.arctan2(-dy, dx))  # image y runs down, sprite angles up
            gap = (sprite.angle(f"{side}{part}") - want + 180.0) % 360.0 - 180.0
            assert abs(gap) < 1e-3, f"{side}{part}"
            checked += 1
    assert checked >= 6
    sprite.close()


def test_characters_of_one_tracker_share_its_bone_depth_solve(
    character_stream: list, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bone lengths are the person's: two characters driven by one tracker get the same
    re-solved limbs, solved once per pose (not once per character)."""
    from posetrack.retarget.depth import BoneDepth

    solves = []
    real = BoneDepth.__call__
    monkeypatch.setattr(BoneDepth, "__call__", lambda self, *a: solves.append(1) or real(self, *a))
    tracker = esper.create_entity()
    actors, characters = _mannequins(tracker, 2)
    systems = [FilterSystem(), RetargetSystem()]
    poses = _poses(character_stream)[100:110]
    for result in poses:
        esper.add_component(tracker, result)
        for system in systems:
            system.process()
        first, second = (esper.component_for_entity(c, JointTargets) for c in characters)
        for bone, local in first.local_quats.items():
            np.testing.assert_allclose(second.local_quats[bone], local, atol=1e-12)
    assert len(solves) == len(poses)
    for actor in actors:
        actor.cleanup()


def test_a_frame_budget_spreads_the_characters_over_frames_and_starves_none(
    character_stream: list, world: Any
) -> None:
    """In a game the retarget stage stops solving once its frame share is spent (budget 0:
    one character a call); the others are solved first on the next calls, so with a new pose
    every call each character still gets one every len(characters) calls."""
    tracker = esper.create_entity()
    actors, characters = _mannequins(tracker, 3)
    poses = _poses(character_stream)[100:109]
    filter_stage, retarget = FilterSystem(), RetargetSystem(budget_ms=0.0)
    solved_at: dict[int, list[int]] = {c: [] for c in characters}
    for call, result in enumerate(poses):
        esper.add_component(tracker, result)
        filter_stage.process()
        before = {c: esper.try_component(c, JointTargets) for c in characters}
        retarget.process()
        fresh = [c for c in characters if esper.try_component(c, JointTargets) is not before[c]]
        assert len(fresh) == 1, call  # one solve per call: the budget is spent after it
        solved_at[fresh[0]].append(call)
    for calls in solved_at.values():  # every character, at most 3 calls apart, none starved
        assert calls and max(b - a for a, b in zip([-1, *calls], calls, strict=False)) <= 3
    for actor in actors:
        actor.cleanup()


def _mannequins(tracker: int, count: int) -> tuple[list[Any], list[int]]:
    """`count` mannequins bound to one tracker, snapping to their targets."""
    actors = [build_mannequin() for _ in range(count)]
    characters = [
        esper.create_entity(CharacterBinding(tracker, RetargetConfig(), actor,
                                             skeleton_from_actor(actor), response_s=0.0))
        for actor in actors
    ]  # fmt: skip
    return actors, characters
