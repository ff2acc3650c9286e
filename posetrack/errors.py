"""User-facing errors: each message says what was wrong and what to do about it.

The CLI prints these as one line and exits non-zero; a host game catches `PosetrackError`.
"""


class PosetrackError(Exception):
    """Base class of every error caused by input, set-up or environment (not by a bug)."""


class SourceError(PosetrackError):
    """A camera, video, image or folder that cannot be opened or read."""


class ModelError(PosetrackError):
    """A model that cannot be fetched, converted, loaded or run."""


class UnsupportedModelError(ModelError):
    """A model file that is not one this project can convert (wrong format or operators)."""
