"""The JSONL pose stream: a header line, one line per frame, a summary line (README, "Tracking
from the command line")."""

import json
from typing import IO, Any

from posetrack.components import PoseResult


class PoseStreamWriter:
    """Writes the stream to an open text file; the caller owns the file. `names`: a folder's
    image file names in frame order; each frame line then says its `"file"`."""

    def __init__(self, out: IO[str], names: tuple[str, ...] = ()) -> None:
        self.out = out
        self.names = names

    def header(self, **fields: Any) -> None:
        """model, keypoints (names in model order), width, height, fps, backends, ..."""
        self._line({"type": "header", **fields})

    def frame(self, result: PoseResult) -> None:
        poses = [
            {
                "score": round(float(pose.score), 4),
                "keypoints": [
                    [round(float(x), 2), round(float(y), 2), round(float(c), 4)]
                    for x, y, c in pose.keypoints
                ],
                "world": None
                if pose.world is None
                else [[round(float(v), 4) for v in point] for point in pose.world],
                # several people: the player slot the identity stage gave this person
                **({} if pose.player is None else {"player": pose.player}),
            }
            for pose in result.poses
        ]
        line = {"type": "frame", "frame": result.frame, "time": round(result.time, 4)}
        if result.frame < len(self.names):
            line["file"] = self.names[result.frame]
        self._line({**line, "poses": poses})

    def summary(self, frames: int, fps: float, stages_ms: dict[str, float], **extra: Any) -> None:
        stages = {name: round(ms, 3) for name, ms in stages_ms.items()}
        self._line(
            {
                "type": "summary",
                "frames": frames,
                "fps": round(fps, 2),
                "stages_ms": stages,
                **extra,
            }
        )

    def _line(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, separators=(",", ":")) + "\n")
