"""The VMC stream received by a real OSC server (python-osc's ThreadingOSCUDPServer on loopback):
one bundle per pose frame, Unity HumanBodyBones names, and rotations that pose a Unity humanoid
the way the character was posed (real clip, real model, real Panda3D Actor).

Unity axes in these checks: left-handed, +X right, +Y up, +Z forward; a humanoid avatar faces
+Z with its left on -X and, at identity rotations, stands in the VRM T-pose.
"""

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import esper
import numpy as np
import pytest
from clips import cut_clip  # tests/ is on sys.path under pytest
from panda3d.core import load_prc_file_data, unload_prc_file
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_packet import OscPacket
from pythonosc.osc_server import ThreadingOSCUDPServer

import posetrack
from posetrack.characters.mannequin import build_mannequin
from posetrack.characters.skeleton import PRIMARY_CHILD, skeleton_from_actor
from posetrack.components.character import CharacterBinding
from posetrack.errors import PosetrackError
from posetrack.plugin.config import from_prc
from posetrack.retarget.limbs import KEYPOINT_JOINTS, mirror_name

BIN = Path(sys.executable).parent
TIMEOUT_S = 300  # guards a hang only
ARRIVAL_S = 10.0  # how long to wait for datagrams already sent to be handled (a deadline only)
CLI_FRAMES = 36  # the clip's first frames: nobody in full view at first, then the jumper
PLUGIN_FRAMES = 6
# 1 mm: the JSONL rounds positions to 0.1 mm and OSC carries float32 (~1e-7 m at 1 m); chained
# over the 5 bones from the hips to a wrist that stays far below a millimetre
POSITION_TOLERANCE_M = 1e-3
# unit vectors compared to 1e-3 (0.06 degrees): float32 OSC values and Panda3D's float32 joint
# matrices err by ~1e-6 per bone; 1e-3 still catches any axis or sign mistake (those are ~1)
DIRECTION_TOLERANCE = 1e-3

# Unity's HumanBodyBones enum (LastBone excluded): the names a receiver can parse
HUMAN_BODY_BONES = (
    "Hips", "LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot",
    "RightFoot", "Spine", "Chest", "Neck", "Head", "LeftShoulder", "RightShoulder",
    "LeftUpperArm", "RightUpperArm", "LeftLowerArm", "RightLowerArm", "LeftHand", "RightHand",
    "LeftToes", "RightToes", "LeftEye", "RightEye", "Jaw",
    *(f"{side}{finger}{part}" for side in ("Left", "Right")
      for finger in ("Thumb", "Index", "Middle", "Ring", "Little")
      for part in ("Proximal", "Intermediate", "Distal")),
    "UpperChest",
)  # fmt: skip
# Unity's humanoid hierarchy: each bone's parent (a missing one: the next one up)
UNITY_PARENT = {
    "Spine": "Hips", "Chest": "Spine", "UpperChest": "Chest", "Neck": "UpperChest",
    "Head": "Neck",
    **{f"{s}UpperLeg": "Hips" for s in ("Left", "Right")},
    **{f"{s}Shoulder": "UpperChest" for s in ("Left", "Right")},
    **{f"{s}{b}": f"{s}{p}" for s in ("Left", "Right") for b, p in (
        ("LowerLeg", "UpperLeg"), ("Foot", "LowerLeg"), ("Toes", "Foot"),
        ("UpperArm", "Shoulder"), ("LowerArm", "UpperArm"), ("Hand", "LowerArm"))},
}  # fmt: skip
MANNEQUIN_BONES = {  # Unity names of the mannequin's bones (it has shoulders and toes)
    "Hips", "Spine", "Chest", "Neck", "Head",
    *(f"{s}{b}" for s in ("Left", "Right") for b in ("Shoulder", "UpperArm", "LowerArm", "Hand",
                                                       "UpperLeg", "LowerLeg", "Foot", "Toes")),
}  # fmt: skip
# The VRM T-pose in Unity axes: where each bone points when its rotation is the identity
T_POSE_UNITY = {
    **dict.fromkeys(("Hips", "Spine", "Chest", "UpperChest", "Neck", "Head"), (0, 1, 0)),
    **{f"Left{b}": (-1, 0, 0) for b in ("Shoulder", "UpperArm", "LowerArm", "Hand")},
    **{f"Right{b}": (1, 0, 0) for b in ("Shoulder", "UpperArm", "LowerArm", "Hand")},
    **{f"{s}{b}": (0, -1, 0) for s in ("Left", "Right") for b in ("UpperLeg", "LowerLeg")},
}  # fmt: skip
# The character frame (Panda3D: Z up, facing -Y, left +X) -> Unity: up stays up (Z -> Y),
# forward stays forward (-Y -> +Z), the avatar's left stays its left (+X -> -X)
PANDA_TO_UNITY = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


