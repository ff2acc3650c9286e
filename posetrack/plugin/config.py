"""The plugin's settings: a typed dataclass, also settable from Panda3D PRC variables.

Each field `name` has a PRC variable `posetrack-name` (underscores as dashes), read the way
panda3d-simplepbr reads its `simplepbr-*` variables: through ConfigVariable objects, so a line
in the game's own .prc file or `load_prc_file_data` sets it. Precedence: explicit arguments,
then PRC, then the defaults below. A bad value is a PosetrackError naming the variable.

    posetrack-source      webcam:0 | FILE | FOLDER | sample:NAME
    posetrack-model       blazepose-full | blazepose-lite | blazepose-heavy | posenet | movenet-*
    posetrack-device      auto | cpu | cuda            (where ONNX Runtime runs the model)
    posetrack-preprocess  auto | gpu | cpu             (crop: compute shader or OpenCV)
    posetrack-decode      auto | gpu | cpu             (heatmap decode: compute shader or numpy)
    posetrack-smoothing   true | false                 (One Euro filter on the tracked pose)
    posetrack-max-poses   1, 2, ...                    (people to report, multi-person models)
"""

from dataclasses import dataclass, fields, replace
from typing import Any

from posetrack.components.tracker import Backend, Device, TrackerConfig
from posetrack.errors import PosetrackError
from posetrack.models import zoo

PRC_PREFIX = "posetrack-"
_CHOICES: dict[str, tuple[str, ...]] = {
    "device": ("auto", "cpu", "cuda"),
    "preprocess": ("auto", "gpu", "cpu"),
    "decode": ("auto", "gpu", "cpu"),
}
# the spellings Panda3D's own ConfigVariableBool accepts, plus on/off and yes/no
_TRUE = ("1", "#t", "t", "true", "on", "yes")
_FALSE = ("0", "#f", "f", "false", "off", "no")


@dataclass
class TrackingConfig:
    """What `posetrack.init()` tracks with. Build one with `from_prc(**overrides)` to let PRC
    variables fill what the arguments leave out; a TrackingConfig you build yourself is used
    as it is (every field explicit)."""

    source: str = "webcam:0"  # camera `webcam:N`, a video, an image, a folder, `sample:NAME`
    model: str = "blazepose-full"  # a pose model of posetrack.models.zoo
    device: Device = "auto"  # where ONNX Runtime runs the model: cuda if it can, else cpu
    preprocess: Backend = "auto"  # crop: compute shader (gpu) or OpenCV (cpu); auto: by renderer
    decode: Backend = "auto"  # heatmap decode: compute shader (gpu) or numpy (cpu); auto: ditto
    smoothing: bool = True  # One Euro filter (MediaPipe's values) before characters read it
    max_poses: int = 1  # people reported per frame by multi-person models (PoseNet, MultiPose)

    @classmethod
    def from_prc(cls, **overrides: Any) -> "TrackingConfig":
        """Defaults, overridden by the `posetrack-*` PRC variables that are set, overridden by
        `overrides`; validated."""
        check_options(overrides)
        values: dict[str, Any] = {}
        for name in {f.name for f in fields(cls)} - set(overrides):
            raw = prc_value(name)
            if raw is not None:
                values[name] = _parse(name, raw, f"PRC variable {prc_name(name)}")
        config = replace(cls(), **values, **overrides)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise PosetrackError naming the first field with a value that cannot work."""
        for name in [f.name for f in fields(self)]:
            _check(name, getattr(self, name), name)

    @property
    def tracker(self) -> TrackerConfig:
        """The TrackerConfig component the tracker entity carries."""
        return TrackerConfig(self.model, self.device, self.preprocess, self.decode, self.smoothing)


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """`options` (keyword arguments), after checking each is a field with a usable value."""
    names = {f.name for f in fields(TrackingConfig)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise PosetrackError(
            f"unknown tracking option {', '.join(unknown)}; options: {', '.join(sorted(names))}"
        )
    for name, value in options.items():
        _check(name, value, name)
    return options


def prc_name(field_name: str) -> str:
    """`max_poses` -> `posetrack-max-poses`."""
    return PRC_PREFIX + field_name.replace("_", "-")


def prc_value(field_name: str) -> str | None:
    """The PRC variable's value as written, or None when no loaded page sets it."""
    from panda3d.core import ConfigVariableString  # lazy: settings import no Panda3D until read

    variable = ConfigVariableString(prc_name(field_name), "")
    return variable.get_value().strip() if variable.has_value() else None


def _parse(name: str, raw: str, what: str) -> Any:
    """A PRC string as the field's type, checked; errors name `what` (the variable)."""
    value: Any = raw
    if name == "smoothing":
        if raw.lower() not in _TRUE + _FALSE:
            raise PosetrackError(f"{what} is {raw!r}: use true or false")
        value = raw.lower() in _TRUE
    elif name == "max_poses":
        try:
            value = int(raw)
        except ValueError:
            raise PosetrackError(f"{what} is {raw!r}: use a whole number >= 1") from None
    _check(name, value, what)
    return value


def _check(name: str, value: Any, what: str) -> None:
    if name in _CHOICES and value not in _CHOICES[name]:
        raise PosetrackError(f"{what} is {value!r}: use {', '.join(_CHOICES[name])}")
    if name == "smoothing" and not isinstance(value, bool):
        raise PosetrackError(f"{what} is {value!r}: use True or False")
    if name == "max_poses" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise PosetrackError(f"{what} is {value!r}: use a whole number >= 1")
    if name == "source" and (not isinstance(value, str) or not value.strip()):
        raise PosetrackError(f"{what} is {value!r}: use webcam:N, a file, a folder or sample:NAME")
    if name == "model" and value not in pose_models():
        raise PosetrackError(f"{what} is {value!r}: use one of {', '.join(pose_models())}")


def pose_models() -> list[str]:
    """Names of the zoo's pose models (the detector is not one)."""

    return [name for name in zoo.names() if zoo.spec(name).keypoints]
