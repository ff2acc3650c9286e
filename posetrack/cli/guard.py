"""The one place where a user's mistake becomes one line and an exit code, for both commands
(`posetrack`, `posetrack-demo`): what was wrong and what to do, never a traceback.

    2    a PosetrackError (bad file, model, option, scene), or a path the system refuses
    130  Ctrl+C
    141  the reader of standard output went away (`posetrack track CLIP | head`)
"""

import os
import sys
from collections.abc import Callable

from posetrack.errors import PosetrackError

MESSAGE_LIMIT = 500  # characters: a path can be absurdly long; the line must stay one line


def run_guarded(prog: str, command: Callable[[], int]) -> int:
    """`command()`'s exit code, or the code of the user mistake it raised, said in one line."""
    # our own commands say one line per mistake: FFmpeg's own complaints about a damaged video
    # ("partial file", "moov atom not found") stay off unless the user asks for them with the
    # variable (AV_LOG_QUIET = -8; OpenCV reads it when it opens a video). The plugin leaves a
    # host game's environment alone.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    try:
        return command()
    except PosetrackError as e:
        return _say(prog, f"error: {e}", 2)
    except BrokenPipeError:
        # stop quietly, and keep Python from complaining again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _say(prog, "the reader of the output closed it: stopped", 141)
    except OSError as e:  # a path the system refuses: too long, no permission, disk full
        where = f" ({e.filename})" if e.filename else ""
        return _say(prog, f"error: {e.strerror or e}{where}", 2)
    except KeyboardInterrupt:
        return _say(prog, "interrupted", 130)


def _say(prog: str, message: str, code: int) -> int:
    line = " ".join(f"{prog}: {message}".split())  # one line, whatever the message held
    print(line[:MESSAGE_LIMIT], file=sys.stderr)
    return code
