"""The demo's heads-up display: performance panel, score and timer, messages."""

from dataclasses import dataclass, field

from panda3d.core import CardMaker, NodePath, TextNode

from posetrack.components.scene import Hud as HudFlags

TEXT = (0.92, 0.94, 1.0, 1)
DIM = (0.62, 0.67, 0.78, 1)
WARN = (1.0, 0.55, 0.35, 1)
GOOD = (0.55, 0.95, 0.6, 1)
SCORE = (1.0, 0.85, 0.35, 1)
STAGES = ("capture", "detect", "preprocess", "inference", "decode", "filter", "retarget",
          "animate")  # fmt: skip


@dataclass
class HudData:
    """What the HUD shows on one frame (the app fills it in)."""

    fps: float = 0.0
    stages_ms: dict[str, float] = field(default_factory=dict)
    latency_ms: float | None = None  # capture timestamp -> joints applied, median
    latency_p95_ms: float | None = None  # its 95th percentile
    dropped: int = 0  # frames the tracker skipped for a newer one (live hand-over)
    confidence: float | None = None  # the tracked pose's score
    model: str = ""  # the model that runs; auto: "NAME (auto COST/BUDGET ms)"
    backends: dict[str, str] = field(default_factory=dict)
    smoothing: bool = True
    mirror: bool = True
    source: str = ""
    score: int = 0
    scores: list[tuple[str, int]] = field(default_factory=list)  # several players: (P1, n)...
    touches: int = 0
    misses: int = 0
    time_left: float = 0.0
    round_over: bool = False
    lost: str = ""  # "tracking lost: ..." or "" while tracking


def _text(parent: NodePath, name: str, scale: float, align: int, font: object | None,
          colour: tuple = TEXT) -> tuple[TextNode, NodePath]:  # fmt: skip
    node = TextNode(name)
    node.set_align(align)
    node.set_text_color(*colour)
    node.set_shadow(0.06, 0.06)  # a drop shadow keeps text readable over any background
    node.set_shadow_color(0, 0, 0, 0.8)
    if font is not None:
        node.set_font(font)
    path = parent.attach_new_node(node)
    path.set_scale(scale)
    return node, path


def perf_lines(d: HudData, flags: HudFlags | None = None) -> list[str]:
    """The performance panel's lines (plain text, testable without a window); `flags` (the
    scene's Hud) leaves out the fps, latency, confidence and per-stage parts it turns off."""
    flags = flags or HudFlags()
    lines = [f"{d.fps:5.1f} fps   model {d.model}" if flags.fps else f"model {d.model}"]
    chosen = ", ".join(f"{k} {v}" for k, v in d.backends.items() if k != "gl_renderer")
    lines.append(f"backends  {chosen or '-'}")
    latency = "-" if d.latency_ms is None else f"{d.latency_ms:.0f} ms"
    if d.latency_p95_ms is not None:
        latency += f" (p95 {d.latency_p95_ms:.0f})"
    conf = "-" if d.confidence is None else f"{d.confidence:.2f}"
    if flags.latency:
        lines.append(f"latency   {latency}  capture -> joints, {d.dropped} dropped")
    switches = f"smoothing {'on' if d.smoothing else 'off'}   mirror {'on' if d.mirror else 'off'}"
    lines.append(f"confidence {conf}   {switches}" if flags.confidence else switches)
    for stage in STAGES if flags.stages else ():
        if stage in d.stages_ms:
            ms = d.stages_ms[stage]
            bar = "#" * min(20, round(ms / 2))  # one mark per 2 ms, a 40 ms stage fills it
            lines.append(f"  {stage:<10}{ms:6.1f} ms {bar}")
    return lines


NOTICE_SCALE = 0.04  # text height of the notice and the help hint, in screen units
NOTICE_Z = 0.12  # the notice's last row: one line above the help hint (at 0.06)
NOTICE_WRAP = 70.0  # in text heights: 2.8 screen units, inside a 4:3 window's width too


