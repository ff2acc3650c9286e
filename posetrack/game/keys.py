"""The demo's keys, one table, and the help overlay that lists them (F1 or H)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from panda3d.core import CardMaker, NodePath, TextNode


@dataclass(frozen=True)
class Key:
    """One binding: Panda3D key event names, the action's name, what it does (for the help)."""

    events: tuple[str, ...]
    action: str
    help: str


KEYS: tuple[Key, ...] = (
    Key(("f1", "h"), "help", "show / hide this help"),
    Key(("m",), "model", "next pose model (blazepose-full, posenet, movenet-*)"),
    Key(("b",), "backend", "crop + decode backend: auto, gpu, cpu"),
    Key(("s",), "smoothing", "smoothing (One Euro filter) on / off"),
    Key(("i",), "mirror", "mirror the player (selfie view) on / off"),
    Key(("c",), "character", "focus: 3D mannequin / 2D sprite"),
    Key(("p",), "pip", "camera picture-in-picture on / off"),
    Key(("e", "f2"), "editor", "editor panel (arrows: pick / change, ctrl-s: save)"),
    Key(("r", "enter"), "restart", "restart the round"),
    Key(("escape", "q"), "quit", "quit"),
)

# While the editor panel is open: these keys drive it.
EDITOR_KEYS: tuple[Key, ...] = (
    Key(("arrow_up",), "editor_up", "previous field"),
    Key(("arrow_down",), "editor_down", "next field"),
    Key(("arrow_left",), "editor_less", "decrease / previous value"),
    Key(("arrow_right",), "editor_more", "increase / next value"),
    Key(("control-s",), "editor_save", "save to the scene file"),
)


def bind(accept: Callable[[str, Callable[[], None]], None],
         actions: Mapping[str, Callable[[], None]]) -> None:  # fmt: skip
    """Bind every key of KEYS and EDITOR_KEYS whose action is in `actions` (`accept` is a
    DirectObject's accept). Auto-repeat is bound for the arrows, so a held key keeps going."""
    for key in KEYS + EDITOR_KEYS:
        action = actions.get(key.action)
        if action is None:
            continue
        for event in key.events:
            accept(event, action)
            if event.startswith("arrow_"):
                accept(f"{event}-repeat", action)


def help_text() -> str:
    """The help overlay's text: one line per key."""
    lines = ["KEYS", ""]
    for key in KEYS:
        names = " / ".join(e.upper() if len(e) <= 2 else e.capitalize() for e in key.events)
        lines.append(f"{names:<14}{key.help}")
    lines += ["", "Touch the amber rings with your hands, the blue ones with your feet."]
    return "\n".join(lines)


class HelpOverlay:
    """A dimmed panel in the middle of the screen listing the keys; hidden at first."""

    def __init__(self, parent: NodePath, font: object | None = None) -> None:
        self.root = parent.attach_new_node("help")
        cm = CardMaker("help-back")
        cm.set_frame(-1.12, 1.12, -0.42, 0.52)
        back = self.root.attach_new_node(cm.generate())
        back.set_color(0.03, 0.04, 0.07, 0.9)
        back.set_transparency(True)
        back.set_bin("fixed", 50)  # the panel first, then the text over it
        text = TextNode("help-text")
        text.set_text(help_text())
        if font is not None:
            text.set_font(font)
        text.set_text_color(0.92, 0.94, 1.0, 1)
        node = self.root.attach_new_node(text)
        node.set_scale(0.05)
        node.set_pos(-1.02, 0, 0.42)
        node.set_bin("fixed", 51)
        self.root.hide()

    @property
    def visible(self) -> bool:
        return not self.root.is_hidden()

    def toggle(self) -> None:
        self.root.show() if self.root.is_hidden() else self.root.hide()
