"""Loop one headless game command many times and catch the rare llvmpipe draw hang.

The tests run Panda3D games offscreen in subprocesses (EGL surfaceless, Mesa llvmpipe); a few
runs in a hundred were seen to hang inside llvmpipe's draw (tests/game_process.py). This script
runs one of those commands N times, K at once (to load the machine as a test run does), and
counts a run that outlasts --timeout as hung. Before killing a hung run it saves, under --out:
`py-spy dump --native` of the process, gdb's `thread apply all bt` (native stacks of every
thread), and each thread's name, state and kernel wait channel. It prints one line per run
(wall time, outcome) and a table at the end: runs, hangs, failures, median and max wall time.

py-spy is not a project dependency: install it outside the project, e.g.
    python3 -m venv /tmp/spy && /tmp/spy/bin/pip install py-spy
gdb is used from PATH when present.

Run (from the repository root):
    .venv/bin/python benchmarks/game_hang_loop.py --game demo30 --runs 200 --parallel 2
    .venv/bin/python benchmarks/game_hang_loop.py --game demo30 --runs 200 --parallel 2 \
        --env LP_NUM_THREADS=0
    .venv/bin/python benchmarks/game_hang_loop.py --runs 20 -- .venv/bin/posetrack-demo \
        --offscreen --frames 60 --source sample:sports2d-demo.mp4

`--env KEY=VALUE` (repeatable) is added to every run's environment; `{tmp}` in VALUE becomes a
fresh folder per run (`--env MESA_SHADER_CACHE_DIR={tmp}/mesa`: a cold shader cache each run).
`--prc "LINE"` (repeatable) writes a PRC file into a folder named by PANDA_PRC_PATH (with
HEADLESS_PRC for the `my_game40` preset, which reads all its PRC from there): a Panda3D setting.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP = "sample:sports2d-demo.mp4"
PY_SPY = Path("/tmp/spy/bin/py-spy")
DUMP_TIMEOUT_S = 120


def _demo(frames: int) -> list[str]:
    # as tests/test_demo_game.py runs it
    return [
        sys.executable,
        "-m",
        "posetrack.game",
        "--offscreen",
        "--frames",
        str(frames),
        "--source",
        CLIP,
        "--screenshot",
        "{tmp}/demo.png",
    ]


PRESETS: dict[str, list[str]] = {
    "demo30": _demo(30),
    "demo60": _demo(60),  # tests/test_demo_game.py
    # tests/test_demo_game.py, the model that cannot load
    "demo5-nomodel": [
        sys.executable,
        "-m",
        "posetrack.game",
        "--offscreen",
        "--frames",
        "5",
        "--model",
        "no-such-model",
        "--source",
        CLIP,
        "--screenshot",
        "{tmp}/lost.png",
    ],
    # tests/test_example_game.py (PRC from PANDA_PRC_PATH, written per run)
    "my_game40": [
        sys.executable,
        str(ROOT / "examples" / "my_game.py"),
        "--source",
        CLIP,
        "--frames",
        "40",
    ],
}


@dataclass
class Run:
    index: int
    wall_s: float
    outcome: str  # ok, fail (exit status != 0), hang
    returncode: int | None
    dump_dir: Path | None = None
    note: str = ""


def parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env wants KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def thread_table(pid: int) -> str:
    """Each thread's id, name, scheduler state and kernel wait channel, from /proc."""
    lines = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda p: int(p.name)):
        try:
            comm = (task / "comm").read_text().strip()
            stat = (task / "stat").read_text()
            state = stat.rsplit(")", 1)[1].split()[0]
            wchan = (task / "wchan").read_text().strip() if (task / "wchan").exists() else "?"
            fields = stat.rsplit(")", 1)[1].split()
            utime, stime = int(fields[11]), int(fields[12])
        except (OSError, IndexError, ValueError) as e:
            lines.append(f"{task.name}: unreadable ({e})")
            continue
        lines.append(
            f"{task.name:>8} {comm:<20} state={state} wchan={wchan} utime={utime} stime={stime}"
        )
    return "\n".join(lines) + "\n"


def capture_stacks(pid: int, out: Path) -> str:
    """Save what a hung process is doing; returns a short note (main thread's top frames)."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        (out / "threads-before.txt").write_text(thread_table(pid))
    except OSError as e:
        (out / "threads-before.txt").write_text(f"unreadable: {e}\n")
    time.sleep(2.0)  # a second sample: is any thread still using CPU?
    try:
        (out / "threads-after2s.txt").write_text(thread_table(pid))
    except OSError as e:
        (out / "threads-after2s.txt").write_text(f"unreadable: {e}\n")
    spy = str(PY_SPY) if PY_SPY.exists() else shutil.which("py-spy")
    if spy:
        _dump(out / "py-spy.txt", [spy, "dump", "--native", "--pid", str(pid)])
    gdb = shutil.which("gdb")
    if gdb:
        _dump(
            out / "gdb.txt",
            [
                gdb,
                "-batch",
                "-nx",
                "-p",
                str(pid),
                "-ex",
                "set pagination off",
                "-ex",
                "info threads",
                "-ex",
                "thread apply all bt",
            ],
        )
    text = (out / "py-spy.txt").read_text() if (out / "py-spy.txt").exists() else ""
    return main_thread_top(text)


def main_thread_top(py_spy_text: str) -> str:
    """The main thread's innermost named frame in a py-spy dump, and whether llvmpipe is below."""
    block = py_spy_text.split('"MainThread"', 1)[1] if '"MainThread"' in py_spy_text else ""
    block = block.split("\nThread ", 1)[0]
    frames = [line.strip() for line in block.splitlines()[1:] if line.strip()]
    named = [f for f in frames if not f.startswith("0x") and "libc.so" not in f]
    in_mesa = any("swrast_dri" in f for f in frames)
    top = named[0] if named else "?"
    if in_mesa:
        top = next((f for f in named if "swrast_dri" not in f), top)
    return f"main: {'swrast_dri <- ' if in_mesa else ''}{top}"


