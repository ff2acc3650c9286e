"""Stream a character's pose live over the VMC protocol (OSC over UDP) to VSeeFace, VNyan,
Unity (EVMC4U) and other VMC "Marionette" receivers.

Per pose update one OSC bundle (built with python-osc, sent over UDP):

    /VMC/Ext/OK        (int) loaded=1, (int) calibration state=3 (calibrated: the rest pose is
                       known, nothing to calibrate), (int) calibration mode=0 (normal),
                       (int) tracking status: 1 with a person in view, 0 without
    /VMC/Ext/T         (float) the pose's time in seconds (the source's clock)
    /VMC/Ext/Root/Pos  "root", position 0 0 0, rotation 0 0 0 1: the avatar stays where the
                       receiver put it; the hips carry the character's own motion
    /VMC/Ext/Bone/Pos  per bone: HumanBodyBones name, local position x y z (the character's
                       units: metres for the mannequin), local rotation x y z w; Unity axes,
                       relative to the VRM T-pose (motion/unity_bones.py)

UDP is fire and forget: a send that fails (no route, host unreachable, a full buffer) is
counted, said once, and never stops tracking or the game. Bundles are built and sent on a
thread of the sender's own (VmcSender), off the host's frame.
"""

import ipaddress
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import UDPClient

from posetrack.errors import PosetrackError

log = logging.getLogger("posetrack")

DEFAULT_PORT = 39539  # what VMC receivers listen on unless told otherwise (the spec's default)
DEFAULT_TARGET = f"127.0.0.1:{DEFAULT_PORT}"
CALIBRATED = 3  # /VMC/Ext/OK calibration state: Uncalibrated 0 ... Calibrated 3
NORMAL_MODE = 0  # /VMC/Ext/OK calibration mode: normal (1, 2: mixed-reality modes)
# one second of poses at 30 Hz: the thread needs ~0.3 ms a frame, so a full queue means the
# process was starved; dropping the oldest then beats blocking the host's frame
QUEUE_FRAMES = 30
# flush()/close() wait at most this long: a loopback or LAN send takes microseconds
FLUSH_S = 1.0


def parse_target(text: str, what: str = "vmc") -> tuple[str, int]:
    """'HOST:PORT' (IPv6 as '[::1]:39539') -> (host, port); PosetrackError naming `what`."""
    value = text.strip() if isinstance(text, str) else ""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port:
        raise PosetrackError(
            f"{what} is {text!r}: use HOST:PORT, e.g. {DEFAULT_TARGET} (a VMC receiver's "
            "address and port)"
        )
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise PosetrackError(f"{what} is {text!r}: the port must be a number from 1 to 65535")
    if ":" in host and not _is_ip(host):
        raise PosetrackError(f"{what} is {text!r}: write an IPv6 address in brackets, [::1]:PORT")
    return host, int(port)


@dataclass(frozen=True)
class VmcFrame:
    """One pose update: bones in Unity axes, ready to send."""

    time: float  # seconds, the pose's time
    tracking: bool  # a person was in view on this frame
    names: tuple[str, ...]  # HumanBodyBones names
    positions: np.ndarray  # (n, 3) local positions
    rotations: np.ndarray  # (n, 4) local rotations, x y z w


def build_bundle(frame: VmcFrame) -> OscBundle:
    """The frame as one OSC bundle: OK, T, Root/Pos, then one Bone/Pos per bone."""
    bundle = OscBundleBuilder(IMMEDIATELY)
    status = (1, CALIBRATED, NORMAL_MODE, int(frame.tracking))
    bundle.add_content(_message("/VMC/Ext/OK", status))
    bundle.add_content(_message("/VMC/Ext/T", (float(frame.time),)))
    bundle.add_content(_message("/VMC/Ext/Root/Pos", ("root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)))
    values = np.concatenate([frame.positions, frame.rotations], axis=1).tolist()  # floats
    for name, row in zip(frame.names, values, strict=True):
        bundle.add_content(_message("/VMC/Ext/Bone/Pos", (name, *row)))
    return bundle.build()


class VmcSender:
    """Sends VMC frames to one receiver over UDP from a thread of its own, so the host's frame
    pays only the hand-over: building an OSC bundle in python-osc costs ~0.3 ms of Python.

    The socket is python-osc's UDPClient (non-blocking). `send` never blocks: a frame waits in
    a queue of QUEUE_FRAMES; when that is full (the process starved for a second) the oldest
    frame is dropped and counted. `notify` hears the first failed send (default: a logged
    warning). `sent`, `failed` and `dropped` count frames. Raises PosetrackError when the host
    name cannot be resolved. close() sends what is queued, then closes the socket.
    """

    def __init__(self, host: str, port: int, notify: Callable[[str], None] | None = None) -> None:
        self.target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.notify = notify or log.warning
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        try:
            self._client = UDPClient(host, port)
        except OSError as e:  # socket.gaierror: an unknown host name
            raise PosetrackError(f"VMC target {self.target}: cannot resolve {host!r} ({e})") from e
        self._queue: queue.Queue[VmcFrame | threading.Event | None] = queue.Queue(QUEUE_FRAMES)
        self._thread: threading.Thread | None = threading.Thread(
            target=self._run, name="posetrack-vmc", daemon=True
        )
        self._thread.start()

    def send(self, frame: VmcFrame) -> None:
        """Queue one frame for the sending thread (after close(): ignored)."""
        if self._thread is None:
            return
        try:
            self._queue.put_nowait(frame)
        except queue.Full:  # only this thread adds frames: after one get there is room
            self._discard_oldest()
            self._queue.put_nowait(frame)

    def flush(self, timeout_s: float = FLUSH_S) -> bool:
        """Wait until every frame queued so far has been sent (or failed); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout_s)
        except queue.Full:
            return False
        return done.wait(timeout_s)

    def close(self) -> None:
        """Send what is queued, stop the thread, close the socket; idempotent."""
        if self._thread is None:
            return
        thread, self._thread = self._thread, None
        try:
            self._queue.put(None, timeout=FLUSH_S)
        except queue.Full:  # the thread is stuck: drop the backlog to stop it
            self._discard_oldest()
            self._queue.put_nowait(None)
        thread.join(FLUSH_S)
        self._client.close()

    def _discard_oldest(self) -> None:
        try:
            item = self._queue.get_nowait()
        except queue.Empty:
            return
        if isinstance(item, threading.Event):
            item.set()  # a flush() waiting on it: nothing older is left to wait for
        elif item is not None:
            self.dropped += 1

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if isinstance(item, threading.Event):
                item.set()  # flush(): everything before it is done
                continue
            try:
                self._client.send(build_bundle(item))
            except Exception as e:  # unreachable, no route, buffer full...: the game goes on
                self.failed += 1
                if self.failed == 1:
                    self.notify(f"VMC: sending to {self.target} failed ({e}); still tracking, "
                                "failed sends are counted")  # fmt: skip
            else:
                self.sent += 1


def _message(address: str, args: tuple) -> OscMessage:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)  # int -> i, float -> f (32-bit), str -> s: what receivers check
    return builder.build()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
