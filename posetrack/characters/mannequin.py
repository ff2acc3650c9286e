"""A low-poly skinned mannequin generated in code (Panda3D egg data built in memory).

`build_mannequin()` returns a direct.actor.Actor whose joints carry the names of the
"mannequin" rig preset (hips, spine, chest, neck, head, shoulder_l, upper_arm_l, lower_arm_l,
hand_l, upper_leg_l, lower_leg_l, foot_l, toes_l, and _r), plus end joints (head_end,
hand_end_l, toes_end_l, ...) that give the last bone of each chain a direction. It stands on
the ground (z = 0) in an A-pose, facing -Y, so its left side is on +X. Each joint's own +Y axis
runs along its bone and +Z points to the front, as in most authored rigs: retargeting must aim
at world directions, not assume identity joint axes. Lengths are metres.
"""

from collections.abc import Mapping

import numpy as np
from direct.actor.Actor import Actor
from panda3d.core import CS_zup_right, LMatrix4d, NodePath, Point3D
from panda3d.egg import EggData, EggGroup, EggPolygon, EggVertex, EggVertexPool, load_egg_data

from posetrack.characters.mannequin_mesh import MeshBuilder, frame_along
from posetrack.errors import PosetrackError

# Adult proportions, metres, each the length of the bone it names (upper_leg: hip joint to
# knee, hips: hips joint to spine joint, head: head joint to the top of the head); close to
# a 1.77 m adult's anthropometric segment lengths.
DEFAULT_PROPORTIONS: Mapping[str, float] = {
    "ankle_height": 0.08, "lower_leg": 0.42, "upper_leg": 0.44,
    "leg_drop": 0.06,  # the hips joint sits this far above the hip (upper leg) joints
    "hip_width": 0.18,  # between the two hip joints
    "hips": 0.10, "spine": 0.15, "chest": 0.22, "neck": 0.10, "head": 0.20,
    "shoulder_drop": 0.04,  # the upper arm joints sit this far below the neck joint
    "shoulder_width": 0.36,  # between the two upper arm joints
    "upper_arm": 0.29, "lower_arm": 0.25, "hand": 0.18,
    "foot": 0.24,  # heel to toe tip
}  # fmt: skip

# The lengths whose sum is the standing height (ground to the top of the head).
HEIGHT_PARTS = ("ankle_height", "lower_leg", "upper_leg", "leg_drop",
                 "hips", "spine", "chest", "neck", "head")  # fmt: skip

# A-pose: arms 50 degrees below horizontal keep the hands clear of the hips and the armpit
# geometry unstretched; the swing retargeting measures from whatever rest pose the rig has.
ARM_DOWN_DEG = 50.0

# Fractions of the foot length: the heel sits this far behind the ankle, the ball (toes joint)
# this far from the heel; typical adult foot ratios.
_HEEL_BACK, _BALL = 0.22, 0.72


def mannequin_proportions(proportions: Mapping[str, float] | None = None) -> dict[str, float]:
    """The defaults with `proportions` applied; key "height" rescales all to that height."""
    given = dict(proportions or {})
    height = given.pop("height", None)
    unknown = sorted(set(given) - set(DEFAULT_PROPORTIONS))
    if unknown:
        raise PosetrackError(
            f"unknown mannequin proportions {', '.join(unknown)}; known: height, "
            f"{', '.join(DEFAULT_PROPORTIONS)}"
        )
    values = {**DEFAULT_PROPORTIONS, **given}
    bad = [k for k, v in values.items() if not v > 0] + (["height"] if height is not None
                                                         and not height > 0 else [])  # fmt: skip
    if bad:
        raise PosetrackError(f"mannequin proportions must be positive: {', '.join(bad)}")
    if height is not None:
        scale = height / sum(values[k] for k in HEIGHT_PARTS)
        values = {k: v * scale for k, v in values.items()}
    return values


