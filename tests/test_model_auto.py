"""`--model auto`: the rule on given timings, the per-machine cache, the JSONL header, the HUD.

The measurements are real (ONNX Runtime on this machine's CPU, the converted models of the
cache); each test gets its own cache folder whose models/ and samples/ link to the user's, so
what is measured and stored here never touches the user's `auto-model.json`.
"""

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from posetrack.downloads.cache import cache_dir
from posetrack.game.hud import HudData, perf_lines
from posetrack.models import auto, zoo
from posetrack.models.auto import (
    AUTO,
    CACHE_FILE,
    ModelChoice,
    budget_ms,
    choose,
    machine_key,
    provider_for,
    source_rate,
    timings,
)
from posetrack.plugin.config import from_prc

CLI_TIMEOUT_S = 600  # guards against a hang only


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh POSETRACK_CACHE holding the user's converted models and samples (links)."""
    real = cache_dir()
    for name in auto.CANDIDATES + (auto.DETECTOR,):
        assert zoo.cached_onnx(name) is not None, f"{name} not converted: make models"
    cache = tmp_path / "cache"
    cache.mkdir()
    for sub in ("models", "samples"):
        (cache / sub).symlink_to(real / sub, target_is_directory=True)
    monkeypatch.setenv("POSETRACK_CACHE", str(cache))
    return cache


# -- the rule, on given timings ---------------------------------------------------------------
FAST = {"blazepose-heavy": 21.0, "blazepose-full": 11.0, "blazepose-lite": 9.5}


def test_the_most_accurate_variant_that_fits_the_budget_wins() -> None:
    assert choose(FAST, 25.0) == "blazepose-heavy"
    assert choose(FAST, 21.0) == "blazepose-heavy"  # exactly on budget still keeps up
    assert choose(FAST, 20.9) == "blazepose-full"
    assert choose(FAST, 10.0) == "blazepose-lite"


def test_a_machine_too_slow_for_all_gets_the_fastest_and_a_missing_one_is_skipped() -> None:
    slow = {"blazepose-heavy": 90.0, "blazepose-full": 40.0, "blazepose-lite": 31.0}
    assert choose(slow, 25.0) == "blazepose-lite"
    no_npm = {"blazepose-full": 11.0}  # lite and heavy need npm: only what is there
    assert choose(no_npm, 25.0) == "blazepose-full"
    assert choose(no_npm, 5.0) == "blazepose-full"
    odd = {"blazepose-heavy": 30.0, "blazepose-full": 12.0, "blazepose-lite": 14.0}
    assert choose(odd, 10.0) == "blazepose-full"  # none fits: the fastest, whatever its rank


def test_the_source_rate_rule() -> None:
    assert source_rate(60.0, camera=False) == 60.0  # a file: its own rate
    assert source_rate(15.0, camera=True) == 30.0  # a camera: 30, whatever it reports
    assert source_rate(0.0, camera=False) == 30.0  # unknown
    assert source_rate(90000.0, camera=False) == 30.0  # a container's bogus value
    assert budget_ms(30.0) == pytest.approx(25.0)  # 3/4 of a 33.3 ms frame
    assert budget_ms(60.0) == pytest.approx(12.5)


# -- measured once, then read back ------------------------------------------------------------
def test_the_measurement_is_cached_per_machine_and_reused(own_cache: Path) -> None:
    calls: list[Sequence[str]] = []

    def counted(names: Sequence[str], device: str) -> dict[str, float]:
        calls.append(tuple(names))
        return auto.measure(names, device, runs=8)  # the real measurement, fewer runs

    names = ["blazepose-full", "blazepose-lite"]
    first, cached = timings("cpu", names, counted)
    assert not cached and len(calls) == 1
    assert set(first) == set(names) and all(ms > 0 for ms in first.values())
    again, cached = timings("cpu", names, counted)
    assert cached and again == first and len(calls) == 1  # read back: no second measurement
    stored = json.loads((own_cache / CACHE_FILE).read_text())
    key = machine_key("cpu")
    assert list(stored["machines"]) == [key]
    assert "cores" in key and "onnxruntime" in key and key.endswith("| cpu")
    _, cached = timings("cpu", ["blazepose-lite"], counted)  # other candidates: measured anew
    assert not cached and len(calls) == 2


