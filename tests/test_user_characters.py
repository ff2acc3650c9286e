"""A user's own character file (glTF through panda3d-gltf, bam, egg) driven through a rig preset.

The test character is made here, not committed media: a box-per-bone humanoid with Mixamo joint
names ("mixamorig:Hips", ...) in a T-pose, proportions unlike the mannequin's (long arms, short
legs), written as glTF 2.0 (posetrack.characters.gltf_export) and as egg + bam (Panda3D's egg
library). `posetrack track` drives it with the tracked Sports2D clip, as the mannequin is driven
in test_character_driving.py, and its limbs must point where the tracked limbs point.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from panda3d.core import CS_zup_right, Filename, LMatrix4d, NodePath, Point3D
from panda3d.egg import EggData, EggGroup, EggPolygon, EggVertex, EggVertexPool, load_egg_data

from posetrack.characters import load_character
from posetrack.characters.gltf_export import (
    BOX_TRIANGLES,
    JointTable,
    bone_boxes,
    write_skinned_gltf,
)
from posetrack.errors import PosetrackError
from posetrack.retarget.metrics import stream_limb_errors

VISIBLE = 0.5  # MediaPipe's own threshold for a visible landmark
MAX_MEDIAN_LIMB_DEG = 8.0  # the bound the mannequin meets on the same clip
CLI_TIMEOUT_S = 900  # guards against a hang only
HIP = 0.9  # metres: hips joint height of the test figure (the mannequin's is 1.00)


def mixamo_figure(without: tuple[str, ...] = ()) -> JointTable:
    """The test humanoid in glTF axes (+Y up, facing +Z, left on +X), metres, T-pose.

    A joint in `without` is left out; its children hang on its parent."""
    spec: dict[str, tuple[str | None, tuple[float, float, float]]] = {
        "Hips": (None, (0, HIP, 0)), "Spine": ("Hips", (0, HIP + 0.12, 0)),
        "Spine1": ("Spine", (0, HIP + 0.25, 0)), "Spine2": ("Spine1", (0, HIP + 0.38, 0)),
        "Neck": ("Spine2", (0, HIP + 0.55, 0)), "Head": ("Neck", (0, HIP + 0.65, 0)),
        "HeadTop_End": ("Head", (0, HIP + 0.88, 0)),
    }  # fmt: skip
    shoulder = HIP + 0.5
    for side, s in (("Left", 1.0), ("Right", -1.0)):
        spec |= {
            f"{side}Shoulder": ("Spine2", (0.05 * s, shoulder, 0)),
            f"{side}Arm": (f"{side}Shoulder", (0.2 * s, shoulder, 0)),
            f"{side}ForeArm": (f"{side}Arm", (0.55 * s, shoulder, 0)),  # 0.35 m upper arm
            f"{side}Hand": (f"{side}ForeArm", (0.85 * s, shoulder, 0)),
            f"{side}UpLeg": ("Hips", (0.12 * s, HIP - 0.05, 0)),
            f"{side}Leg": (f"{side}UpLeg", (0.12 * s, 0.48, 0)),  # 0.37 m thigh
            f"{side}Foot": (f"{side}Leg", (0.12 * s, 0.08, 0)),
            f"{side}ToeBase": (f"{side}Foot", (0.12 * s, 0.02, 0.14)),
        }
    table = {}
    for name, (parent, pos) in spec.items():
        if name in without:
            continue
        while parent in without:
            parent = spec[parent][0]
        table[f"mixamorig:{name}"] = (None if parent is None else f"mixamorig:{parent}", pos)
    return table


def write_egg_and_bam(table: JointTable, egg_path: Path, bam_path: Path) -> None:
    """The figure as a skinned egg (written as text) and a bam of the loaded model."""
    egg = EggData()
    egg.set_coordinate_system(CS_zup_right)
    figure = EggGroup("figure")
    figure.set_dart_type(EggGroup.DT_default)
    egg.add_child(figure)
    pool = EggVertexPool("figure")
    figure.add_child(pool)

    def panda(p: Any) -> np.ndarray:  # glTF (x, y up, z front) -> Panda3D (x, y back, z up)
        return np.array([p[0], -p[2], p[1]], dtype=np.float64)

    groups: dict[str, EggGroup] = {}
    for name, (parent, pos) in table.items():
        local = panda(pos) - (panda(table[parent][1]) if parent else 0.0)
        group = EggGroup(name)
        group.set_group_type(EggGroup.GT_joint)
        group.set_transform3d(LMatrix4d.translate_mat(*local))
        (groups[parent] if parent else figure).add_child(group)
        groups[name] = group
    for joint, corners in bone_boxes(table):
        vertices = []
        for corner in corners:
            vertex = EggVertex()
            vertex.set_pos(Point3D(*panda(corner)))
            pool.add_vertex(vertex)
            groups[joint].ref_vertex(vertex, 1.0)
            vertices.append(vertex)
        for triangle in BOX_TRIANGLES:
            poly = EggPolygon()
            for i in triangle[::-1]:  # glTF -> Panda3D flips handedness of the mirrored z
                poly.add_vertex(vertices[i])
            figure.add_child(poly)
    assert egg.write_egg(Filename.from_os_specific(str(egg_path)))
    assert NodePath(load_egg_data(egg)).write_bam_file(Filename.from_os_specific(str(bam_path)))


@pytest.fixture(scope="module")
def figure_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("figure")
    table = mixamo_figure()
    files = {"gltf": write_skinned_gltf(folder / "figure.gltf", table, "figure")}
    files["egg"], files["bam"] = folder / "figure.egg", folder / "figure.bam"
    write_egg_and_bam(table, files["egg"], files["bam"])
    return files


def test_files_load_with_the_mixamo_preset_detected(figure_files: dict[str, Path]) -> None:
    rests = {}
    for kind, path in figure_files.items():
        actor, skeleton = load_character(str(path))
        assert skeleton.preset == "mixamo", kind
        assert skeleton.joint_of["leftLowerLeg"] == "mixamorig:LeftLeg"
        assert set(skeleton.bones) >= {"upperChest", "leftShoulder", "rightToes"}
        rests[kind] = skeleton.rest_positions
        # glTF's +Z front is Panda3D's -Y, the mannequin's facing; its left stays on +X
        assert skeleton.rest_positions["leftUpperArm"][0] > 0
        assert skeleton.rest_positions["leftToes"][1] < skeleton.rest_positions["leftFoot"][1]
        np.testing.assert_allclose(skeleton.length("leftUpperArm"), 0.35, atol=1e-5)
        actor.cleanup()
    for kind in ("egg", "bam"):
        for bone, pos in rests["gltf"].items():
            np.testing.assert_allclose(rests[kind][bone], pos, atol=1e-5, err_msg=bone)
    mannequin, skeleton = load_character("mannequin")
    assert skeleton.preset == "mannequin"
    assert skeleton.length("leftUpperArm") < 0.3  # other proportions than the test figure
    mannequin.cleanup()


def test_given_preset_and_relative_path(figure_files: dict[str, Path]) -> None:
    path = figure_files["gltf"]
    actor, skeleton = load_character(path.name, preset="mixamo", base_dir=path.parent)
    assert skeleton.preset == "mixamo"
    actor.cleanup()
    with pytest.raises(PosetrackError, match="rig preset 'vrm'|unknown rig preset"):
        load_character(str(path), preset="vrm")


def _track(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("posetrack")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "posetrack"]
    return subprocess.run([*command, "track", str(source), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_S)  # fmt: skip


def _limb_errors(lines: list[dict[str, Any]]) -> dict[str, list[float]]:
    return stream_limb_errors(lines, VISIBLE)


@pytest.mark.parametrize("kind", ["gltf", "bam"])
def test_user_character_limbs_follow_the_tracked_limbs(
    kind: str, figure_files: dict[str, Path], sports2d_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / f"{kind}.jsonl"
    # the world landmarks as they are: the copy onto the rig is what is checked here
    done = _track(sports2d_clip, out, "--character", str(figure_files[kind]), "--no-bone-depth")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["character"] == {"name": "figure", "file": str(figure_files[kind]),
                                     "preset": "mixamo", "mirror": True}  # fmt: skip
    posed = [f for f in lines[1:-1] if f["poses"]]
    assert len(posed) > 200 and all("character" in f["poses"][0] for f in posed)
    for limb, values in _limb_errors(lines).items():
        assert len(values) > 50, f"{limb}: visible on only {len(values)} frames"
        median = float(np.median(values))
        print(f"{kind} {limb}: median {median:.2f} deg over {len(values)} frames")
        assert median <= MAX_MEDIAN_LIMB_DEG, f"{limb}: median {median:.1f} deg"


@pytest.mark.parametrize("suffix", [".gltf", ".bam"])
def test_rig_missing_a_joint_names_the_bone(suffix: str, tmp_path: Path) -> None:
    table = mixamo_figure(without=("LeftLeg",))
    path = tmp_path / f"noknee{suffix}"
    if suffix == ".gltf":
        write_skinned_gltf(path, table)
    else:
        write_egg_and_bam(table, tmp_path / "noknee.egg", path)
    with pytest.raises(PosetrackError) as caught:
        load_character(str(path))
    message = str(caught.value)
    assert "leftLowerLeg" in message and "LeftLeg" in message and "mixamo" in message
    assert "mixamorig:LeftFoot" not in message.split("does not map")[0]  # it maps leftFoot


def test_unreadable_and_unsupported_files_say_which_formats_work(tmp_path: Path) -> None:
    text = tmp_path / "notes.gltf"
    text.write_text("this is not a model\n")
    with pytest.raises(PosetrackError, match=r"notes\.gltf as glTF 2\.0.*panda3d-gltf"):
        load_character(str(text))
    bad_bam = tmp_path / "broken.bam"
    bad_bam.write_bytes(b"not a bam file")
    with pytest.raises(PosetrackError, match=r"broken\.bam.*\.bam and \.egg"):
        load_character(str(bad_bam))
    fbx = tmp_path / "rig.fbx"
    fbx.write_bytes(b"Kaydara FBX Binary")
    with pytest.raises(PosetrackError, match=r"unsupported format.*glTF.*\.bam and \.egg"):
        load_character(str(fbx))
    with pytest.raises(PosetrackError, match=r"no character file .*missing\.glb.*mannequin"):
        load_character(str(tmp_path / "missing.glb"))


def test_model_without_a_skeleton_is_refused(tmp_path: Path) -> None:
    egg = EggData()
    pool = EggVertexPool("box")
    egg.add_child(pool)
    poly = EggPolygon()
    for corner in ((0, 0, 0), (1, 0, 0), (1, 0, 1)):
        vertex = EggVertex()
        vertex.set_pos(Point3D(*corner))
        pool.add_vertex(vertex)
        poly.add_vertex(vertex)
    egg.add_child(poly)
    path = tmp_path / "static.egg"
    assert egg.write_egg(Filename.from_os_specific(str(path)))
    with pytest.raises(PosetrackError, match="has no skeleton"):
        load_character(str(path))


def test_cli_reports_a_bad_character_file(sports2d_clip: Path, tmp_path: Path) -> None:
    done = _track(sports2d_clip, tmp_path / "x.jsonl", "--character", str(tmp_path / "no.gltf"),
                  "--max-frames", "1")  # fmt: skip
    assert done.returncode != 0
    assert "no character file" in done.stderr and "Traceback" not in done.stderr
