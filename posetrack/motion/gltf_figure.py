"""A Panda3D character's own skinned mesh as a glTF 2.0 document, for a glTF recording.

For a character that is not a glTF file (the mannequin, a user's .bam/.egg model):
`actor_mesh(actor, joint_names)` reads its triangles at the bind pose (positions, normals,
vertex colours, up to four joint weights per vertex from the vertex data's transform blend
table) into Actor space; `figure_document(...)` writes them under a skin whose joints are the
rig's, each at its rest position with world-aligned axes (the frames the recording's rotations
are relative to: motion/recorder.py). glTF axes: +Y up, the figure facing +Z, metres.
"""

import base64
from dataclasses import dataclass

import numpy as np
from panda3d.core import GeomVertexReader

from posetrack.motion.recorder import PANDA_TO_YUP

_FLOAT, _USHORT, _UINT = 5126, 5123, 5125  # glTF componentType codes
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963  # bufferView targets
_MAX_WEIGHTS = 4  # glTF's JOINTS_0 / WEIGHTS_0 hold four per vertex


@dataclass(frozen=True)
class MeshArrays:
    """Triangles of a skinned mesh at its bind pose, Actor space (Panda3D axes)."""

    positions: np.ndarray  # (V, 3) float32
    normals: np.ndarray | None  # (V, 3) float32
    colors: np.ndarray | None  # (V, 4) float32, linear 0..1
    joints: np.ndarray  # (V, 4) uint16 rig joint indices
    weights: np.ndarray  # (V, 4) float32, each row summing to 1
    indices: np.ndarray  # (3T,) uint32


def actor_mesh(actor: object, joint_names: tuple[str, ...]) -> MeshArrays | None:
    """The actor's skinned triangles (None when it has none a glTF skin can carry)."""
    index = {name: i for i, name in enumerate(joint_names)}
    parts: list[MeshArrays] = []
    for path in actor.findAllMatches("**/+GeomNode"):
        to_actor = np.array(path.get_mat(actor), dtype=np.float64)  # row-vector form
        node = path.node()
        for g in range(node.get_num_geoms()):
            part = _geom_arrays(node.get_geom(g).decompose(), to_actor, index)
            if part is not None:
                parts.append(part)
    if not parts:
        return None
    offsets = np.cumsum([0] + [len(p.positions) for p in parts[:-1]])
    have_normals = all(p.normals is not None for p in parts)
    have_colors = all(p.colors is not None for p in parts)
    return MeshArrays(
        np.concatenate([p.positions for p in parts]),
        np.concatenate([p.normals for p in parts]) if have_normals else None,
        np.concatenate([p.colors for p in parts]) if have_colors else None,
        np.concatenate([p.joints for p in parts]),
        np.concatenate([p.weights for p in parts]),
        np.concatenate([p.indices + o for p, o in zip(parts, offsets, strict=True)]).astype(
            np.uint32
        ),
    )


def _geom_arrays(geom: object, to_actor: np.ndarray, index: dict[str, int]) -> MeshArrays | None:
    vdata = geom.get_vertex_data()
    table = vdata.get_transform_blend_table()
    if table is None or not vdata.has_column("transform_blend"):
        return None  # not skinned through joints: nothing here follows the skeleton
    blends = []
    for b in range(table.get_num_blends()):
        blend = table.get_blend(b)
        pairs = [(index.get(blend.get_transform(t).get_joint().get_name()), blend.get_weight(t))
                 for t in range(blend.get_num_transforms())
                 if hasattr(blend.get_transform(t), "get_joint")]  # fmt: skip
        pairs = sorted((p for p in pairs if p[0] is not None), key=lambda p: -p[1])
        blends.append(pairs[:_MAX_WEIGHTS])
    rows = vdata.get_num_rows()
    positions = _column(vdata, "vertex", 3)
    positions = positions @ to_actor[:3, :3] + to_actor[3, :3]
    normals = _column(vdata, "normal", 3) if vdata.has_column("normal") else None
    if normals is not None:
        normals = normals @ to_actor[:3, :3]
        normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    colors = _column(vdata, "color", 4) if vdata.has_column("color") else None
    if colors is not None:  # Panda3D draws colours as given (sRGB); COLOR_0 is linear
        rgb = colors[:, :3]
        colors[:, :3] = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    joints = np.zeros((rows, _MAX_WEIGHTS), dtype=np.uint16)
    weights = np.zeros((rows, _MAX_WEIGHTS), dtype=np.float32)
    reader = GeomVertexReader(vdata, "transform_blend")
    for row in range(rows):
        pairs = blends[reader.get_data1i()]
        if not pairs:  # a vertex on no joint: pin it to the first one
            pairs = [(0, 1.0)]
        total = sum(w for _, w in pairs)
        for k, (joint, weight) in enumerate(pairs):
            joints[row, k], weights[row, k] = joint, weight / total
    triangles = []
    for p in range(geom.get_num_primitives()):
        prim = geom.get_primitive(p).decompose()
        triangles += [prim.get_vertex(i) for i in range(prim.get_num_vertices())]
    if not triangles:
        return None
    return MeshArrays(positions.astype(np.float32), normals, colors, joints, weights,
                      np.array(triangles, dtype=np.uint32))  # fmt: skip


