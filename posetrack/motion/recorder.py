"""Record a driven character's joints frame by frame, then write them as BVH or glTF animation.

`MotionRecorder(actor)` reads the Actor's whole rig once (every joint of the part, the rig's
own names and hierarchy, the rest pose: the joints' default transforms) and `capture(time)`
stores each joint's current transform, composed down the tree into Actor space, after the
animate stage has moved it. Buffering is a (J, 4, 4) array per frame; nothing is written before
`write(path)`, so recording costs the host's frame a few microseconds per joint.

The files share one convention (motion/axes below): every joint's rest frame is aligned with the
file's axes, +Y up, the character facing +Z, its left on +X, metres; a joint's rotation is its
world rotation away from rest, relative to its parent's. The rest pose is then zero rotations
everywhere, and world positions follow from the rest offsets exactly (no joint but the root
moves away from its parent).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from panda3d.core import LMatrix4f, PartGroup

from posetrack.errors import PosetrackError

# Panda3D's Actor space (Z up, the character facing -Y, its left on +X) -> the files' axes
# (Y up, facing +Z, left on +X: glTF's axes and BVH's usual ones): (x, y, z) -> (x, z, -y),
# a rotation (det +1), so no handedness flips.
PANDA_TO_YUP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

MOTION_SUFFIXES = (".bvh", ".glb", ".gltf")


@dataclass(frozen=True)
class Rig:
    """A character's joints, parents first: names, parent indices, rest transforms."""

    names: tuple[str, ...]
    parents: tuple[int, ...]  # index of each joint's parent joint, -1 for a top joint
    rest: np.ndarray  # (J, 4, 4) rest transforms in Actor space, column-vector form

    @property
    def roots(self) -> list[int]:
        return [i for i, p in enumerate(self.parents) if p < 0]

    def children(self, joint: int) -> list[int]:
        return [i for i, p in enumerate(self.parents) if p == joint]


@dataclass(frozen=True)
class MotionClip:
    """What a recording holds: the rig, the frame rate, per-frame times and joint transforms."""

    rig: Rig
    fps: float
    times: np.ndarray  # (F,) seconds from the first frame
    poses: np.ndarray  # (F, J, 4, 4) joint transforms in Actor space, column-vector form

    @property
    def frame_time(self) -> float:
        return 1.0 / self.fps

    def uniform(self) -> "MotionClip":
        """One frame every 1/fps from the first: each slot holds the newest capture at or before
        its time (a file's frames map one to one; a camera's dropped frames hold the pose)."""
        if len(self.times) == 0:
            return self
        count = int(round(self.times[-1] * self.fps)) + 1
        slots = np.arange(count) / self.fps
        # half a frame of slack: capture times of a live source jitter around the frame grid
        index = np.searchsorted(self.times, slots + 0.5 / self.fps, side="right") - 1
        index = np.clip(index, 0, len(self.times) - 1)
        return MotionClip(self.rig, self.fps, slots, self.poses[index])

    def positions(self) -> np.ndarray:
        """(F, J, 3) joint origins in the files' axes (Y up), metres."""
        return self.poses[:, :, :3, 3] @ PANDA_TO_YUP.T

    def world_deltas(self) -> np.ndarray:
        """(F, J, 3, 3) each joint's world rotation away from its rest, in the files' axes."""
        rest = rotation_part(self.rig.rest)
        now = rotation_part(self.poses)
        delta = now @ np.swapaxes(rest, -1, -2)[None]
        return PANDA_TO_YUP @ delta @ PANDA_TO_YUP.T

    def local_rotations(self) -> np.ndarray:
        """(F, J, 3, 3) each joint's delta relative to its parent's delta: the rotation a file
        with world-aligned rest frames stores for it (a top joint: its world delta)."""
        world = self.world_deltas()
        parents = np.array(self.rig.parents)
        parent_world = np.where(
            (parents >= 0)[None, :, None, None], world[:, np.maximum(parents, 0)], np.eye(3)
        )
        return np.swapaxes(parent_world, -1, -2) @ world

    def rest_positions(self) -> np.ndarray:
        """(J, 3) rest joint origins in the files' axes."""
        return self.rig.rest[:, :3, 3] @ PANDA_TO_YUP.T


def rotation_part(mats: np.ndarray) -> np.ndarray:
    """The rotation of (..., 4, 4) transforms without their scale (polar decomposition)."""
    u, _, vt = np.linalg.svd(mats[..., :3, :3])
    r = u @ vt
    flip = np.linalg.det(r) < 0  # a mirrored joint: keep a proper rotation
    if np.any(flip):
        u = u.copy()
        u[flip, :, 2] *= -1
        r = u @ vt
    return r


