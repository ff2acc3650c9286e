"""The stage table (posetrack/stages/__init__.py) names files that exist, in pipeline order."""

import re
from pathlib import Path

from posetrack.stages import STAGES
from posetrack.systems.pose_tracking import POSE_STAGES

PACKAGE = Path(__file__).resolve().parent.parent / "posetrack"


def test_every_file_the_stage_table_names_exists() -> None:
    for stage in STAGES:
        for column in (stage.system, stage.cpu, stage.gpu):
            for path in re.findall(r"[\w/]+\.(?:py|glsl)", column):
                if "/" not in path:  # "argmax, refine, local_maxima.comp.glsl": shaders/
                    continue
                assert (PACKAGE / path).is_file(), f"{stage.name}: {path} does not exist"


def test_the_tracker_runs_the_tables_first_stages_in_order() -> None:
    assert tuple(s.name for s in STAGES[: len(POSE_STAGES)]) == POSE_STAGES
