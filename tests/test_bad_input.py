"""Mistakes a user makes, run as the user runs them: one clear line, a non-zero exit, no
traceback, and no file of theirs changed. (Issue 14's probes 1-5, each of which failed before.)"""

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from clips import cut_clip  # tests/ is on sys.path under pytest

from posetrack.components import TrackingConfig
from posetrack.systems.pose_tracking import PoseTrackingSystem

BIN = Path(sys.executable).parent
TIMEOUT_S = 300  # guards a hang only


def run(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, EGL_PLATFORM="surfaceless")
    return subprocess.run([str(BIN / tool), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=TIMEOUT_S, env=env)  # fmt: skip


def one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], errors[0]


@pytest.fixture
def photos(messi_image: Path, tmp_path: Path) -> Path:
    """A folder: messi5.jpg at twice its size, then as it is (two sizes, two files)."""
    folder = tmp_path / "sz"
    folder.mkdir()
    image = cv2.imread(str(messi_image))
    cv2.imwrite(str(folder / "1.jpg"), cv2.resize(image, (image.shape[1] * 2, image.shape[0] * 2)))
    cv2.imwrite(str(folder / "2.jpg"), image)
    return folder


@pytest.fixture(scope="module")
def clip(sports2d_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_clip(sports2d_clip, tmp_path_factory.mktemp("bad") / "clip.mp4", 100, 20, 2)


def test_1_a_folder_of_different_sizes_is_tracked_still_by_still_and_names_each_file(
    photos: Path,
) -> None:
    result = run("posetrack", "track", str(photos), "--no-smooth", cwd=photos.parent)
    assert result.returncode == 0, result.stderr
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    frames = [f for f in frames if f["type"] == "frame"]
    assert [f["file"] for f in frames] == ["1.jpg", "2.jpg"]
    assert [len(f["poses"]) for f in frames] == [1, 1]  # each found on its own


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--character", "nope"], ["nope"]),
        (["--rig", "no-such-rig", "--character", "mannequin"], ["no-such-rig"]),
    ],
)
def test_2_a_run_that_cannot_start_leaves_the_output_file_as_it_was(
    messi_image: Path, tmp_path: Path, extra: list[str], words: list[str]
) -> None:
    keep = tmp_path / "keep.jsonl"
    keep.write_text("my earlier run\n")
    result = run("posetrack", "track", str(messi_image), "--out", str(keep), *extra, cwd=tmp_path)
    one_clear_line(result, *words)
    assert keep.read_text() == "my earlier run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jsonl"]  # no leftovers


def test_3_an_output_over_an_input_is_refused(clip: Path, messi_image: Path, tmp_path: Path):
    victim = tmp_path / "victim.mp4"
    victim.write_bytes(clip.read_bytes())
    photo = tmp_path / "victim.jpg"
    photo.write_bytes(messi_image.read_bytes())
    before = {p.name: p.read_bytes() for p in (victim, photo)}
    one_clear_line(run("posetrack", "track", "victim.mp4", "--out", "victim.mp4", cwd=tmp_path),
                   "--out", "input")  # fmt: skip
    one_clear_line(run("posetrack", "track", str(photo), "--overlay", "./victim.jpg", cwd=tmp_path),
                   "--overlay", "input")  # fmt: skip
    one_clear_line(
        run("posetrack", "track", "victim.mp4", "--out", "same.mp4", "--overlay", "same.mp4",
            cwd=tmp_path), "same file")  # fmt: skip
    assert {p.name: p.read_bytes() for p in (victim, photo)} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim.jpg", "victim.mp4"]


def test_3_an_image_overlay_of_a_video_is_refused(clip: Path, tmp_path: Path) -> None:
    one_clear_line(run("posetrack", "track", str(clip), "--overlay", "out.png", cwd=tmp_path),
                   "image", ".mp4")  # fmt: skip
    assert not list(tmp_path.iterdir())


