"""The tracker's settings from a game: arguments, then Panda3D PRC variables, then defaults.

The settings type is components/tracker.py `TrackingConfig`; this module reads and checks it.
Each field `name` has a PRC variable `posetrack-name` (underscores as dashes), read the way
panda3d-simplepbr reads its `simplepbr-*` variables: through ConfigVariable objects, so a line
in the game's own .prc file or `load_prc_file_data` sets it. Precedence: explicit arguments,
then PRC, then the defaults. A bad value is a PosetrackError naming the variable.
docs/config.md lists every variable with its default and meaning.
"""

import typing
from dataclasses import fields, replace
from typing import Any

from posetrack.components.tracker import TrackingConfig
from posetrack.errors import PosetrackError
from posetrack.models import zoo
from posetrack.motion.vmc import parse_target

PRC_PREFIX = "posetrack-"
# the spellings Panda3D's own ConfigVariableBool accepts, plus on/off and yes/no
_TRUE = ("1", "#t", "t", "true", "on", "yes")
_FALSE = ("0", "#f", "f", "false", "off", "no")
_HINTS = typing.get_type_hints(TrackingConfig)


def from_prc(**overrides: Any) -> TrackingConfig:
    """Defaults, overridden by the `posetrack-*` PRC variables that are set, overridden by
    `overrides`; validated."""
    check_options(overrides)
    values: dict[str, Any] = {}
    for name in {f.name for f in fields(TrackingConfig)} - set(overrides):
        raw = prc_value(name)
        if raw is not None:
            values[name] = _parse(name, raw, f"PRC variable {prc_name(name)}")
    config = replace(TrackingConfig(), **values, **overrides)
    validate(config)
    return config


def validate(config: TrackingConfig) -> None:
    """Raise PosetrackError naming the first field with a value that cannot work."""
    for f in fields(config):
        _check(f.name, getattr(config, f.name), f.name)


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


def choices(name: str) -> tuple[str, ...]:
    """The values a field takes: its Literal's, or the zoo's pose models; () when free."""
    if name == "model":
        return tuple(pose_models())
    return typing.get_args(_HINTS[name]) if typing.get_origin(_HINTS[name]) else ()


def help_of(name: str) -> str:
    """A field's one-line meaning (its `setting` help)."""
    return next(f.metadata["help"] for f in fields(TrackingConfig) if f.name == name)


def prc_name(field_name: str) -> str:
    """`max_poses` -> `posetrack-max-poses`."""
    return PRC_PREFIX + field_name.replace("_", "-")


def prc_value(field_name: str) -> str | None:
    """The PRC variable's value as written, or None when no loaded page sets it."""
    from panda3d.core import ConfigVariableString  # lazy: settings import no Panda3D until read

    variable = ConfigVariableString(prc_name(field_name), "")
    return variable.get_value().strip() if variable.has_value() else None


def pose_models() -> list[str]:
    """`auto`, then the names of the zoo's pose models (the detector is not one)."""
    return ["auto", *(name for name in zoo.names() if zoo.spec(name).keypoints)]


def _parse(name: str, raw: str, what: str) -> Any:
    """A PRC string as the field's type, checked; errors name `what` (the variable)."""
    value: Any = raw
    if _HINTS[name] is bool:
        if raw.lower() not in _TRUE + _FALSE:
            raise PosetrackError(f"{what} is {raw!r}: use true or false")
        value = raw.lower() in _TRUE
    elif _HINTS[name] is int:
        try:
            value = int(raw)
        except ValueError:
            raise PosetrackError(f"{what} is {raw!r}: use a whole number >= 1") from None
    _check(name, value, what)
    return value


def _check(name: str, value: Any, what: str) -> None:
    allowed = choices(name)
    if allowed and value not in allowed:
        lead = "one of " if name == "model" else ""  # a long list, read off the zoo
        raise PosetrackError(f"{what} is {value!r}: use {lead}{', '.join(allowed)}")
    if _HINTS[name] is bool and not isinstance(value, bool):
        raise PosetrackError(f"{what} is {value!r}: use True or False")
    if name == "max_poses" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise PosetrackError(f"{what} is {value!r}: use a whole number >= 1")
    if name == "vmc" and value != "":
        parse_target(value, what)  # HOST:PORT, or a PosetrackError naming `what`
    if name == "source" and (not isinstance(value, str) or not value.strip()):
        raise PosetrackError(f"{what} is {value!r}: use webcam:N, a file, a folder or sample:NAME")
