"""Write a recorded MotionClip as a glTF 2.0 animation on the character's skin (pygltflib).

A user's .gltf/.glb character: a copy of their file (mesh, materials, skin, other animations
kept; every buffer and relative image folded into the one output file) with one more
animation, "posetrack". Any other character (the mannequin, a .bam/.egg model): its own mesh
and skin weights (motion/gltf_figure.py) on its rig, joints at their rest positions with
world-aligned frames (a box along each bone, posetrack.characters.gltf_export, for a model with
no skinned triangles), with the animation on it.

Channels: every recorded joint's node gets a LINEAR `rotation` channel (its local rotation,
quaternion x, y, z, w) and each top joint a `translation` channel, so that every joint's world
transform is the recorded one: its world rotation away from rest, times its own rest frame
(motion/recorder.py). glTF axes: +Y up, the character facing +Z, metres.

Keyframe times: frame k at k / fps, the source's frame times, and the last pose once more one
frame time later: a clip of N frames lasts N frame times (as the BVH's does), and a player
that samples the clip's length at the frame rate (panda3d-gltf) reaches the last frame. Times
are float32 rounded up, so a reader sampling frame k at k / fps never falls just short of key k.
"""

import base64
import json
import mimetypes
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pygltflib
from pygltflib import GLTF2

from posetrack.characters.gltf_export import skinned_gltf
from posetrack.errors import PosetrackError
from posetrack.motion.gltf_figure import MeshArrays, figure_document
from posetrack.motion.recorder import PANDA_TO_YUP, MotionClip, rotation_part
from posetrack.retarget import quat

ANIMATION_NAME = "posetrack"
_FLOAT = 5126  # glTF componentType FLOAT
_GLTF = (".gltf", ".glb")


def write_gltf_animation(
    path: str | Path,
    clip: MotionClip,
    model_file: str | Path | None = None,
    mesh: MeshArrays | None = None,
) -> None:
    """Write `clip` (uniform frames) as .glb or .gltf (by `path`'s suffix) at `path`:
    on a copy of `model_file` when it is glTF, else on `mesh` (a box figure without one)."""
    user = model_file is not None and Path(model_file).suffix.lower() in _GLTF
    if user:
        try:
            doc = GLTF2.load(str(model_file))
        except Exception as e:  # noqa: BLE001 -- pygltflib raises anything on a bad file
            raise PosetrackError(f"cannot read {model_file} to copy its mesh: {e}") from e
        base = Path(model_file).parent
    else:
        rig = clip.rig
        figure = (
            figure_document(rig.names, rig.parents, rig.rest[:, :3, 3], mesh)
            if mesh is not None
            else skinned_gltf(_joint_table(clip), "character")
        )
        doc = GLTF2.gltf_from_json(json.dumps(figure))
        base = Path(".")
    blob = _merged_blob(doc, base)
    nodes = _joint_nodes(doc, clip.rig.names)
    worlds = _rest_worlds(doc)
    if user:  # the file's scene space vs the recording's axes (identity unless the loader
        # dropped a transform above the skeleton): from the first top joint's rest transform
        root = clip.rig.roots[0]
        rest_yup = _to_yup(clip.rig.rest[root])
        space = worlds[nodes[root]] @ np.linalg.inv(rest_yup)
    else:  # the generated figure's joints are world-aligned: no rest rotation to carry
        space = np.eye(4)
        worlds = {n: _translation(w) for n, w in worlds.items()}
    _add_animation(doc, blob, clip, nodes, worlds, space)
    _save(doc, blob, Path(path))


def _joint_table(clip: MotionClip) -> dict:
    rig, rest = clip.rig, clip.rest_positions()
    return {
        name: (None if p < 0 else rig.names[p], tuple(rest[i]))
        for i, (name, p) in enumerate(zip(rig.names, rig.parents, strict=True))
    }