def _dump(path: Path, cmd: list[str]) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S)
        path.write_text(f"$ {' '.join(cmd)}\n{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    except (OSError, subprocess.TimeoutExpired) as e:
        path.write_text(f"$ {' '.join(cmd)}\nfailed: {e}\n")


def run_once(
    index: int,
    command: list[str],
    env: dict[str, str],
    prc: list[str],
    timeout_s: float,
    out_dir: Path,
    lock: threading.Lock,
) -> Run:
    with tempfile.TemporaryDirectory(prefix="hangloop-") as tmp:
        cmd = [part.replace("{tmp}", tmp) for part in command]
        run_env = {key: value.replace("{tmp}", tmp) for key, value in env.items()}
        if prc:
            (Path(tmp) / "loop.prc").write_text("\n".join(prc) + "\n")
            run_env["PANDA_PRC_PATH"] = tmp
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            env=run_env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            wall = time.monotonic() - start
            dump = out_dir / f"hang-{index:04d}-pid{proc.pid}"
            note = capture_stacks(proc.pid, dump)
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            (dump / "stdout.txt").write_text(stdout)
            (dump / "stderr.txt").write_text(stderr)
            result = Run(index, wall, "hang", None, dump, note)
        else:
            wall = time.monotonic() - start
            outcome = "ok" if proc.returncode == 0 else "fail"
            result = Run(index, wall, outcome, proc.returncode)
            if outcome == "fail":
                log = out_dir / f"fail-{index:04d}.txt"
                log.write_text(
                    f"rc={proc.returncode}\n--- stdout ---\n{stdout[-5000:]}\n"
                    f"--- stderr ---\n{stderr[-5000:]}"
                )
                result.note = str(log)
    with lock:
        extra = f" -> {result.dump_dir}" if result.dump_dir else ""
        extra += f" [{result.note}]" if result.note else ""
        print(f"run {index:4d}: {result.wall_s:7.2f} s  {result.outcome}{extra}", flush=True)
    return result


def summarise(runs: list[Run], label: str) -> dict:
    walls = [r.wall_s for r in runs if r.outcome != "hang"]
    return {
        "setting": label,
        "runs": len(runs),
        "hangs": sum(r.outcome == "hang" for r in runs),
        "fails": sum(r.outcome == "fail" for r in runs),
        "median_s": round(statistics.median(walls), 2) if walls else None,
        "max_s": round(max(walls), 2) if walls else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--game",
        choices=sorted(PRESETS),
        default="demo30",
        help="a game command the tests run (default demo30)",
    )
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=2, help="runs at once")
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds after which a run counts as hung"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set in every run's environment (repeatable)",
    )
    parser.add_argument(
        "--prc",
        action="append",
        default=[],
        metavar="LINE",
        help="a PRC line given to every run through PANDA_PRC_PATH",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("/tmp/game_hang_loop"),
        help="folder for the stacks of hung runs and logs of failed ones",
    )
    parser.add_argument("--label", default="", help="name of this setting in the table")
    parser.add_argument("command", nargs="*", help="a command of your own, after --")
    args = parser.parse_args(argv)

    command = args.command or PRESETS[args.game]
    extra_env = parse_env(args.env)
    env = {**os.environ, "EGL_PLATFORM": os.environ.get("EGL_PLATFORM", "surfaceless"), **extra_env}
    prc = list(args.prc)
    if not args.command and args.game == "my_game40":
        sys.path.insert(0, str(ROOT))
        from posetrack.stages.gpu_context import HEADLESS_PRC

        prc = [*HEADLESS_PRC.strip().splitlines(), "posetrack-device cpu", *prc]
    label = args.label or (" ".join([*args.env, *args.prc]) or "default")
    out_dir = args.out / time.strftime("%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"# {args.runs} runs, {args.parallel} at once, hang after {args.timeout:g} s, "
        f"setting: {label}\n# command: {' '.join(command)}\n# out: {out_dir}",
        flush=True,
    )

    lock = threading.Lock()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        futures = [
            pool.submit(run_once, i, command, env, prc, args.timeout, out_dir, lock)
            for i in range(args.runs)
        ]
        runs = [f.result() for f in futures]
    total = time.monotonic() - start

    row = summarise(runs, label)
    print(f"\n{'setting':<40} {'runs':>5} {'hangs':>5} {'fails':>5} {'median s':>9} {'max s':>7}")
    print(
        f"{label:<40} {row['runs']:>5} {row['hangs']:>5} {row['fails']:>5} "
        f"{row['median_s']!s:>9} {row['max_s']!s:>7}"
    )
    print(f"# total {total:.0f} s; wall times are of the runs that did not hang")
    for r in runs:
        if r.outcome == "hang":
            print(f"# hang: run {r.index} -> {r.dump_dir}")
    (out_dir / "summary.json").write_text(
        json.dumps({**row, "total_s": round(total, 1), "command": command}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
