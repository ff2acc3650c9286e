"""The `posetrack` command (main.py) and what only the command does: the JSONL stream, overlay
videos, the progress line, the character columns of the stream."""