def rest_joints(proportions: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """Rest origins of every mannequin joint (joint name -> xyz), ground at z = 0."""
    p = mannequin_proportions(proportions)
    hips = p["ankle_height"] + p["lower_leg"] + p["upper_leg"] + p["leg_drop"]
    spine, chest = hips + p["hips"], hips + p["hips"] + p["spine"]
    neck = chest + p["chest"]
    j = {
        "hips": (0, 0, hips), "spine": (0, 0, spine), "chest": (0, 0, chest),
        "neck": (0, 0, neck), "head": (0, 0, neck + p["neck"]),
        "head_end": (0, 0, neck + p["neck"] + p["head"]),
    }  # fmt: skip
    down = np.radians(ARM_DOWN_DEG)
    for side, s in (("l", 1.0), ("r", -1.0)):
        arm_dir = np.array([s * np.cos(down), 0.0, -np.sin(down)])
        shoulder = np.array([s * p["shoulder_width"] / 2, 0, neck - p["shoulder_drop"]])
        # the clavicle joint: near the sternum, a little below the shoulder, as in most rigs
        clavicle = (0.2 * s, 0.0, -0.055)
        j[f"shoulder_{side}"] = shoulder * (0, 0, 1) + np.array(clavicle) * p["shoulder_width"]
        j[f"upper_arm_{side}"] = shoulder
        j[f"lower_arm_{side}"] = shoulder + arm_dir * p["upper_arm"]
        j[f"hand_{side}"] = shoulder + arm_dir * (p["upper_arm"] + p["lower_arm"])
        j[f"hand_end_{side}"] = shoulder + arm_dir * (p["upper_arm"] + p["lower_arm"] + p["hand"])
        x, ankle = s * p["hip_width"] / 2, p["ankle_height"]
        heel_y = _HEEL_BACK * p["foot"]
        j[f"upper_leg_{side}"] = (x, 0, hips - p["leg_drop"])
        j[f"lower_leg_{side}"] = (x, 0, ankle + p["lower_leg"])
        j[f"foot_{side}"] = (x, 0, ankle)
        j[f"toes_{side}"] = (x, heel_y - _BALL * p["foot"], 0.3 * ankle)
        j[f"toes_end_{side}"] = (x, heel_y - p["foot"], 0.3 * ankle)
    return {name: np.asarray(pos, dtype=np.float64) for name, pos in j.items()}


# joint -> parent joint, parents first; end joints have no geometry of their own.
JOINT_PARENTS: dict[str, str | None] = {
    "hips": None, "spine": "hips", "chest": "spine", "neck": "chest", "head": "neck",
    "head_end": "head",
    **{k: v for s in "lr" for k, v in {
        f"shoulder_{s}": "chest", f"upper_arm_{s}": f"shoulder_{s}",
        f"lower_arm_{s}": f"upper_arm_{s}", f"hand_{s}": f"lower_arm_{s}",
        f"hand_end_{s}": f"hand_{s}", f"upper_leg_{s}": "hips",
        f"lower_leg_{s}": f"upper_leg_{s}", f"foot_{s}": f"lower_leg_{s}",
        f"toes_{s}": f"foot_{s}", f"toes_end_{s}": f"toes_{s}",
    }.items()},
}  # fmt: skip

# where each joint's bone points (its +Y axis): the origin of this child joint
_AIM: dict[str, str] = {
    "hips": "spine", "spine": "chest", "chest": "neck", "neck": "head", "head": "head_end",
    **{k: v for s in "lr" for k, v in {
        f"shoulder_{s}": f"upper_arm_{s}", f"upper_arm_{s}": f"lower_arm_{s}",
        f"lower_arm_{s}": f"hand_{s}", f"hand_{s}": f"hand_end_{s}",
        f"upper_leg_{s}": f"lower_leg_{s}", f"lower_leg_{s}": f"foot_{s}",
        f"foot_{s}": f"toes_{s}", f"toes_{s}": f"toes_end_{s}",
    }.items()},
}  # fmt: skip


def build_mannequin(proportions: Mapping[str, float] | None = None) -> Actor:
    """A skinned low-poly humanoid Actor; `proportions` overrides DEFAULT_PROPORTIONS keys.

    Pass {"height": 1.5} to scale it as a whole, or {"upper_arm": 0.35, ...} for other
    limb ratios. Light the scene it is in (vertex colours, flat-shaded facets).
    """
    p = mannequin_proportions(proportions)
    joints = rest_joints(p)
    egg = EggData()
    egg.set_coordinate_system(CS_zup_right)  # Panda3D's own axes
    figure = EggGroup("mannequin")
    figure.set_dart_type(EggGroup.DT_default)  # a Character node with a skeleton
    egg.add_child(figure)
    pool = EggVertexPool("mannequin")
    figure.add_child(pool)

    groups: dict[str, EggGroup] = {}
    worlds: dict[str, LMatrix4d] = {}
    for name, parent in JOINT_PARENTS.items():
        aim = joints[_AIM[name]] - joints[name] if name in _AIM else np.array([0, 0, 1.0])
        worlds[name] = _frame_matrix(joints[name], aim)
        local = LMatrix4d(worlds[name])
        if parent is not None:
            local = worlds[name] * _inverse(worlds[parent])
        group = EggGroup(name)
        group.set_group_type(EggGroup.GT_joint)
        group.set_transform3d(local)
        (groups[parent] if parent else figure).add_child(group)
        groups[name] = group

    mesh = MeshBuilder()
    mesh.body(joints, p)
    for points, colour, weights in mesh.polygons():
        poly = EggPolygon()
        for point, membership in zip(points, weights, strict=True):
            vertex = EggVertex()
            vertex.set_pos(Point3D(*point))
            pool.add_vertex(vertex)
            for joint, weight in membership.items():
                groups[joint].ref_vertex(vertex, weight)
            poly.add_vertex(vertex)
        poly.set_color(tuple(colour) + (1.0,))
        figure.add_child(poly)
    egg.recompute_polygon_normals()  # flat shading: one normal per facet, the low-poly look

    actor = Actor(NodePath(load_egg_data(egg)))
    actor.set_name("mannequin")
    return actor


def _frame_matrix(origin: np.ndarray, aim: np.ndarray) -> LMatrix4d:
    """Joint-to-model matrix (Panda row vectors): +Y along `aim`, +Z to the front (-Y)."""
    x, y, z = frame_along(aim)
    return LMatrix4d(*x, 0, *y, 0, *z, 0, *origin, 1)


def _inverse(mat: LMatrix4d) -> LMatrix4d:
    inv = LMatrix4d(mat)
    inv.invert_in_place()
    return inv
