"""Where downloaded sources and converted models live between runs."""

import os
from pathlib import Path


def cache_dir() -> Path:
    """`$POSETRACK_CACHE`, else `$XDG_CACHE_HOME/posetrack`, else `~/.cache/posetrack`."""
    if env := os.environ.get("POSETRACK_CACHE"):
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "posetrack"