def _add_animation(
    doc: GLTF2,
    blob: bytearray,
    clip: MotionClip,
    nodes: list[int],
    worlds: dict[int, np.ndarray],
    space: np.ndarray,
) -> None:
    frames = len(clip.times)
    turn = rotation_part(space[None])[0]
    deltas = turn @ clip.world_deltas() @ turn.T  # (F, J, 3, 3) in the file's scene axes
    parent_of = {c: i for i, n in enumerate(doc.nodes) for c in (n.children or [])}
    joint_of_node = {n: j for j, n in enumerate(nodes)}
    rest_rot = {n: rotation_part(w[None])[0] for n, w in worlds.items()}

    def pose_world(node: int | None) -> np.ndarray:  # (F, 3, 3) a node's world rotation
        if node is None:
            return np.broadcast_to(np.eye(3), (frames, 3, 3))
        if node in joint_of_node:
            return deltas[:, joint_of_node[node]] @ rest_rot[node]
        return np.broadcast_to(rest_rot[node], (frames, 3, 3))

    times = np.append(clip.times, frames * clip.frame_time)
    times32 = times.astype(np.float32)
    low = times32.astype(np.float64) < times
    times32[low] = np.nextafter(times32[low], np.float32(np.inf))
    hold = np.concatenate([np.arange(frames), [frames - 1]])
    time_acc = _accessor(doc, blob, times32.reshape(-1, 1), "SCALAR", bounds=True)
    samplers, channels = [], []
    for j, node in enumerate(nodes):
        parent = parent_of.get(node)
        local = np.swapaxes(pose_world(parent), -1, -2) @ pose_world(node)
        quats = _quaternions(local[hold])
        samplers.append(
            pygltflib.AnimationSampler(
                input=time_acc, output=_accessor(doc, blob, quats, "VEC4"), interpolation="LINEAR"
            )
        )
        channels.append(pygltflib.AnimationChannel(
            sampler=len(samplers) - 1,
            target=pygltflib.AnimationChannelTarget(node=node, path="rotation")))  # fmt: skip
        if clip.rig.parents[j] >= 0:
            continue
        # a top joint also moves: its position in its parent node's frame
        world = np.c_[clip.positions()[:, j], np.ones(frames)] @ space.T
        above = worlds[parent] if parent is not None else np.eye(4)
        local_pos = (world @ np.linalg.inv(above).T)[:, :3]
        samplers.append(
            pygltflib.AnimationSampler(
                input=time_acc,
                output=_accessor(doc, blob, local_pos[hold], "VEC3"),
                interpolation="LINEAR",
            )
        )
        channels.append(pygltflib.AnimationChannel(
            sampler=len(samplers) - 1,
            target=pygltflib.AnimationChannelTarget(node=node, path="translation")))  # fmt: skip
    doc.animations.append(
        pygltflib.Animation(name=ANIMATION_NAME, samplers=samplers, channels=channels)
    )


def _joint_nodes(doc: GLTF2, names: tuple[str, ...]) -> list[int]:
    """The node of each rig joint, by name (skin joints first: that is what the loader used)."""
    skin_nodes = [n for skin in doc.skins for n in skin.joints]
    by_name: dict[str, int] = {}
    for n in skin_nodes + list(range(len(doc.nodes))):
        by_name.setdefault(doc.nodes[n].name or f"bone{n}", n)
    missing = [name for name in names if name not in by_name]
    if missing:
        raise PosetrackError(f"the glTF file has no nodes for joints {', '.join(missing)}")
    return [by_name[name] for name in names]


def _rest_worlds(doc: GLTF2) -> dict[int, np.ndarray]:
    """Every node's rest world transform (column-vector 4x4), from the scenes' roots."""
    worlds: dict[int, np.ndarray] = {}

    def visit(node: int, parent: np.ndarray) -> None:
        worlds[node] = parent @ _local(doc.nodes[node])
        for child in doc.nodes[node].children or []:
            visit(child, worlds[node])

    children = {c for n in doc.nodes for c in (n.children or [])}
    for node in range(len(doc.nodes)):
        if node not in children:
            visit(node, np.eye(4))
    return worlds


def _local(node: pygltflib.Node) -> np.ndarray:
    if node.matrix:
        return np.array(node.matrix, dtype=np.float64).reshape(4, 4).T  # column-major
    t = np.array(node.translation or (0.0, 0.0, 0.0))
    x, y, z, w = node.rotation or (0.0, 0.0, 0.0, 1.0)
    s = np.array(node.scale or (1.0, 1.0, 1.0))
    r = quat.to_matrix(np.array([w, x, y, z]))
    out = np.eye(4)
    out[:3, :3] = r * s
    out[:3, 3] = t
    return out