def _column(vdata: object, name: str, width: int) -> np.ndarray:
    reader = GeomVertexReader(vdata, name)
    out = np.empty((vdata.get_num_rows(), width), dtype=np.float64)
    for row in range(len(out)):
        out[row] = tuple(reader.get_data4())[:width] if width == 4 else reader.get_data3()
    return out


def figure_document(
    names: tuple[str, ...], parents: tuple[int, ...], rest: np.ndarray, mesh: MeshArrays
) -> dict:
    """A glTF document (JSON-ready dict, buffer inlined) of `mesh` on a skin of the rig:
    `rest` (J, 3) joint origins in Actor space; joints translated, never rotated, at rest."""
    rest_yup = rest @ PANDA_TO_YUP.T
    positions = (mesh.positions.astype(np.float64) @ PANDA_TO_YUP.T).astype(np.float32)
    ibms = np.tile(np.eye(4, dtype=np.float32), (len(names), 1, 1))
    ibms[:, 3, :3] = -rest_yup  # column-major: a translation's last four floats
    attributes = {"POSITION": positions, "JOINTS_0": mesh.joints, "WEIGHTS_0": mesh.weights}
    if mesh.normals is not None:
        attributes["NORMAL"] = (mesh.normals @ PANDA_TO_YUP.T).astype(np.float32)
    if mesh.colors is not None:
        attributes["COLOR_0"] = mesh.colors.astype(np.float32)
    blobs = [*attributes.values(), mesh.indices, ibms]
    kinds = {1: "SCALAR", 3: "VEC3", 4: "VEC4", 16: "MAT4"}
    views, accessors, data = [], [], bytearray()
    for i, blob in enumerate(blobs):
        raw = np.ascontiguousarray(blob).tobytes()
        view = {"buffer": 0, "byteOffset": len(data), "byteLength": len(raw)}
        if i < len(attributes):
            view["target"] = _ARRAY_BUFFER
        elif i == len(attributes):
            view["target"] = _ELEMENT_ARRAY_BUFFER
        views.append(view)
        width = int(np.prod(blob.shape[1:])) if blob.ndim > 1 else 1
        component = {np.dtype(np.float32): _FLOAT, np.dtype(np.uint16): _USHORT,
                     np.dtype(np.uint32): _UINT}[blob.dtype]  # fmt: skip
        accessors.append({"bufferView": i, "componentType": component, "count": len(blob),
                          "type": kinds[width]})  # fmt: skip
        data += raw + b"\0" * (-len(raw) % 4)
    accessors[0]["min"] = positions.min(axis=0).tolist()
    accessors[0]["max"] = positions.max(axis=0).tolist()
    nodes: list[dict] = []
    for j, name in enumerate(names):
        parent = parents[j]
        local = rest_yup[j] - (rest_yup[parent] if parent >= 0 else 0.0)
        node = {"name": name, "translation": local.tolist()}
        kids = [k for k, p in enumerate(parents) if p == j]
        if kids:
            node["children"] = kids
        nodes.append(node)
    roots = [j for j, p in enumerate(parents) if p < 0]
    armature, body = len(nodes), len(nodes) + 1
    # mesh and joints under one armature node, as Blender exports a rig
    nodes.append({"name": "Armature", "children": roots + [body]})
    nodes.append({"name": "body", "mesh": 0, "skin": 0})
    primitive = {"attributes": {k: i for i, k in enumerate(attributes)},
                 "indices": len(attributes), "material": 0}  # fmt: skip
    uri = "data:application/octet-stream;base64," + base64.b64encode(bytes(data)).decode()
    return {
        "asset": {"version": "2.0", "generator": "posetrack"},
        "scene": 0,
        "scenes": [{"name": "character", "nodes": [armature]}],
        "nodes": nodes,
        "skins": [
            {
                "joints": list(range(len(names))),
                "inverseBindMatrices": len(blobs) - 1,
                "skeleton": roots[0],
            }
        ],  # fmt: skip
        # white: the vertex colours (COLOR_0) carry the figure's own colours
        "materials": [{"name": "body", "pbrMetallicRoughness": {"metallicFactor": 0.0}}],
        "meshes": [{"name": "body", "primitives": [primitive]}],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(data), "uri": uri}],
    }