def rig_of(actor: object, part: str = "modelRoot") -> tuple[Rig, list[object]]:
    """The Actor's rig (every CharacterJoint of `part`) and its joints, parents first."""
    bundle = actor.getPartBundle(part)
    if bundle is None:
        raise PosetrackError(f"the actor has no part {part!r}")
    names: list[str] = []
    parents: list[int] = []
    joints: list[object] = []

    def walk(group: PartGroup, parent: int) -> None:
        for i in range(group.get_num_children()):
            child, owner = group.get_child(i), parent
            if hasattr(child, "get_default_value"):  # a CharacterJoint
                names.append(child.get_name())
                parents.append(parent)
                joints.append(child)
                owner = len(names) - 1
            walk(child, owner)

    walk(bundle, -1)
    if not names:
        raise PosetrackError("the character has no joints to record")
    recorder_root = _root_matrix(actor, bundle, part)
    rest = _compose([_column(j.get_default_value()) for j in joints], parents, recorder_root)
    return Rig(tuple(names), tuple(parents), rest), joints


class MotionRecorder:
    """Buffers a character's joint transforms per captured frame; `write()` makes the file."""

    def __init__(
        self,
        actor: object,
        fps: float,
        model_file: str | Path | None = None,
        part: str = "modelRoot",
    ) -> None:
        """`fps`: the source's frame rate (the files' frame time is 1/fps); `model_file`: the
        character's own .gltf/.glb file, which a glTF recording copies its mesh from."""
        if not fps > 0:
            raise PosetrackError(f"cannot record at {fps} frames per second")
        self.fps = float(fps)
        self.model_file = Path(model_file) if model_file is not None else None
        self.rig, self._joints = rig_of(actor, part)
        self.mesh = None  # the character's own mesh, for a glTF of a non-glTF character
        if self.model_file is None or self.model_file.suffix.lower() not in (".gltf", ".glb"):
            from posetrack.motion.gltf_figure import actor_mesh

            self.mesh = actor_mesh(actor, self.rig.names)
        self._root = _root_matrix(actor, actor.getPartBundle(part), part)
        self._times: list[float] = []
        self._locals: list[np.ndarray] = []  # (J, 4, 4) local values: composed in clip()
        self._scratch = LMatrix4f()

    @property
    def frames(self) -> int:
        return len(self._times)

    def capture(self, time: float) -> None:
        """Store the joints as they are now (after actor.update()); `time`: seconds. A time
        not after the last one's (the same frame again) is skipped."""
        if self._times and time <= self._times[-1]:
            return
        values = np.empty((len(self._joints), 16))
        for i, joint in enumerate(self._joints):
            joint.get_transform(self._scratch)  # the current local value (animation applied)
            values[i] = np.ravel(self._scratch)
        self._times.append(float(time))
        self._locals.append(values)

    def clip(self) -> MotionClip:
        times = np.array(self._times, dtype=np.float64)
        if len(times):
            times -= times[0]
        poses = np.zeros((len(times), len(self.rig.names), 4, 4))
        for f, values in enumerate(self._locals):  # Panda's row-vector matrices, transposed
            local = values.reshape(-1, 4, 4).swapaxes(-1, -2)
            poses[f] = _compose(list(local), self.rig.parents, self._root)
        return MotionClip(self.rig, self.fps, times, poses)

    def write(self, path: str | Path, target: str | Path | None = None) -> None:
        """Write the recording to `path` (format by `target`'s suffix, default `path`'s):
        .bvh, or .glb/.gltf (the character's mesh with the clip on its skin)."""
        suffix = check_motion_suffix(target if target is not None else path)
        clip = self.clip().uniform()
        if clip.poses.shape[0] == 0:
            raise PosetrackError(f"nothing to write to {target or path}: no frame was recorded")
        if suffix == ".bvh":
            from posetrack.motion.bvh import write_bvh

            write_bvh(path, clip)
        else:
            from posetrack.motion.gltf_anim import write_gltf_animation

            write_gltf_animation(path, clip, self.model_file, self.mesh)


def check_motion_suffix(path: str | Path) -> str:
    """The recording format by suffix; one clear error for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in MOTION_SUFFIXES:
        raise PosetrackError(
            f"cannot record motion to {path}: unknown format {suffix or '(no suffix)'}; "
            "use .bvh, .glb or .gltf"
        )
    return suffix


def _root_matrix(actor: object, bundle: object, part: str) -> np.ndarray:
    root = LMatrix4f(bundle.get_root_xform()) * actor.getPart(part).getMat(actor)
    return _column(root)


def _column(mat: object) -> np.ndarray:
    """A Panda3D row-vector matrix as a column-vector numpy matrix."""
    return np.array([tuple(mat.get_row(i)) for i in range(4)], dtype=np.float64).T


def _compose(local: list[np.ndarray], parents: tuple[int, ...] | list[int], root: np.ndarray):
    """Compose local transforms down the tree (parents come first) into Actor space."""
    out = np.empty((len(local), 4, 4))
    for i, (mat, parent) in enumerate(zip(local, parents, strict=True)):
        out[i] = (root if parent < 0 else out[parent]) @ mat
    return out