# -- the stream and the HUD -------------------------------------------------------------------
def _track_header(image: Path, out: Path, *extra: str) -> dict:
    command = [sys.executable, "-m", "posetrack", "track", str(image), "--out", str(out), *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text().splitlines()[0])


def test_auto_is_the_default_and_the_header_records_the_choice(
    own_cache: Path, messi_image: Path, tmp_path: Path
) -> None:
    header = _track_header(messi_image, tmp_path / "auto.jsonl")  # no --model: auto
    choice = header["model_choice"]
    assert choice["auto"] is True and choice["source_fps"] == 30.0  # an image: 30 fps
    assert choice["budget_ms"] == 25.0
    assert set(choice["measured_ms"]) == set(auto.CANDIDATES)  # all three converted here
    assert header["model"] == choose(choice["measured_ms"], choice["budget_ms"])
    assert (own_cache / CACHE_FILE).is_file()


def test_the_choice_follows_the_stored_timings_of_this_machine(
    own_cache: Path, messi_image: Path, tmp_path: Path
) -> None:
    # a slower machine's timings, stored as the measurement would store them: read, not redone
    names = [auto.DETECTOR, *auto.CANDIDATES]
    slow = {"blazepose-heavy": 80.0, "blazepose-full": 24.0, "blazepose-lite": 12.0}
    entry = {"files": {n: zoo.converted_path(n).name for n in names}, "measured_ms": slow}
    key = machine_key(provider_for("auto"))
    (own_cache / CACHE_FILE).write_text(json.dumps({"format": 1, "machines": {key: entry}}))
    header = _track_header(messi_image, tmp_path / "slow.jsonl", "--model", AUTO)
    assert header["model"] == "blazepose-full"
    assert header["model_choice"]["measured_ms"] == slow


def test_a_model_named_explicitly_runs_as_named_without_measuring(
    own_cache: Path, messi_image: Path, tmp_path: Path
) -> None:
    header = _track_header(messi_image, tmp_path / "lite.jsonl", "--model", "blazepose-lite")
    assert header["model"] == "blazepose-lite" and header["model_choice"] == {"auto": False}
    assert not (own_cache / CACHE_FILE).exists()
    assert from_prc(model="blazepose-heavy").model == "blazepose-heavy"
    assert from_prc().model == AUTO  # the plugin's default


def test_the_hud_names_the_model_that_runs_and_its_budget() -> None:
    choice = ModelChoice("blazepose-heavy", True, dict(FAST), 25.0, 30.0)
    line = perf_lines(HudData(fps=30.0, model=choice.label()))[0]
    assert line.endswith("model blazepose-heavy (auto 21/25 ms)"), line
    assert perf_lines(HudData(model=ModelChoice("posenet").label()))[0].endswith(" model posenet")


def test_models_list_says_what_auto_picks_here(own_cache: Path) -> None:
    def models_list() -> str:
        command = [sys.executable, "-m", "posetrack", "models", "list"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stderr

    assert "auto: not measured on this machine yet" in models_list()
    measured, _ = timings("auto", measure_with=lambda names, device: auto.measure(names, device, 8))
    picked = choose(measured, budget_ms(30.0))
    assert f"auto: {picked} for a 30 fps camera here" in models_list()


def test_without_npm_only_the_variants_at_hand_are_candidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a cache holding only blazepose-full (pip's), a PATH with no npm: lite and heavy cannot be
    # fetched, so auto picks among what there is
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    full = zoo.converted_path("blazepose-full")
    for path in (full, full.with_name(full.name + ".sha256")):
        (cache / "models" / path.name).symlink_to(path)
    monkeypatch.setenv("POSETRACK_CACHE", str(cache))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert auto.available() == ["blazepose-full"]
    assert choose({"blazepose-full": 11.0}, budget_ms(30.0)) == "blazepose-full"