class Hud:
    """Text nodes on aspect2d (and its corner anchors); `update(HudData)` once per frame."""

    def __init__(self, base: object, font: object | None = None) -> None:
        a2d = base.aspect2d
        panel = base.a2dTopLeft.attach_new_node("perf")
        cm = CardMaker("perf-back")
        cm.set_frame(0.02, 1.0, -0.5, -0.02)
        back = self._back = panel.attach_new_node(cm.generate())
        back.set_color(0.02, 0.03, 0.06, 0.55)
        back.set_transparency(True)
        self._perf, path = _text(panel, "perf", 0.036, TextNode.A_left, font)
        path.set_pos(0.05, 0, -0.07)
        # a plain sans font for the numbers: the default font's old-style 0 reads as an O
        sans = base.loader.load_font("cmss12")
        self._score, score = _text(base.a2dTopCenter, "score", 0.1, TextNode.A_center, sans,
                                   SCORE)  # fmt: skip
        score.set_pos(0, 0, -0.12)
        self._clock, clock = _text(base.a2dTopCenter, "clock", 0.055, TextNode.A_center, sans)
        clock.set_pos(0, 0, -0.2)
        self._message, self._message_path = _text(a2d, "message", 0.08, TextNode.A_center, None)
        self._message_path.set_pos(0, 0, 0.58)  # above the head, below the clock
        self._message.set_wordwrap(34.0)  # in text heights: ~1.7 screen units at scale 0.05
        self._notice, self._notice_path = _text(
            base.a2dBottomLeft, "notice", NOTICE_SCALE, TextNode.A_left, None, DIM
        )
        self._notice_path.set_pos(0.05, 0, NOTICE_Z)
        self._notice.set_wordwrap(NOTICE_WRAP)
        hint, self._hint_path = _text(
            base.a2dBottomCenter, "hint", NOTICE_SCALE, TextNode.A_center, None, DIM
        )
        hint.set_text("F1 / H: help")
        self._hint_path.set_pos(0, 0, 0.06)
        self.notice = ""
        self.flags = HudFlags()  # which parts show (the scene's [hud]; apply_live sets it)
        self._nodes = [panel, score, clock, self._message_path, self._notice_path,
                       self._hint_path]  # fmt: skip

    def destroy(self) -> None:
        """Remove the HUD's nodes (the demo's window goes with them; a test's stays)."""
        for node in self._nodes:
            node.remove_node()
        self._nodes = []

    def update(self, d: HudData) -> None:
        lines = perf_lines(d, self.flags)
        self._perf.set_text("\n".join(lines))
        # the card behind the panel fits the lines shown (0.036 per line at this text scale,
        # 0.07 of margins): parts turned off leave no empty box
        self._back.set_sz(min(1.0, (0.07 + 0.045 * len(lines)) / 0.48))
        # several players: each one's score, in the order their characters stand on screen
        self._score.set_text("      ".join(f"{name} {n}" for name, n in d.scores) or f"{d.score}")
        seconds = max(0, int(d.time_left + 0.999))  # 0.2 s left reads "0:01", not "0:00"
        self._clock.set_text(f"{seconds // 60}:{seconds % 60:02d}   "
                             f"touched {d.touches}   missed {d.misses}")  # fmt: skip
        if d.lost:
            self._message.set_text(d.lost)
            self._message.set_text_color(*WARN)
            self._message_path.set_scale(0.05)
        elif d.round_over:
            scores = "   ".join(f"{name} {n}" for name, n in d.scores) or f"score {d.score}"
            self._message.set_text(f"ROUND OVER   {scores}\npress R to play again")
            self._message.set_text_color(*GOOD)
            self._message_path.set_scale(0.08)
        else:
            self._message.set_text("")
        if self._notice.get_text() != self.notice:
            self._notice.set_text(self.notice)
            # rows run downward from the first: lift a wrapped notice so its last row stays
            # on the line above the help hint
            rows = max(1, self._notice.get_num_rows())
            lift = (rows - 1) * self._notice.get_line_height() * NOTICE_SCALE
            self._notice_path.set_z(NOTICE_Z + lift)

    def visible_parts(self) -> dict[str, bool]:
        """Which of the scene's HUD parts show now (the headless summary reports it)."""
        return {"fps": self.flags.fps, "stages": self.flags.stages,
                "latency": self.flags.latency, "confidence": self.flags.confidence}  # fmt: skip

    @property
    def texts(self) -> dict[str, str]:
        """What each text node shows now (tests and the headless summary read it)."""
        return {"perf": self._perf.get_text(), "score": self._score.get_text(),
                "clock": self._clock.get_text(), "message": self._message.get_text(),
                "notice": self._notice.get_text()}  # fmt: skip