def test_4_a_closed_stdout_ends_the_run_without_a_traceback(clip: Path, tmp_path: Path) -> None:
    command = f"'{BIN / 'posetrack'}' track '{clip}' | head -c 100 > /dev/null"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                            text=True, timeout=TIMEOUT_S, cwd=tmp_path)  # fmt: skip
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr, result.stderr
    assert result.returncode == 141  # the writer's pipe closed: what a shell reports for it


@pytest.mark.parametrize("size", ["abc", "0x0", "12", "-5x100"])
def test_4_and_6_a_bad_window_size_is_one_line(size: str, tmp_path: Path) -> None:
    one_clear_line(run("posetrack-demo", "--offscreen", "--size", size, cwd=tmp_path), "--size")


def test_5_a_negative_frame_count_is_refused_instead_of_running_forever(tmp_path: Path):
    one_clear_line(run("posetrack-demo", "--offscreen", "--frames", "-3", cwd=tmp_path),
                   "--frames")  # fmt: skip


def test_4_status_and_result_after_close_say_closed(messi_image: Path) -> None:
    tracker = PoseTrackingSystem(str(messi_image), TrackingConfig(device="cpu", preprocess="cpu"))
    tracker.process()
    found = tracker.result
    tracker.close()
    assert tracker.status.state == "ended" and tracker.status.reason == "closed"
    assert tracker.result is found and len(found.poses) == 1
    tracker.close()  # idempotent
    assert tracker.status.reason == "closed"


def test_6_the_backend_notice_names_only_what_auto_decided(showbase) -> None:
    from posetrack.stages.backends import choose_backends
    from posetrack.stages.gpu_context import GpuContext

    context = GpuContext.from_showbase(showbase)
    if not context.is_software:
        pytest.fail("this test reads llvmpipe's notice; on a hardware renderer auto picks GPU")
    choice = choose_backends("gpu", "auto", context)
    assert choice.preprocess == "gpu" and choice.decode == "cpu"
    assert "for decode" in choice.notice and "preprocess" not in choice.notice


def test_6_a_demo_source_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    result = run("posetrack-demo", "--offscreen", "--frames", "5", "--source",
                 str(tmp_path / "nonexistent.mp4"), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2 and "nonexistent.mp4" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "no entities"), (b'\xef\xbb\xbf[[entity]]\nname = "a"\n', "byte order mark (BOM)")],
)
def test_6_an_empty_scene_or_one_with_a_bom_is_reported(
    content: bytes, words: str, tmp_path: Path
) -> None:
    scene = tmp_path / "scene.toml"
    scene.write_bytes(content)
    result = run("posetrack", "scene", "validate", str(scene), cwd=tmp_path)
    assert result.returncode == 1 and words in result.stdout + result.stderr


def test_6_init_takes_a_path_as_its_source(showbase, messi_image: Path) -> None:
    import esper

    import posetrack

    esper.switch_world("test-bad-input")
    tracking = posetrack.init(showbase, source=messi_image, device="cpu", live=False)
    try:
        showbase.taskMgr.step()
        assert tracking.status.state == "tracking"
    finally:
        tracking.close()
        esper.switch_world("default")
        esper.delete_world("test-bad-input")


def test_6_a_damaged_converted_model_is_reported_and_never_used(tmp_path: Path) -> None:
    """The conversion records size and sha256; a file that no longer matches is "corrupt" in
    `models list`, and is converted again instead of being loaded."""
    import shutil

    from posetrack.downloads.fetch import convert_once, converted_state
    from posetrack.models import zoo

    cache = tmp_path / "cache"
    models = cache / "models"
    models.mkdir(parents=True)
    source = zoo.converted_path("blazepose-full")
    assert converted_state(source, verify=True) == "ready"  # the session's own, intact
    copy = models / source.name
    for path in (source, source.with_name(source.name + ".sha256")):
        shutil.copy(path, models / path.name)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped bit in the weights: same size
    copy.write_bytes(bytes(data))
    assert converted_state(copy) == "ready"  # the per-use check is the size: cheap
    assert converted_state(copy, verify=True) == "corrupt"
    env = dict(os.environ, POSETRACK_CACHE=str(cache))
    listed = subprocess.run([str(BIN / "posetrack"), "models", "list"], capture_output=True,
                            text=True, env=env, timeout=TIMEOUT_S)  # fmt: skip
    line = next(x for x in listed.stdout.splitlines() if x.startswith("blazepose-full "))
    assert "corrupt" in line and "--force" in listed.stderr
    copy.write_bytes(bytes(data[:1000]))  # truncated: not even the size matches
    assert converted_state(copy) == "corrupt"
    converted = convert_once("x", copy, models / "x.onnx", lambda src, dst: dst.write_text("ok"))
    assert converted_state(converted, verify=True) == "ready"


