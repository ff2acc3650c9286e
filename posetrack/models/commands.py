"""`posetrack models list | fetch [NAME...]`."""

import argparse

from posetrack.downloads.fetch import say
from posetrack.models import zoo


def run_models(args: argparse.Namespace) -> int:
    if args.verb == "list":
        width = max(len(name) for name in zoo.names())
        for name in zoo.names():
            spec = zoo.spec(name)
            ready = "ready" if zoo.cached_onnx(name) else "not fetched"
            default = " (default)" if name in zoo.DEFAULT_MODELS else ""
            print(f"{name:<{width}}  {ready:<11}  {spec.source.client:<3}  {spec.summary}{default}")
        return 0
    names = args.names or list(zoo.DEFAULT_MODELS)
    for name in names:
        zoo.spec(name)  # unknown names fail before any download
    for name in names:
        cached = zoo.cached_onnx(name)
        if cached is not None:
            say(f"{name}: already converted ({cached})")
        else:
            zoo.onnx_path(name)
    return 0