def _translation(mat: np.ndarray) -> np.ndarray:
    out = np.eye(4)
    out[:3, 3] = mat[:3, 3]
    return out


def _to_yup(mat: np.ndarray) -> np.ndarray:
    c = np.eye(4)
    c[:3, :3] = PANDA_TO_YUP
    return c @ mat @ c.T


def _quaternions(rot: np.ndarray) -> np.ndarray:
    """(F, 3, 3) -> (F, 4) unit quaternions (x, y, z, w), each in the hemisphere of the one
    before it (no sign flips between keys)."""
    q = quat.from_matrix(rot)[:, [1, 2, 3, 0]]  # (w, x, y, z) -> glTF's (x, y, z, w)
    for f in range(1, len(q)):
        if q[f] @ q[f - 1] < 0:
            q[f] = -q[f]
    return q.astype(np.float32)


def _accessor(doc: GLTF2, blob: bytearray, data: np.ndarray, kind: str, bounds=False) -> int:
    raw = np.ascontiguousarray(data, dtype=np.float32)
    blob.extend(b"\0" * (-len(blob) % 4))
    doc.bufferViews.append(
        pygltflib.BufferView(buffer=0, byteOffset=len(blob), byteLength=raw.nbytes)
    )
    blob.extend(raw.tobytes())
    accessor = pygltflib.Accessor(bufferView=len(doc.bufferViews) - 1, componentType=_FLOAT,
                                  count=len(raw), type=kind)  # fmt: skip
    if bounds:  # required on an animation input
        accessor.min, accessor.max = raw.min(axis=0).tolist(), raw.max(axis=0).tolist()
    doc.accessors.append(accessor)
    return len(doc.accessors) - 1


def _merged_blob(doc: GLTF2, base: Path) -> bytearray:
    """All of the document's buffers (and relative image files) as one blob: buffer 0."""
    blob, starts = bytearray(), []
    for buffer in doc.buffers:
        data = doc.binary_blob() if buffer.uri is None else _uri_bytes(doc, buffer.uri, base)
        blob.extend(b"\0" * (-len(blob) % 8))
        starts.append(len(blob))
        blob.extend(data or b"")
    for view in doc.bufferViews:
        view.byteOffset = (view.byteOffset or 0) + starts[view.buffer]
        view.buffer = 0
    for image in doc.images:
        if image.uri is None:
            continue
        data = _uri_bytes(doc, image.uri, base)
        blob.extend(b"\0" * (-len(blob) % 4))
        doc.bufferViews.append(
            pygltflib.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(data))
        )
        blob.extend(data)
        if image.mimeType is None and not image.uri.startswith("data:"):
            image.mimeType = mimetypes.guess_type(image.uri)[0] or "image/png"
        elif image.uri.startswith("data:"):
            image.mimeType = image.mimeType or image.uri[5:].split(";")[0]
        image.uri, image.bufferView = None, len(doc.bufferViews) - 1
    doc.buffers = [pygltflib.Buffer(byteLength=len(blob))]
    return blob


def _uri_bytes(doc: GLTF2, uri: str, base: Path) -> bytes:
    if uri.startswith("data:"):
        return base64.b64decode(uri.split(",", 1)[1])
    path = base / unquote(uri)
    try:
        return path.read_bytes()
    except OSError as e:
        raise PosetrackError(f"cannot read {path}, which the character file uses: {e}") from e


def _save(doc: GLTF2, blob: bytearray, path: Path) -> None:
    doc.buffers[0].byteLength = len(blob)
    generator = doc.asset.generator
    doc.asset.generator = f"posetrack motion recording ({generator or 'rig'})"
    if path.suffix.lower() == ".glb":
        doc.buffers[0].uri = None
        doc.set_binary_blob(bytes(blob))
        doc.save_binary(str(path))
    else:
        doc.destroy_binary_blob()
        encoded = base64.b64encode(bytes(blob)).decode("ascii")
        doc.buffers[0].uri = "data:application/octet-stream;base64," + encoded
        doc.save_json(str(path))