class BundleRecorder(Dispatcher):
    """Keeps every datagram the server gets as one list of (address, arguments), in a thread-
    safe list: the threading server handles each datagram on a thread of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.packets: list[tuple[bool, list[tuple[str, tuple]]]] = []

    def call_handlers_for_packet(self, data: bytes, client_address: tuple[str, int]) -> list:
        packet = OscPacket(data)
        messages = [(m.message.address, tuple(m.message.params)) for m in packet.messages]
        with self.lock:
            self.packets.append((OscBundle.dgram_is_bundle(data), messages))
        return []

    def wait_for(self, count: int) -> list[list[tuple[str, tuple]]]:
        """The bundles, once `count` have come (or the deadline passed: the caller checks)."""
        deadline = time.monotonic() + ARRIVAL_S
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.packets) >= count:
                    break
            time.sleep(0.01)
        time.sleep(0.1)  # a datagram beyond `count` would show up now
        with self.lock:
            assert all(is_bundle for is_bundle, _ in self.packets)
            return [messages for _, messages in self.packets]


@pytest.fixture
def receiver() -> Iterator[tuple[BundleRecorder, int]]:
    """A VMC receiver on a free loopback port: the recorder and the port."""
    recorder = BundleRecorder()
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def short_clip(sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 100-105 of the Sports2D clip at half size: the person in full view."""
    return cut_clip(sports2d_clip, tmp_path_factory.mktemp("vmc") / "short.mp4", 100, 6, 2)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EGL_PLATFORM="surfaceless")
    return subprocess.run([str(BIN / "posetrack"), *args], capture_output=True, text=True,
                          cwd=cwd, timeout=TIMEOUT_S, env=env)  # fmt: skip


def unpack(bundle: list[tuple[str, tuple]]) -> tuple[dict, dict[str, tuple]]:
    """(the non-bone messages by address, the bones by name), each address once per bundle."""
    single = [(a, v) for a, v in bundle if a != "/VMC/Ext/Bone/Pos"]
    bones = {v[0]: v[1:] for a, v in bundle if a == "/VMC/Ext/Bone/Pos"}
    assert len({a for a, _ in single}) == len(single) == 3  # OK, T, Root/Pos: once each
    assert len(bones) == len(bundle) - 3  # no bone twice
    return dict(single), bones


def unity_quat(xyzw: tuple) -> np.ndarray:
    """Unity's (x, y, z, w) as a rotation matrix (Unity's own quaternion formula)."""
    x, y, z, w = xyzw
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip


def pose_in_unity(bones: dict[str, tuple]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """World positions and rotations (3x3) of the received bones, as a Unity receiver poses its
    avatar: each bone's local position and rotation under its nearest received ancestor."""
    positions: dict[str, np.ndarray] = {}
    rotations: dict[str, np.ndarray] = {}

    def pose(name: str) -> None:
        if name in positions:
            return
        values = bones[name]
        local_p, local_r = np.array(values[:3]), unity_quat(values[3:])
        parent = UNITY_PARENT.get(name)
        while parent is not None and parent not in bones:
            parent = UNITY_PARENT.get(parent)
        if parent is None:  # the hips, under the root (sent as the identity at the origin)
            positions[name], rotations[name] = local_p, local_r
            return
        pose(parent)
        positions[name] = positions[parent] + rotations[parent] @ local_p
        rotations[name] = rotations[parent] @ local_r

    for name in bones:
        pose(name)
    return positions, rotations


def test_cli_streams_one_bundle_per_frame_that_poses_a_unity_humanoid_like_the_character(
    sports2d_clip: Path, receiver: tuple[BundleRecorder, int], tmp_path: Path
) -> None:
    recorder, port = receiver
    out = tmp_path / "poses.jsonl"
    result = run("track", str(sports2d_clip), "--max-frames", str(CLI_FRAMES),
                 "--vmc", f"127.0.0.1:{port}", "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "streaming mannequin over VMC" in result.stderr  # no --character: the mannequin
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    header, frames, summary = lines[0], lines[1:-1], lines[-1]
    assert len(frames) == summary["frames"] == CLI_FRAMES
    assert summary["vmc"] == {"target": f"127.0.0.1:{port}", "sent": CLI_FRAMES, "failed": 0,
                              "dropped": 0}  # fmt: skip
    bundles = recorder.wait_for(CLI_FRAMES)
    assert len(bundles) == CLI_FRAMES  # every frame's bundle, and no other

    by_time = {}
    for bundle in bundles:
        single, bones = unpack(bundle)
        assert set(bones) == MANNEQUIN_BONES and set(bones) <= set(HUMAN_BODY_BONES)
        assert single["/VMC/Ext/Root/Pos"] == ("root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)
        for values in bones.values():
            assert len(values) == 7 and all(isinstance(v, float) for v in values)
            assert abs(np.linalg.norm(values[3:]) - 1.0) < 1e-5  # a unit quaternion
        (stamp,) = single["/VMC/Ext/T"]
        by_time[round(stamp, 3)] = (single["/VMC/Ext/OK"], bones)
    assert len(by_time) == CLI_FRAMES  # one bundle per frame time

    mirror = header["character"]["mirror"]
    checked = 0
    for frame in frames:
        status, bones = by_time[round(frame["time"], 3)]
        # loaded, calibrated, normal mode, tracking = someone in view
        assert status == (1, 3, 0, int(bool(frame["poses"])))
        if not frame["poses"]:
            continue
        positions, _ = pose_in_unity(bones)
        hip = 0.5 * (positions["LeftUpperLeg"] + positions["RightUpperLeg"])
        for name, (x, y, z) in frame["poses"][0]["character"].items():
            # the stream's "character": hip-centred, MediaPipe's world axes (x right, y down,
            # z away from the camera); mirrored, x was negated and the left/right names swapped.
            # Unity: up = -y, the avatar's forward (to the camera) = -z, its left (image right
            # unmirrored) = -X.
            joint = KEYPOINT_JOINTS[mirror_name(name) if mirror else name]
            expected = np.array([x if mirror else -x, -y, -z])
            got = positions[joint[0].upper() + joint[1:]] - hip
            assert np.abs(got - expected).max() < POSITION_TOLERANCE_M, (frame["frame"], name)
            checked += 1
    assert checked >= 12 * (CLI_FRAMES // 2)  # most frames have the person in view


def test_plugin_streams_the_driven_actor_as_its_joints_are_posed(
    showbase, short_clip: Path, receiver: tuple[BundleRecorder, int]
) -> None:
    recorder, port = receiver
    previous = esper.current_world
    esper.switch_world("test-vmc")
    actor = build_mannequin()
    tracking = posetrack.init(showbase, source=str(short_clip), device="cpu", live=False,
                              vmc=f"127.0.0.1:{port}")  # fmt: skip
    try:
        entity = tracking.drive(actor)
        esper.component_for_entity(entity, CharacterBinding).response_s = 0.0  # snap: no easing
        skeleton = skeleton_from_actor(actor)
        joints = {b: actor.exposeJoint(None, "modelRoot", j) for b, j in skeleton.joint_of.items()}
        posed = {}
        for _ in range(PLUGIN_FRAMES):
            showbase.taskMgr.step()
            actor.update(force=True)
            posed[round(tracking.result.time, 3)] = {
                b: (np.array(node.get_pos(actor)), np.array(node.get_quat(actor)))
                for b, node in joints.items()
            }
    finally:
        tracking.close()
        esper.switch_world(previous)
        esper.delete_world("test-vmc")
    bundles = recorder.wait_for(PLUGIN_FRAMES)
    assert len(bundles) == PLUGIN_FRAMES

    rest = {b: np.array(q) for b, q in skeleton.rest_world_quats.items()}
    for bone in skeleton.rest_tips:  # what the forward-axis check below relies on
        if bone[0].upper() + bone[1:] in T_POSE_UNITY:
            assert abs(skeleton.rest_direction(bone)[1]) < 1e-6, bone  # in the frontal plane
    for bundle in bundles:
        single, bones = unpack(bundle)
        assert set(bones) == MANNEQUIN_BONES
        assert single["/VMC/Ext/OK"] == (1, 3, 0, 1)  # the person is in view on every frame
        now = posed[round(single["/VMC/Ext/T"][0], 3)]
        _, rotations = pose_in_unity(bones)
        for bone, (position, rotation) in now.items():
            name = bone[0].upper() + bone[1:]
            # the turn since rest of the character's joint, in Unity axes
            turn = PANDA_TO_UNITY @ rotation_matrix(rotation) @ rotation_matrix(rest[bone]).T
            turn = turn @ PANDA_TO_UNITY.T
            # the rest pose's forward axis (the mannequin's rest pose differs from the T-pose
            # only by turns in the frontal plane, which leave it as it is) ...
            forward = np.array([0.0, 0.0, 1.0])
            assert np.abs(rotations[name] @ forward - turn @ forward).max() < DIRECTION_TOLERANCE
            # ... and where the bone points: at its child joint, as the Actor's joints are now
            if name in T_POSE_UNITY and bone in skeleton.rest_tips:
                tip = tip_now(skeleton, now, bone)
                pointing = PANDA_TO_UNITY @ (tip - position)
                pointing /= np.linalg.norm(pointing)
                got = rotations[name] @ np.array(T_POSE_UNITY[name], dtype=float)
                assert np.abs(got - pointing).max() < DIRECTION_TOLERANCE, (name, got, pointing)
            else:  # feet and toes: their rest orientation is the T-pose's; all of the turn
                assert np.abs(rotations[name] - turn).max() < DIRECTION_TOLERANCE, name


def rotation_matrix(wxyz: np.ndarray) -> np.ndarray:
    """Panda3D's (w, x, y, z) as a 3x3 matrix acting on column vectors."""
    w, x, y, z = np.asarray(wxyz, dtype=float) / np.linalg.norm(wxyz)
    return unity_quat((x, y, z, w))  # the same formula: only the component order differs


def tip_now(skeleton: object, now: dict, bone: str) -> np.ndarray:
    """Where the bone ends now: its primary child joint (hand and head: their rest tip carried
    by the joint's turn since rest)."""
    child = next((c for c in PRIMARY_CHILD.get(bone, ()) if c in now), None)
    if child is not None:
        return now[child][0]
    position, rotation = now[bone]
    turn = rotation_matrix(rotation) @ rotation_matrix(skeleton.rest_world_quats[bone]).T
    return position + turn @ (skeleton.rest_tips[bone] - skeleton.rest_positions[bone])


def test_plugin_without_a_driven_character_streams_the_mannequin(
    showbase, short_clip: Path, receiver: tuple[BundleRecorder, int]
) -> None:
    recorder, port = receiver
    previous = esper.current_world
    esper.switch_world("test-vmc-alone")
    tracking = posetrack.init(showbase, source=str(short_clip), device="cpu", live=False,
                              vmc=f"127.0.0.1:{port}")  # fmt: skip
    try:
        for _ in range(3):
            showbase.taskMgr.step()
    finally:
        tracking.close()
        esper.switch_world(previous)
        esper.delete_world("test-vmc-alone")
    bundles = recorder.wait_for(3)
    assert len(bundles) == 3
    assert all(set(unpack(bundle)[1]) == MANNEQUIN_BONES for bundle in bundles)


def test_a_send_the_network_refuses_is_counted_and_said_once_and_tracking_goes_on(
    short_clip: Path, tmp_path: Path
) -> None:
    # the broadcast address without SO_BROADCAST: every sendto fails (EACCES), on any network
    result = run("track", str(short_clip), "--vmc", "255.255.255.255:39539",
                 "--out", str(tmp_path / "poses.jsonl"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "poses.jsonl").read_text().splitlines()[-1])
    assert summary["frames"] == 6
    assert summary["vmc"] == {"target": "255.255.255.255:39539", "sent": 0, "failed": 6,
                              "dropped": 0}  # fmt: skip
    said = [line for line in result.stderr.splitlines() if "VMC: sending" in line]
    assert len(said) == 1 and "failed" in said[0]


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("nohost", ["--vmc", "'nohost'", "HOST:PORT"]),
        ("host:99999", ["--vmc", "'host:99999'", "1 to 65535"]),
        (":39539", ["--vmc", "HOST:PORT"]),
    ],
)
def test_a_bad_vmc_target_is_one_clear_line_and_nothing_written(
    messi_image: Path, tmp_path: Path, target: str, words: list[str]
) -> None:
    keep = tmp_path / "keep.jsonl"
    keep.write_text("my earlier run\n")
    result = run("track", str(messi_image), "--vmc", target, "--out", str(keep), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr
    assert all(word in errors[0] for word in words), errors[0]
    assert keep.read_text() == "my earlier run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl"]


def test_a_bad_vmc_setting_from_prc_or_arguments_names_where_it_came_from() -> None:
    page = load_prc_file_data("test-posetrack-vmc", "posetrack-vmc localhost")
    try:
        with pytest.raises(PosetrackError, match="PRC variable posetrack-vmc is 'localhost'"):
            from_prc()
    finally:
        unload_prc_file(page)
    with pytest.raises(PosetrackError, match="vmc is '127.0.0.1:0': the port"):
        from_prc(vmc="127.0.0.1:0")
    assert from_prc(vmc="[::1]:39539").vmc == "[::1]:39539"
    assert from_prc().vmc == ""  # off unless asked for
