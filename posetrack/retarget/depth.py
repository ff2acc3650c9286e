"""Truer 3D limbs for characters: limb directions from the precise 2D keypoints, depth from
each bone's length.

The model's image keypoints are far more precise than its regressed depth. Per person this
keeps each long bone's length (upper/lower arm, upper/lower leg, left and right pooled: the
median over the last `HISTORY` frames of the world landmarks' lengths, so one frame's depth
error does not change a bone, raised to the `FLAT_PCT` percentile of its image length over the
scale: a bone is at least as long as it looks, and the world landmarks' arms are ~12% short on
the four-view clip) and a scale from the world landmarks to the image (pixels per
metre: the least-squares fit of the world landmarks' x, y to the image keypoints about the
hip centre, low-passed), which with the camera's focal length (`FOV_DEG` across the longer
side when unknown) places the hip centre's depth.

Each frame, the limb roots and inner joints sit on their pixels' viewing rays at the model's
depth; from each root outward, a joint is put on its own pixel's ray at its bone's length
from its (already placed) parent: of the two such points, the one nearer the model's guess
(parent + the model's bone), i.e. the model's depth sign. That depth is then fused with the
model's own along the ray, each weighted by its uncertainty: the solve's grows as the bone
nears the image plane (there a small length error moves the point far along the ray), the
model's is a fixed fraction of the bone. Hands and feet move with their wrist and ankle; the
torso and head stay the model's. Without the image size the weak-perspective form runs
(dz = sqrt(L^2 - dx^2 - dy^2) with the model's sign). Measured on four calibrated views in
docs/accuracy-3d.md.

`BoneDepth(names)(keypoints, world, (width, height))` returns the corrected world landmarks
(same axes: x right, y down, z away, metres, hip-centred); numpy over a dozen rows, ~0.15 ms
per person per frame here (benchmarks/multiview_consistency.py measures it).
"""

import numpy as np

# limb chains from the root outward: (joint, its parent)
_CHAINS = (
    ("elbow", "shoulder", "upper_arm"),
    ("wrist", "elbow", "lower_arm"),
    ("knee", "hip", "upper_leg"),
    ("ankle", "knee", "lower_leg"),
)
# what moves rigidly with a chain's end
_FOLLOW = {"wrist": ("pinky", "index", "thumb"), "ankle": ("heel", "foot_index")}
# 90 frames: 3 s at 30 fps (1.5 s at 60 fps): long enough that a median rides over a run of
# bad depth guesses, short enough to adapt when a new person steps in without a reset
HISTORY = 90
# the scale (pixels per metre) low-pass: EMA weight 0.2 per frame (~5 frames time constant):
# the person's distance changes slowly, single-frame fits jitter by a few percent
SCALE_ALPHA = 0.2
# weak perspective: below this |dz| / L the model's depth sign is a guess (~14 deg from the
# image plane): blend toward the model's dz
SIGN_BLEND = 0.25
# the solve's relative error in a bone's image length against its length (scale fit and length
# estimate together); 0.12 balanced median and p90 limb error on the four-view clip (0.07:
# median 0.6 deg better, p90 1.7 deg worse)
LENGTH_ERR = 0.12
# the model's depth error at a bone's end, in bone lengths (its world limbs are 12-20 deg off
# in median on the four-view clip: sin 15 deg ~ 0.25)
MODEL_ERR = 0.25
# a bone is at least as long as it ever looks in the image: this percentile of its image
# length over the history (over the scale) bounds the world landmarks' length from below
FLAT_PCT = 90.0
# the camera's field of view across the image's longer side when it is not known: 60 deg is a
# typical webcam's (and within 1 deg of the calibrated cameras of the four-view clip: 59.5)
FOV_DEG = 60.0


