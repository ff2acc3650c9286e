"""Rig presets: detection from joint names, canonical maps, and errors that name the joints.

The joint lists are the full skeletons these tools export (fingers, twist and IK joints
included), so detection has to pick the convention out of realistic noise.
"""

import numpy as np
import pytest
from direct.actor.Actor import Actor
from direct.showbase.ShowBase import ShowBase
from panda3d.core import LMatrix4d, NodePath, Point3D
from panda3d.egg import EggData, EggGroup, EggPolygon, EggVertex, EggVertexPool, load_egg_data

from posetrack.characters.presets import (
    REQUIRED_BONES,
    RigPreset,
    builtin_presets,
    detect_preset,
    load_preset,
    resolve,
)
from posetrack.characters.skeleton import skeleton_from_actor
from posetrack.errors import PosetrackError

_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Pinky")


def _mixamo(prefix: str = "mixamorig:") -> list[str]:
    names = ["Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "HeadTop_End"]
    for side in ("Left", "Right"):
        names += [f"{side}Shoulder", f"{side}Arm", f"{side}ForeArm", f"{side}Hand"]
        names += [f"{side}Hand{f}{i}" for f in _FINGERS for i in range(1, 5)]
        names += [f"{side}UpLeg", f"{side}Leg", f"{side}Foot", f"{side}ToeBase", f"{side}Toe_End"]
    return [prefix + n for n in names]


def _vroid() -> list[str]:
    names = ["Root", "J_Bip_C_Hips", "J_Bip_C_Spine", "J_Bip_C_Chest", "J_Bip_C_UpperChest",
             "J_Bip_C_Neck", "J_Bip_C_Head", "J_Adj_L_FaceEye", "J_Adj_R_FaceEye",
             "J_Sec_Hair1_01", "J_Sec_Hair2_01", "J_Sec_L_Bust1", "J_Sec_R_Bust1"]  # fmt: skip
    for s in "LR":
        names += [f"J_Bip_{s}_{b}" for b in ("Shoulder", "UpperArm", "LowerArm", "Hand",
                                            "UpperLeg", "LowerLeg", "Foot", "ToeBase")]  # fmt: skip
        names += [f"J_Bip_{s}_{f}{i}" for f in ("Thumb", "Index", "Middle", "Ring", "Little")
                  for i in range(1, 4)]  # fmt: skip
    return names


def _unreal(spines: int) -> list[str]:
    names = ["root", "pelvis"] + [f"spine_{i:02d}" for i in range(1, spines + 1)]
    names += ["neck_01", "head", "ik_foot_root", "ik_hand_root", "ik_hand_gun"]
    for s in "lr":
        names += [f"clavicle_{s}", f"upperarm_{s}", f"lowerarm_{s}", f"hand_{s}",
                  f"upperarm_twist_01_{s}", f"lowerarm_twist_01_{s}", f"thigh_{s}", f"calf_{s}",
                  f"calf_twist_01_{s}", f"foot_{s}", f"ball_{s}", f"thigh_twist_01_{s}",
                  f"ik_foot_{s}", f"ik_hand_{s}"]  # fmt: skip
        names += [f"{f}_0{i}_{s}" for f in ("thumb", "index", "middle", "ring", "pinky")
                  for i in range(1, 4)]  # fmt: skip
    return names


def _mannequin() -> list[str]:
    names = ["hips", "spine", "chest", "neck", "head", "head_end"]
    for s in "lr":
        names += [
            f"{b}_{s}"
            for b in (
                "shoulder",
                "upper_arm",
                "lower_arm",
                "hand",
                "hand_end",
                "upper_leg",
                "lower_leg",
                "foot",
                "toes",
                "toes_end",
            )
        ]
    return names


@pytest.mark.parametrize(
    ("names", "preset", "expected"),
    [
        (_mixamo(), "mixamo", {"leftUpperArm": "mixamorig:LeftArm",
                               "leftLowerLeg": "mixamorig:LeftLeg", "chest": "mixamorig:Spine1",
                               "upperChest": "mixamorig:Spine2"}),
        (_mixamo("mixamorig1:"), "mixamo", {"rightHand": "mixamorig1:RightHand"}),
        (_mixamo("mixamorig_"), "mixamo", {"hips": "mixamorig_Hips"}),
        (_mixamo(""), "mixamo", {"rightUpperLeg": "RightUpLeg"}),
        (_vroid(), "vroid", {"leftUpperArm": "J_Bip_L_UpperArm", "rightFoot": "J_Bip_R_Foot",
                             "upperChest": "J_Bip_C_UpperChest"}),
        (_unreal(3), "unreal", {"leftLowerLeg": "calf_l", "upperChest": "spine_03",
                                "leftShoulder": "clavicle_l"}),
        (_unreal(5), "unreal", {"upperChest": "spine_05", "rightUpperArm": "upperarm_r"}),
        (_mannequin(), "mannequin", {"leftLowerArm": "lower_arm_l", "rightToes": "toes_r"}),
        (list(REQUIRED_BONES) + ["leftShoulder"], "humanoid", {"leftHand": "leftHand"}),
    ],
)  # fmt: skip
def test_preset_is_detected_and_maps_the_bones(
    names: list[str], preset: str, expected: dict[str, str]
) -> None:
    assert detect_preset(names).name == preset
    mapping = resolve(names)
    assert set(REQUIRED_BONES) <= set(mapping)
    assert set(mapping.values()) <= set(names)
    assert len(set(mapping.values())) == len(mapping), "two bones share a joint"
    for bone, joint in expected.items():
        assert mapping[bone] == joint
    assert resolve(names, preset) == mapping  # naming the preset gives the same map


def test_builtin_presets_cover_every_required_bone() -> None:
    presets = builtin_presets()
    assert {"mannequin", "mixamo", "vroid", "unreal", "humanoid"} <= set(presets)
    for preset in presets.values():
        assert set(REQUIRED_BONES) <= set(preset.joints), preset.name


def test_missing_joint_error_names_the_bone_and_the_joint_sought() -> None:
    names = [n for n in _mixamo() if n != "mixamorig:LeftLeg"] + ["mixamorig:LeftLegg"]
    assert detect_preset(names).name == "mixamo"  # still the best coverage
    with pytest.raises(PosetrackError) as error:
        resolve(names)
    message = str(error.value)
    assert "leftLowerLeg" in message and "LeftLeg" in message
    assert "mixamorig:LeftLegg" in message, "the misspelt joint is listed as unmapped"
    assert "rightLowerLeg" not in message


def test_equal_coverage_is_an_error_naming_both_presets() -> None:
    with pytest.raises(PosetrackError, match="humanoid.*mannequin|mannequin.*humanoid"):
        detect_preset(["hips", "spine", "chest", "neck", "head"])


def test_unknown_rig_lists_its_joints() -> None:
    with pytest.raises(PosetrackError, match="Bone.001"):
        resolve(["Armature", "Bone", "Bone.001"])
    with pytest.raises(PosetrackError, match="known presets: .*mixamo"):
        resolve(_mixamo(), "blender")


def test_a_joint_matched_twice_is_an_error() -> None:
    with pytest.raises(PosetrackError, match="mixamorig1:Hips"):
        resolve(_mixamo() + _mixamo("mixamorig1:"), "mixamo")


def test_own_preset_from_mapping_and_from_toml(tmp_path) -> None:
    names = [f"bone_{b}" for b in REQUIRED_BONES]
    mine = RigPreset.from_mapping("mine", {b: f"bone_{b}" for b in REQUIRED_BONES})
    assert resolve(names, mine)["leftFoot"] == "bone_leftFoot"

    lines = ['name = "mine"', "[joints]"] + [f'{b} = "bone_{b}"' for b in REQUIRED_BONES]
    (tmp_path / "mine.toml").write_text("\n".join(lines))
    assert resolve(names, load_preset(tmp_path / "mine.toml")) == resolve(names, mine)

    with pytest.raises(PosetrackError, match="leftForearm"):
        RigPreset.from_mapping("typo", {"leftForearm": "forearm.L"})
    (tmp_path / "bad.toml").write_text('name = "bad"\n[joints]\nhips = 3\n')
    with pytest.raises(PosetrackError, match="joints.hips"):
        load_preset(tmp_path / "bad.toml")


# A Mixamo-named T-pose skeleton (joint, parent, world position): joint axes are the identity,
# unlike the mannequin's, so skeleton_from_actor is checked on a second convention.
_T_POSE = [
    ("Hips", None, (0, 0, 1.0)), ("Spine", "Hips", (0, 0, 1.1)),
    ("Spine1", "Spine", (0, 0, 1.2)), ("Spine2", "Spine1", (0, 0, 1.3)),
    ("Neck", "Spine2", (0, 0, 1.5)), ("Head", "Neck", (0, 0, 1.6)),
    ("HeadTop_End", "Head", (0, 0, 1.8)),
    *[j for s, x in (("Left", 1), ("Right", -1)) for j in (
        (f"{s}Shoulder", "Spine2", (0.05 * x, 0, 1.45)),
        (f"{s}Arm", f"{s}Shoulder", (0.18 * x, 0, 1.45)),
        (f"{s}ForeArm", f"{s}Arm", (0.46 * x, 0, 1.45)),
        (f"{s}Hand", f"{s}ForeArm", (0.72 * x, 0, 1.45)),
        (f"{s}HandMiddle1", f"{s}Hand", (0.82 * x, 0, 1.45)),
        (f"{s}HandIndex1", f"{s}Hand", (0.82 * x, -0.02, 1.45)),
        (f"{s}UpLeg", "Hips", (0.09 * x, 0, 0.95)),
        (f"{s}Leg", f"{s}UpLeg", (0.09 * x, 0, 0.5)),
        (f"{s}Foot", f"{s}Leg", (0.09 * x, 0, 0.08)),
        (f"{s}ToeBase", f"{s}Foot", (0.09 * x, -0.13, 0.02)),
    )],
]  # fmt: skip


def _egg_actor(joints: list[tuple[str, str | None, tuple[float, float, float]]]) -> Actor:
    """An Actor with these joints (names prefixed "mixamorig:") and one skinned triangle."""
    egg = EggData()
    root = EggGroup("rig")
    root.set_dart_type(EggGroup.DT_default)
    egg.add_child(root)
    groups, where = {}, {}
    for name, parent, pos in joints:
        group = EggGroup("mixamorig:" + name)
        group.set_group_type(EggGroup.GT_joint)
        offset = np.subtract(pos, where[parent]) if parent else np.array(pos)
        group.set_transform3d(LMatrix4d.translate_mat(*offset))
        (groups[parent] if parent else root).add_child(group)
        groups[name], where[name] = group, pos
    pool = EggVertexPool("rig")
    root.add_child(pool)
    triangle = EggPolygon()
    for corner in ((0, 0, 1), (0.1, 0, 1), (0, 0, 1.1)):
        vertex = pool.add_vertex(EggVertex())
        vertex.set_pos(Point3D(*corner))
        groups[joints[0][0]].ref_vertex(vertex, 1.0)
        triangle.add_vertex(vertex)
    root.add_child(triangle)
    return Actor(NodePath(load_egg_data(egg)))


def test_skeleton_from_a_mixamo_actor(showbase: ShowBase) -> None:
    actor = _egg_actor(_T_POSE)
    skeleton = skeleton_from_actor(actor)
    assert skeleton.preset == "mixamo"
    assert skeleton.joint_of["leftLowerArm"] == "mixamorig:LeftForeArm"
    np.testing.assert_allclose(skeleton.rest_direction("leftUpperArm"), [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(skeleton.rest_direction("rightLowerArm"), [-1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(skeleton.rest_direction("leftUpperLeg"), [0, 0, -1], atol=1e-6)
    # a hand's end: the mean of its finger roots
    np.testing.assert_allclose(skeleton.rest_tips["leftHand"], [0.82, -0.01, 1.45], atol=1e-6)
    assert skeleton.rest_direction("head")[2] == pytest.approx(1.0)
    assert skeleton.parents["neck"] == "upperChest"
    assert skeleton.parents["leftUpperArm"] == "leftShoulder"
    np.testing.assert_allclose(skeleton.rest_world_quats["leftHand"], [1, 0, 0, 0], atol=1e-6)
    assert skeleton.height == pytest.approx(1.78, abs=1e-6)
    actor.cleanup()


def test_skeleton_from_an_actor_missing_a_leg_joint_names_it(showbase: ShowBase) -> None:
    # no LeftLeg: the foot hangs straight off the thigh
    joints = [j for j in _T_POSE if j[0] != "LeftLeg"]
    joints = [(n, "LeftUpLeg" if p == "LeftLeg" else p, pos) for n, p, pos in joints]
    actor = _egg_actor(joints)
    with pytest.raises(PosetrackError, match="leftLowerLeg.*LeftLeg"):
        skeleton_from_actor(actor)
    actor.cleanup()