def test_6_the_demos_notice_never_covers_the_help_hint(showbase) -> None:
    from posetrack.game.hud import Hud, HudData

    hud = Hud(showbase)
    try:
        long = "no webcam (cannot open camera 0: no such camera): playing the sample clip " * 3
        for notice in ("short", long):
            hud.notice = notice
            hud.update(HudData())
            low_notice = hud._notice_path.get_tight_bounds(showbase.aspect2d)[0].z
            high_hint = hud._hint_path.get_tight_bounds(showbase.aspect2d)[1].z
            assert low_notice > high_hint, (notice[:20], low_notice, high_hint)
    finally:
        hud.destroy()


def test_a_character_removed_while_driven_leaves_the_game_running(showbase, clip: Path):
    """The host deletes its character mid-game: no exception out of the frame loop, and the
    pose goes on being tracked (the character's stages must not mark tracking lost)."""
    import esper

    import posetrack
    from posetrack.characters import build_mannequin

    esper.switch_world("test-removed-character")
    hero = build_mannequin()
    hero.reparent_to(showbase.render)
    tracking = posetrack.init(showbase, source=str(clip), device="cpu", live=False)
    try:
        tracking.drive(hero)
        for _ in range(3):
            showbase.taskMgr.step()
        hero.cleanup()
        hero.remove_node()
        states = []
        for _ in range(5):
            showbase.taskMgr.step()
            states.append(tracking.status.state)
        assert states == ["tracking"] * 5, states
    finally:
        tracking.close()
        esper.switch_world("default")
        esper.delete_world("test-removed-character")


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (lambda: (_ for _ in ()).throw(KeyboardInterrupt()), 130, "interrupted"),
        (lambda: open("/nonexistent-dir/x", "w"), 2, "No such file"),  # noqa: SIM115
    ],
)
def test_both_commands_share_one_guard_for_user_mistakes(
    raised, code: int, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from posetrack.cli.guard import run_guarded

    assert run_guarded("posetrack-demo", raised) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("posetrack-demo: ") and words in err, err


def test_1_the_plugins_filter_does_not_smooth_across_unrelated_stills(photos: Path) -> None:
    """A game tracking a folder: each picture's filtered pose is that picture's own pose."""
    import esper
    import numpy as np

    from posetrack.components.character import FilterConfig, FilteredPose

    esper.switch_world("test-stills")
    config = TrackingConfig(device="cpu", preprocess="cpu", decode="cpu")
    tracker = PoseTrackingSystem(str(photos), config, filter_config=FilterConfig())
    try:
        for result in tracker.results():
            filtered = esper.component_for_entity(tracker.entity, FilteredPose)
            np.testing.assert_array_equal(filtered.pose.keypoints, result.poses[0].keypoints)
    finally:
        tracker.close()
        esper.switch_world("default")
        esper.delete_world("test-stills")


def test_a_damaged_video_gets_posetracks_line_and_not_ffmpegs_too(
    sports2d_clip: Path, tmp_path: Path
) -> None:
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(sports2d_clip.read_bytes()[:300_000])  # cut off mid-file
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FFMPEG_LOGLEVEL"}
    result = subprocess.run([str(BIN / "posetrack"), "track", str(damaged), "--out", "o.jsonl"],
                            capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=TIMEOUT_S)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "truncated" in result.stderr
    # FFmpeg's own "[mov,mp4,...] partial file" line (written by the library to fd 2) is off
    assert not [line for line in result.stderr.splitlines() if line.startswith("[")], result.stderr
