"""What a scenario measured, printed side by side, and the same as JSON."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Goal", "Line", "Scenario"]


@dataclass
class Line:
    """One way of doing a scenario's work, measured.

    Attributes:
        variant: Who did it (``octave_frames``, ``aiohttp gather (CPU floor)``, ...).
        rows: Rows it handled (a baseline may run on a slice).
        wall: Wall seconds.
        bound: The best any client could do for those rows, in seconds.
        cpu: CPU seconds of this process.
        ok: Rows that ended with an answer.
        extra: Scenario-specific figures (429s, status calls per job, ...).
        note: How it was measured, when that needs saying.

    """

    variant: str
    rows: int
    wall: float
    bound: float | None = None
    cpu: float | None = None
    ok: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """The bound over the wall time: 1.0 is as fast as the bound allows."""
        return None if self.bound is None or self.wall <= 0 else self.bound / self.wall

    @property
    def cpu_ms_per_row(self) -> float | None:
        """Client CPU milliseconds per row."""
        return None if self.cpu is None or not self.rows else self.cpu / self.rows * 1e3


@dataclass
class Goal:
    """One target of the issue, and whether this run met it."""

    what: str
    value: float
    target: float
    higher_is_better: bool = False
    unit: str = ""

    @property
    def met(self) -> bool:
        """Whether ``value`` is on the right side of ``target``."""
        if math.isnan(self.value):
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    def __str__(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        verdict = "met" if self.met else "NOT MET"
        unit = f" {self.unit}" if self.unit else ""
        return f"goal {self.what}: {self.value:.3g}{unit} ({sign} {self.target:g}{unit}) {verdict}"


@dataclass
class Scenario:
    """A scenario's title, its lines, its goals and free-form figures."""

    name: str
    title: str
    lines: list[Line] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self, variant: str) -> Line | None:
        """The line of ``variant``, if it ran."""
        return next((x for x in self.lines if x.variant == variant), None)

    def render(self) -> str:
        """The scenario as text: a table of lines, then figures, goals and notes."""
        out = [f"== {self.title}"]
        floor = next((x for x in self.lines if "floor" in x.variant), None)
        if self.lines:
            extras = sorted({k for x in self.lines for k in x.extra})
            head = f"  {'variant':<44} {'rows':>6} {'wall s':>8} {'bound s':>8} {'bound/wall':>10}"
            head += f" {'CPU ms/row':>10} {'x floor':>7} {'ok':>11}"
            head += "".join(f" {k:>12}" for k in extras)
            out.append(head)
            for x in self.lines:
                vs_floor = (
                    x.cpu_ms_per_row / floor.cpu_ms_per_row
                    if floor is not None and x.cpu_ms_per_row and floor.cpu_ms_per_row
                    else None
                )
                ok = "" if x.ok is None else f"{x.ok}/{x.rows}"
                row = f"  {x.variant:<44} {x.rows:>6} {x.wall:>8.2f} {_num(x.bound, 8, 2)}"
                row += f" {_num(x.ratio, 10, 3)} {_num(x.cpu_ms_per_row, 10, 2)}"
                row += f" {_num(vs_floor, 7, 2)} {ok:>11}"
                row += "".join(f" {_cell(x.extra.get(k)):>12}" for k in extras)
                out.append(row)
                if x.note:
                    out.append(f"  {'':<4}({x.note})")
        out.extend(f"  {k}: {_cell(v)}" for k, v in self.figures.items())
        out.extend(f"  {g}" for g in self.goals)
        out.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, ratios and per-row figures included."""
        lines = []
        for x in self.lines:
            item = asdict(x)
            item["ratio"] = x.ratio
            item["cpu_ms_per_row"] = x.cpu_ms_per_row
            lines.append(item)
        goals = [{**asdict(g), "met": g.met} for g in self.goals]
        return {
            "name": self.name,
            "title": self.title,
            "seconds": round(self.seconds, 2),
            "lines": lines,
            "goals": goals,
            "figures": self.figures,
            "notes": self.notes,
        }


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{'':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)
