"""Keypoint names (snake_case, model order) and the bones drawn between them."""

BLAZEPOSE_33: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
    "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

COCO_17: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

_LIMBS: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
)  # fmt: skip

_BLAZEPOSE_EXTRA: tuple[tuple[str, str], ...] = (
    ("nose", "left_eye_inner"), ("left_eye_inner", "left_eye"), ("left_eye", "left_eye_outer"),
    ("left_eye_outer", "left_ear"), ("nose", "right_eye_inner"),
    ("right_eye_inner", "right_eye"), ("right_eye", "right_eye_outer"),
    ("right_eye_outer", "right_ear"), ("mouth_left", "mouth_right"),
    ("left_wrist", "left_pinky"), ("left_wrist", "left_index"), ("left_pinky", "left_index"),
    ("left_wrist", "left_thumb"), ("right_wrist", "right_pinky"),
    ("right_wrist", "right_index"), ("right_pinky", "right_index"),
    ("right_wrist", "right_thumb"), ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"), ("right_ankle", "right_heel"),
    ("right_heel", "right_foot_index"), ("right_ankle", "right_foot_index"),
)  # fmt: skip

_COCO_EXTRA: tuple[tuple[str, str], ...] = (
    ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
    ("right_eye", "right_ear"),
)  # fmt: skip


def bones(names: tuple[str, ...]) -> list[tuple[int, int]]:
    """Index pairs of the bones to draw for a model with these keypoint names."""
    extra = _BLAZEPOSE_EXTRA if names == BLAZEPOSE_33 else _COCO_EXTRA
    index = {name: i for i, name in enumerate(names)}
    return [(index[a], index[b]) for a, b in _LIMBS + extra if a in index and b in index]
