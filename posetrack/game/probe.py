"""What the headless mode reports: a summary of the character's joint rotations each frame, and
the machine-readable lines (JSON, one per second of game time and one at the end)."""

import hashlib
import json
import statistics
import sys
from typing import Any

import numpy as np
from panda3d.core import NodePath

from posetrack.retarget import quat

_DIGITS = 3  # quaternion components to 0.001 (~0.1 deg): float noise never changes a digest


class PoseProbe:
    """Reads the actor's joints (exposed, in the actor's space) after each animate step."""

    def __init__(self, actor: object, skeleton: object) -> None:
        self.actor = actor
        self.rest = skeleton.rest_world_quats
        self.nodes: dict[str, NodePath] = {
            bone: actor.expose_joint(None, "modelRoot", joint)
            for bone, joint in skeleton.joint_of.items()
        }

    def position(self, bone: str) -> np.ndarray:
        """A joint's position in the actor's space now."""
        return np.array(self.nodes[bone].get_pos(self.actor))

    def quats(self) -> dict[str, np.ndarray]:
        out = {}
        for bone, node in self.nodes.items():
            q = node.get_quat(self.actor)
            out[bone] = quat.normalize(np.array([q.get_r(), q.get_i(), q.get_j(), q.get_k()]))
        return out

    def summary(self) -> dict[str, Any]:
        """`rotation_deg`: mean angle of the bones from their rest orientation; `digest`: a
        short hash of every bone's rounded rotation (equal digests: the same pose)."""
        quats = self.quats()
        angles = []
        for bone, q in quats.items():
            dot = abs(float(np.dot(q, self.rest[bone])))
            angles.append(float(np.degrees(2 * np.arccos(min(1.0, dot)))))
        flat = np.round(np.concatenate([q * np.sign(q[0] or 1) for q in quats.values()]), _DIGITS)
        digest = hashlib.sha1((flat + 0.0).tobytes()).hexdigest()[:12]
        return {"rotation_deg": round(statistics.fmean(angles), 2), "digest": digest}


class Report:
    """Collects per-frame figures; prints JSON lines to stdout (flushed: a test reads them)."""

    def __init__(self) -> None:
        self.frames = 0
        self.tracked = 0
        self.digests: list[str] = []
        self.latencies: list[float] = []
        self.rotations: list[float] = []

    def frame(self, pose: dict[str, Any], tracking: bool, latency_ms: float | None) -> None:
        self.frames += 1
        self.tracked += int(tracking)
        self.digests.append(pose["digest"])
        self.rotations.append(pose["rotation_deg"])
        if latency_ms is not None:
            self.latencies.append(latency_ms)

    @staticmethod
    def line(kind: str, **fields: Any) -> None:
        print(json.dumps({"type": kind, **fields}), flush=True)
        sys.stdout.flush()

    def summary_fields(self) -> dict[str, Any]:
        median = statistics.median(self.latencies) if self.latencies else None
        return {
            "frames": self.frames,
            "tracked_frames": self.tracked,
            "distinct_poses": len(set(self.digests)),
            "rotation_deg_min": min(self.rotations, default=0.0),
            "rotation_deg_max": max(self.rotations, default=0.0),
            "latency_ms_median": None if median is None else round(median, 1),
        }
