"""The in-game editor panel (E or F2): tweak smoothing, character scale, model, mirror and the
round length while playing; ctrl-S saves them back to the scene file, comments kept."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from panda3d.core import CardMaker, NodePath, TextNode

from posetrack.components.character import FilterConfig
from posetrack.game.scene_link import save_fields
from posetrack.game.session import MODELS


@dataclass
class Field:
    """One editable value: its label, its scene-file path, how to read and step it."""

    label: str
    scene_path: str  # field path for posetrack.scene.update_scene_file (table.field)
    get: Callable[[], Any]
    step: Callable[[int], None]  # +1 / -1

    def text(self) -> str:
        value = self.get()
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)


class EditorPanel:
    """A panel under the performance panel listing the fields; the selected one is marked."""

    def __init__(self, game: Any, parent: NodePath, font: object | None = None) -> None:
        self.game = game
        self.fields = self._fields()
        self.selected = 0
        self.message = ""
        self.root = parent.attach_new_node("editor")
        self.root.set_pos(0.02, 0, -0.53)
        cm = CardMaker("editor-back")
        cm.set_frame(0, 0.98, -0.42, 0)
        back = self.root.attach_new_node(cm.generate())
        back.set_color(0.05, 0.08, 0.16, 0.8)
        back.set_transparency(True)
        self._text = TextNode("editor-text")
        if font is not None:
            self._text.set_font(font)
        self._text.set_text_color(0.92, 0.94, 1.0, 1)
        node = self.root.attach_new_node(self._text)
        node.set_scale(0.036)
        node.set_pos(0.03, 0, -0.05)
        self.root.hide()
        self.refresh()

    # -- fields --------------------------------------------------------------------------
    def _fields(self) -> list[Field]:
        g = self.game
        s = g.session.config

        def filt() -> FilterConfig:
            return g.session.filter_values or FilterConfig()

        def set_filter(**changes: float) -> None:
            g.session.set_filter(replace(filt(), **changes))

        def step_model(d: int) -> None:
            i = MODELS.index(s.model) if s.model in MODELS else 0
            s.model = MODELS[(i + d) % len(MODELS)]
            g.hud.notice = f"loading model {s.model} ..."
            g._pending = "model"

        def step_scale(d: int) -> None:
            g.settings.character_scale = max(0.3, round(g.settings.character_scale + 0.05 * d, 2))
            g.place_characters()

        def step_heading(d: int) -> None:
            player = g.settings.player
            player.heading = (player.heading + 15.0 * d + 180.0) % 360.0 - 180.0
            g.place_characters()

        def step_x(d: int) -> None:
            x, y, z = g.settings.player.position
            g.settings.player.position = (round(x + 0.1 * d, 2), y, z)
            g.place_characters()

        rules = g.rules.rules
        return [
            Field("model", "tracker.model", lambda: s.model, step_model),
            Field(
                "smoothing",
                "tracker.smoothing",
                lambda: s.smoothing,
                lambda d: g.session.set_smoothing(not s.smoothing),
            ),
            # x1.5 per step: the cut-off is felt on a log scale (0.05 -> 0.075 -> 0.11 Hz)
            Field(
                "min_cutoff Hz",
                "filter.min_cutoff",
                lambda: filt().min_cutoff,
                lambda d: set_filter(min_cutoff=filt().min_cutoff * 1.5**d),
            ),
            Field(
                "beta",
                "filter.beta",
                lambda: filt().beta,
                lambda d: set_filter(beta=max(0.0, filt().beta + 10.0 * d)),
            ),
            Field(
                "character scale", "character.scale", lambda: g.settings.character_scale, step_scale
            ),
            # the retarget offsets: where the character stands and which way it faces
            Field("offset x m", "character.position", lambda: g.settings.player.position, step_x),
            Field(
                "heading deg", "character.heading", lambda: g.settings.player.heading, step_heading
            ),  # fmt: skip
            Field(
                "mirror",
                "character.mirror",
                lambda: g.retarget_config.mirror,
                lambda d: g.toggle_mirror(),
            ),
            Field(
                "round s",
                "rules.round_s",
                lambda: rules.round_s,
                lambda d: setattr(rules, "round_s", max(10.0, rules.round_s + 10.0 * d)),
            ),
        ]

    def values(self) -> dict[str, Any]:
        """{scene path: value} of every field, as saving writes them."""
        return {f.scene_path: f.get() for f in self.fields}

    # -- keys ----------------------------------------------------------------------------
    def actions(self) -> dict[str, Callable[[], None]]:
        """Handlers for keys.EDITOR_KEYS (they do nothing while the panel is hidden)."""
        return {
            "editor_up": lambda: self._move(-1),
            "editor_down": lambda: self._move(1),
            "editor_less": lambda: self._change(-1),
            "editor_more": lambda: self._change(1),
            "editor_save": self.save,
        }

    @property
    def visible(self) -> bool:
        return not self.root.is_hidden()

    def toggle(self) -> None:
        self.root.show() if self.root.is_hidden() else self.root.hide()
        self.refresh()

    def _move(self, d: int) -> None:
        if self.visible:
            self.selected = (self.selected + d) % len(self.fields)
            self.refresh()

    def _change(self, d: int) -> None:
        if self.visible:
            self.fields[self.selected].step(d)
            self.message = ""
            self.refresh()

    def save(self) -> None:
        """Write the fields to the scene file the game was started from."""
        if not self.visible:
            return

        path = self.game.settings.scene
        try:
            self.message = "no scene file to save to" if path is None else \
                save_fields(path, self.values())  # fmt: skip
        except Exception as error:  # a failed save must not end the game: say why
            self.message = f"not saved: {error}"
        self.refresh()

    def refresh(self) -> None:
        lines = ["EDITOR   arrows: pick / change   ctrl-S: save", ""]
        for i, f in enumerate(self.fields):
            mark = ">" if i == self.selected else " "
            lines.append(f"{mark} {f.label:<16}{f.text()}")
        if self.message:
            lines += ["", self.message]
        self._text.set_text("\n".join(lines))
