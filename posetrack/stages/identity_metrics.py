"""How often a pose sequence hands a person's label to someone else (identity switches).

Used by benchmarks/identity_switches.py and tests/test_two_players.py. A pose's label is its
`player` (the identity stage's slot) or, when no identity stage ran, its place in the frame's
list plus one (the model's order, best first). The criterion, automatic:

a label *switches* on a frame when its torso centre is more than JUMP torso lengths (plus
WALK per second since the label was last seen) from where that label last was, and within
NEAR torso lengths of where another label last was: the label jumped onto someone else.

As in the MOT benchmarks' IDSW count, a swap of two labels counts twice (each person's label
changed); one label jumping onto a person who had another label counts once.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from posetrack.components import PoseResult
from posetrack.stages.identity import Body, body_of

JUMP = 1.0  # torso lengths: no body moves that far between two frames of a 15+ fps clip
WALK = 3.0  # torso lengths per second: a brisk walk (1.5 m/s, torso ~0.5 m) while unseen
NEAR = 0.75  # torso lengths: "where another label was" (closer than half a body's width)


@dataclass
class Seen:
    body: Body
    time: float


def labelled(result: PoseResult) -> list[tuple[int, Body]]:
    """(label, body) of each pose of a frame whose torso can be measured."""
    out = []
    for i, pose in enumerate(result.poses):
        body = body_of(pose, result.keypoint_names)
        if body is not None:
            out.append((pose.player if pose.player is not None else i + 1, body))
    return out


def switch_frames(results: Iterable[PoseResult]) -> list[tuple[int, int]]:
    """(frame, label) of every identity switch in the sequence (see the module)."""
    last: dict[int, Seen] = {}
    switches = []
    for result in results:
        now = labelled(result)
        for label, body in now:
            mine = last.get(label)
            if mine is None:
                continue
            gap = max(result.time - mine.time, 0.0)
            moved = np.linalg.norm(body.centre - mine.body.centre) / mine.body.size
            onto_other = any(
                np.linalg.norm(body.centre - seen.body.centre) / seen.body.size < NEAR
                for other, seen in last.items()
                if other != label
            )
            if moved > JUMP + WALK * gap and onto_other:
                switches.append((result.frame, label))
        for label, body in now:
            last[label] = Seen(body, result.time)
    return switches