class BoneDepth:
    """Per-person state (bone length history, scale) and the per-frame solve."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = tuple(names)
        index = {n: i for i, n in enumerate(self.names)}
        self.bones: list[tuple[int, int, int]] = []  # (child row, parent row, bone id)
        bone_ids = {}
        for side in ("left", "right"):
            for child, parent, bone in _CHAINS:
                if f"{side}_{child}" in index and f"{side}_{parent}" in index:
                    bid = bone_ids.setdefault(bone, len(bone_ids))
                    self.bones.append((index[f"{side}_{child}"], index[f"{side}_{parent}"], bid))
        self.follow = {
            index[f"{side}_{end}"]: [index[f"{side}_{f}"] for f in fs if f"{side}_{f}" in index]
            for side in ("left", "right")
            for end, fs in _FOLLOW.items()
            if f"{side}_{end}" in index
        }
        self._hips = [index[n] for n in ("left_hip", "right_hip") if n in index]
        self._body = sorted({r for c, p, _ in self.bones for r in (c, p)})
        self._child = np.array([c for c, _, _ in self.bones], dtype=int)
        self._parent = np.array([p for _, p, _ in self.bones], dtype=int)
        self._bone_id = np.array([b for _, _, b in self.bones], dtype=int)
        self._history = np.zeros((HISTORY, len(bone_ids)))
        self._flat = np.zeros((HISTORY, len(bone_ids)))
        self._count = 0
        self._scale: float | None = None

    @property
    def usable(self) -> bool:
        return bool(self.bones) and len(self._hips) == 2

    def reset(self) -> None:
        """Forget the person (lost, or someone else)."""
        self._count = 0
        self._scale = None

    def lengths(self) -> np.ndarray:
        """The current bone length estimates (metres), per bone id."""
        filled = min(self._count, HISTORY)
        world = np.median(self._history[:filled], axis=0)
        flat = np.percentile(self._flat[:filled], FLAT_PCT, axis=0)
        return np.maximum(world, flat)

    def __call__(
        self, keypoints: np.ndarray, world: np.ndarray, size: tuple[int, int] | None = None
    ) -> np.ndarray:
        """Corrected world landmarks for one frame: keypoints (K, >=2) source pixels, world
        (K, 3) metres, size (width, height) of the source image (None: weak perspective)."""
        world = np.asarray(world, dtype=np.float64)
        if not self.usable:
            return world
        image = np.asarray(keypoints, dtype=np.float64)[:, :2]
        scale = self._fit_scale(image, world)
        if scale is None:
            return world
        self._observe(world, image, scale)
        if size is None:
            return self._solve_weak(image, world, scale)
        return self._solve_rays(image, world, scale, size)

    def _solve_weak(self, image: np.ndarray, world: np.ndarray, scale: float) -> np.ndarray:
        lengths = self.lengths()
        out = world.copy()
        for child, parent, bone in self.bones:  # chain order: a parent is placed first
            length = lengths[bone]
            flat = (image[child] - image[parent]) / scale
            dz_model = world[child, 2] - world[parent, 2]
            depth2 = length * length - float(flat @ flat)
            dz = np.copysign(np.sqrt(depth2) if depth2 > 0.0 else 0.0, dz_model)
            trust = min(1.0, abs(dz_model) / (SIGN_BLEND * length)) if length > 0 else 0.0
            dz = trust * dz + (1.0 - trust) * dz_model
            self._place(out, world, child, parent, np.array([flat[0], flat[1], dz]), length)
        return out

    def _solve_rays(
        self, image: np.ndarray, world: np.ndarray, scale: float, size: tuple[int, int]
    ) -> np.ndarray:
        """Perspective: each joint on its pixel's viewing ray, at its bone's length from its
        parent; the camera has FOV_DEG across the image's longer side."""
        focal = 0.5 * max(size) / np.tan(np.radians(FOV_DEG) / 2.0)
        centre = np.array(size, dtype=np.float64) / 2.0
        rays = np.column_stack([(image - centre) / focal, np.ones(len(image))])
        hip_world = world[self._hips].mean(axis=0)
        distance = focal / scale  # the hip centre's depth: pixels per metre at that depth
        place = {}  # row -> camera-frame position (metres)
        for row in {p for _, p, _ in self.bones}:  # roots and inner joints: the model's depth
            place[row] = rays[row] * (distance + world[row, 2] - hip_world[2])
        lengths = self.lengths()
        out = world.copy()
        for child, parent, bone in self.bones:
            length = lengths[bone]
            start = place[parent]
            unit = rays[child] / np.linalg.norm(rays[child])
            along = float(unit @ start)  # closest point of the ray to the parent
            disc = along * along - float(start @ start) + length * length
            reach = np.sqrt(disc) if disc > 0.0 else 0.0
            # of the two points at the bone's length (nearer, farther), the one nearer the
            # model's own guess for this joint: its depth sign, where it has one
            guess = start + (world[child] - world[parent])
            near, far = unit * (along - reach), unit * (along + reach)
            pick_far = np.sum((far - guess) ** 2) < np.sum((near - guess) ** 2)
            solved = along + reach if pick_far else along - reach
            # fused with the model's depth along the ray, each by its uncertainty: the solve's
            # grows as the bone nears the image plane (d reach = L dL / reach)
            sigma_solved = LENGTH_ERR * length * length / max(reach, 1e-3 * length)
            sigma_model = MODEL_ERR * length
            weight = sigma_model**2 / (sigma_model**2 + sigma_solved**2)
            place[child] = unit * (weight * solved + (1.0 - weight) * float(unit @ guess))
            self._place(out, world, child, parent, place[child] - start, length)
        return out

    def _place(
        self, out: np.ndarray, world: np.ndarray, child: int, parent: int, step: np.ndarray,
        length: float,
    ) -> None:  # fmt: skip
        norm = np.linalg.norm(step)
        if norm < 1e-9:
            return
        out[child] = out[parent] + step * (length / norm)
        for row in self.follow.get(child, ()):  # hands, feet: moved with their joint
            out[row] = world[row] + (out[child] - world[child])

    def _observe(self, world: np.ndarray, image: np.ndarray, scale: float) -> None:
        per_bone = np.linalg.norm(world[self._child] - world[self._parent], axis=1)
        counts = np.bincount(self._bone_id)
        self._history[self._count % HISTORY] = np.bincount(self._bone_id, per_bone) / counts
        flat = np.linalg.norm(image[self._child] - image[self._parent], axis=1) / scale
        self._flat[self._count % HISTORY] = np.bincount(self._bone_id, flat) / counts
        self._count += 1

    def _fit_scale(self, image: np.ndarray, world: np.ndarray) -> float | None:
        rows = self._body
        img = image[rows] - image[self._hips].mean(axis=0)
        flat = world[rows, :2] - world[self._hips, :2].mean(axis=0)
        denom = float(np.sum(flat * flat))
        if denom < 1e-9:
            return self._scale
        scale = float(np.sum(img * flat)) / denom
        if scale <= 0.0:
            return self._scale
        self._scale = scale if self._scale is None else (
            SCALE_ALPHA * scale + (1.0 - SCALE_ALPHA) * self._scale
        )  # fmt: skip
        return self._scale
