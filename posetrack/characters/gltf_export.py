"""Write a jointed figure as a skinned glTF 2.0 file: a box along each bone, rigidly skinned.

For tests and examples of user characters: `write_skinned_gltf(path, joints)` takes joint name
-> (parent name or None, rest position in glTF axes: +Y up, the figure facing +Z, its left on
+X) and writes one .gltf (JSON with the buffer inlined as base64): a node per joint (translation
relative to its parent, no rotation), a skin with inverseBindMatrices, and a mesh whose every
vertex follows one joint (JOINTS_0/WEIGHTS_0).
"""

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

JointTable = Mapping[str, tuple[str | None, tuple[float, float, float]]]

_FLOAT, _USHORT = 5126, 5123  # glTF componentType codes
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963  # bufferView targets
_HALF_WIDTH = 0.03  # metres: a box's half thickness, slim enough to read as a limb
_STUB = 0.08  # metres: length of the box on a joint without children (hands, head, toes)

# the 12 triangles of a box whose corners are numbered by bits (x, y, z) = (1, 2, 4)
BOX_TRIANGLES = np.array([
    (0, 2, 3), (0, 3, 1), (4, 5, 7), (4, 7, 6), (0, 1, 5), (0, 5, 4),
    (2, 6, 7), (2, 7, 3), (0, 4, 6), (0, 6, 2), (1, 3, 7), (1, 7, 5),
], dtype=np.uint16)  # fmt: skip


def skinned_gltf(joints: JointTable, name: str = "figure") -> dict:
    """The glTF 2.0 document (a JSON-ready dict) for the figure."""
    order = list(joints)
    index = {joint: i for i, joint in enumerate(order)}
    pos = {j: np.asarray(p, dtype=np.float64) for j, (_, p) in joints.items()}
    kids: dict[str, list[str]] = {j: [] for j in order}
    roots = []
    for joint, (parent, _) in joints.items():
        (kids[parent] if parent is not None else roots).append(joint)

    points, joint_ids, triangles = [], [], []
    for joint, corners in bone_boxes(joints):
        triangles.append(BOX_TRIANGLES + len(points))
        points.extend(corners)
        joint_ids.extend([index[joint]] * len(corners))
    positions = np.array(points, dtype=np.float32)
    joints0 = np.zeros((len(points), 4), dtype=np.uint16)
    joints0[:, 0] = joint_ids
    weights0 = np.zeros((len(points), 4), dtype=np.float32)
    weights0[:, 0] = 1.0
    indices = np.concatenate(triangles).astype(np.uint16).ravel()
    # inverse bind matrix of a joint without rotation: a translation by minus its position;
    # glTF matrices are column-major, so the translation is the last four floats
    ibms = np.tile(np.eye(4, dtype=np.float32), (len(order), 1, 1))
    for i, joint in enumerate(order):
        ibms[i, 3, :3] = -pos[joint]

    blobs = [positions, joints0, weights0, indices, ibms]
    views, accessors, data, offset = [], [], bytearray(), 0
    specs = [
        (_FLOAT, "VEC3", _ARRAY_BUFFER), (_USHORT, "VEC4", _ARRAY_BUFFER),
        (_FLOAT, "VEC4", _ARRAY_BUFFER), (_USHORT, "SCALAR", _ELEMENT_ARRAY_BUFFER),
        (_FLOAT, "MAT4", None),
    ]  # fmt: skip
    for blob, (component, kind, target) in zip(blobs, specs, strict=True):
        raw = blob.tobytes()
        view = {"buffer": 0, "byteOffset": offset, "byteLength": len(raw)}
        if target is not None:
            view["target"] = target
        views.append(view)
        accessors.append({"bufferView": len(views) - 1, "componentType": component,
                          "count": len(blob), "type": kind})  # fmt: skip
        data += raw + b"\0" * (-len(raw) % 4)  # every view starts 4-byte aligned
        offset = len(data)
    accessors[0]["min"] = positions.min(axis=0).tolist()
    accessors[0]["max"] = positions.max(axis=0).tolist()

    nodes = []
    for joint in order:
        parent = joints[joint][0]
        local = pos[joint] - (pos[parent] if parent is not None else 0.0)
        node = {"name": joint, "translation": local.tolist()}
        if kids[joint]:
            node["children"] = [index[k] for k in kids[joint]]
        nodes.append(node)
    armature, body = len(nodes), len(nodes) + 1
    # the mesh beside the joints under one armature node, as Blender exports a rig: the
    # importer makes that common ancestor the Character node
    nodes.append({"name": "Armature", "children": [index[r] for r in roots] + [body]})
    nodes.append({"name": f"{name}_mesh", "mesh": 0, "skin": 0})
    uri = "data:application/octet-stream;base64," + base64.b64encode(bytes(data)).decode()
    primitive = {"attributes": {"POSITION": 0, "JOINTS_0": 1, "WEIGHTS_0": 2}, "indices": 3,
                 "material": 0}  # fmt: skip
    grey = {"baseColorFactor": [0.7, 0.7, 0.75, 1.0], "metallicFactor": 0.0}
    return {
        "asset": {"version": "2.0", "generator": "posetrack gltf_export"},
        "scene": 0,
        "scenes": [{"name": name, "nodes": [armature]}],
        "nodes": nodes,
        "skins": [
            {
                "joints": list(range(len(order))),
                "inverseBindMatrices": 4,
                "skeleton": index[roots[0]],
            }
        ],  # fmt: skip
        "materials": [{"name": "body", "pbrMetallicRoughness": grey}],
        "meshes": [{"name": name, "primitives": [primitive]}],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(data), "uri": uri}],
    }


def bone_boxes(joints: JointTable) -> list[tuple[str, list[np.ndarray]]]:
    """(joint, the 8 corners of a box) from each joint to each child, or a stub for a leaf."""
    pos = {j: np.asarray(p, dtype=np.float64) for j, (_, p) in joints.items()}
    kids: dict[str, list[str]] = {j: [] for j in joints}
    for joint, (parent, _) in joints.items():
        if parent is not None:
            kids[parent].append(joint)
    return [
        (joint, _box(pos[joint], end))
        for joint in joints
        for end in [pos[k] for k in kids[joint]] or [pos[joint] + _stub_direction(joints, joint)]
    ]


def write_skinned_gltf(path: str | Path, joints: JointTable, name: str = "figure") -> Path:
    """Write the figure as a .gltf file; returns the path."""
    path = Path(path)
    path.write_text(json.dumps(skinned_gltf(joints, name)), encoding="utf-8")
    return path


def _stub_direction(joints: JointTable, joint: str) -> np.ndarray:
    """A leaf's box continues its parent's bone (or points up for a lone root)."""
    parent = joints[joint][0]
    if parent is None:
        return np.array([0.0, _STUB, 0.0])
    d = np.subtract(joints[joint][1], joints[parent][1])
    norm = np.linalg.norm(d)
    return d / norm * _STUB if norm > 0 else np.array([0.0, _STUB, 0.0])


def _box(start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """The 8 corners (bit order x, y, z) of a square-section box from start to end."""
    axis = end - start
    length = float(np.linalg.norm(axis))
    u = axis / length if length > 0 else np.array([0.0, 1.0, 0.0])
    helper = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    a = np.cross(u, helper)
    a /= np.linalg.norm(a)
    b = np.cross(u, a)
    return [
        start + (axis if k & 4 else 0.0) + _HALF_WIDTH * ((1 if k & 1 else -1) * a
                                                          + (1 if k & 2 else -1) * b)
        for k in range(8)
    ]  # fmt: skip
