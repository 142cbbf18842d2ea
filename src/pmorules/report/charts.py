"""The report's pictures as inline SVG: effort by term, the value timeline, the dependency and harm graph,
the trend over the reviews.

Drawn from the plain report context with matplotlib's object API on the SVG
canvas (no pyplot, no global state: settings live in an rc_context), with a
fixed ``svg.hashsalt``, no date metadata and a seeded networkx layout, so the
same input gives the same bytes. Text stays text (``svg.fonttype: none``):
small files, searchable, and escaped by matplotlib like any SVG text. Names are
drawn as written: math text is off (``text.parse_math``), so ``$5 to $10`` keeps
its dollar signs and ``$\notacommand{x}$`` is a label, not a parse error.
"""

from __future__ import annotations

import datetime as dt

import io
import re
from typing import Any

import networkx as nx
from markupsafe import Markup, escape
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG  # imported with the module: the drawer's before data comes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch
from matplotlib.transforms import blended_transform_factory

from ..dates import date_after, long_date, month_label
from ..text import printable
from ..vocabulary import LEVEL_WORDS

INK = "#344054"
MUTED = "#667085"
GRID = "#eaecf0"
TERM_COLOURS = {"short": "#8fc1e3", "medium": "#3f7cac", "long": "#1f3b6e"}
BEFORE_REVIEW = "#fef0c7"
HARM = "#d92d20"
FLAGGED_DEPENDENCY = "#dc6803"
MITIGATION = "#039855"
LAYOUT_SEED = 7

RC = {
    "text.parse_math": False,
    "svg.hashsalt": "pmorules",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    # Text is measured with DejaVu Sans (bundled with matplotlib, so layout is the same everywhere);
    # the browser uses the first of these it has.
    "font.sans-serif": ["DejaVu Sans", "Helvetica Neue", "Arial", "Liberation Sans"],
    "font.size": 8.5,
    "text.color": INK,
    "axes.edgecolor": "#d0d5dd",
    "axes.labelcolor": INK,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
}


def _svg(figure: Figure, name: str, title: str) -> Markup:
    """Serialise a figure as an inline <svg>: no prolog or metadata, ids prefixed so charts can share a page."""
    buffer = io.StringIO()
    FigureCanvasSVG(figure)
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    text = re.sub(r"<[^<>]+>", lambda tag: _prefix_ids(tag.group(0), name), text)  # tags only, never label text
    text = text.replace(
        "<svg ", f'<svg class="chart" id="chart-{name}" role="img" aria-labelledby="{name}-title" ', 1
    )
    head, _, body = text.partition(">")
    return Markup(f'{head}>\n <title id="{name}-title">{escape(title)}</title>{body}')


def _prefix_ids(tag: str, prefix: str) -> str:
    tag = re.sub(r'(\sid=")', rf"\1{prefix}-", tag)
    return re.sub(r'(url\(#|xlink:href="#)', rf"\1{prefix}-", tag)


def _short(text: str, width: int = 40) -> str:
    text = printable(text)  # SVG (XML) cannot hold most control characters
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _wrapped(text: str, width: int = 20) -> str:
    """A node label on at most two lines, shortened when longer."""
    words, lines = text.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            if len(lines) == 2:
                lines[-1] = _short(lines[-1] + " " + word, width)
                break
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}".strip()
    return "\n".join(_short(line, width) for line in lines)


def shares_chart(terms: list[dict[str, Any]]) -> Markup:
    """Effort by term as a 100% bar, above the organisation's target profile when it has one."""
    bars = [("Effort now", "share")] + ([("Target", "target")] if terms[0]["target"] is not None else [])
    with rc_context(RC):
        figure = Figure(figsize=(7.6, 0.55 + 0.42 * len(bars)))
        axes = figure.add_axes((0.11, 0.42 if len(bars) == 1 else 0.3, 0.85, 0.5 if len(bars) == 1 else 0.62))
        for row, (label, field) in enumerate(bars):
            left = 0.0
            for term in terms:
                value = term[field] or 0.0
                colour = TERM_COLOURS[term["term"]]
                axes.barh(row, value, left=left, height=0.62, color=colour, edgecolor="white", linewidth=1.2,
                          alpha=1.0 if field == "share" else 0.45)
                if value >= 0.06:
                    dark = field == "share" and term["term"] != "short"
                    axes.text(left + value / 2, row, f"{value * 100:.0f}%", ha="center", va="center",
                              color="white" if dark else INK, fontsize=8.5, fontweight="bold")
                left += value
        axes.set_yticks(range(len(bars)), [label for label, _ in bars])
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
        axes.tick_params(length=0)
        for side in ("left", "bottom"):
            axes.spines[side].set_visible(False)
        figure.legend(
            handles=[Patch(color=TERM_COLOURS[t["term"]], label=f"{t['label']} ({t['range']})") for t in terms],
            loc="lower center", ncol=3, bbox_to_anchor=(0.54, -0.02), handlelength=1.2, columnspacing=1.6,
        )
        return _svg(figure, "shares", "Share of effort by term")


def timeline_chart(timeline: dict[str, Any]) -> Markup:
    """One row per service (or per month when there are many): when its value is first perceived.

    Goal deadlines follow as diamond rows; the stretch before the first review is
    shaded and every review is a dashed line, so an empty first quarter shows at once.
    """
    rows, deadlines = timeline["rows"], timeline["deadlines"]
    goals_at = len(rows) + 0.6  # goal rows sit below the services, after a small gap
    bottom = goals_at + len(deadlines) - 1 if deadlines else len(rows) - 1
    end = max(timeline["horizon_months"], 1.0) * 1.16 + 1
    with rc_context(RC):
        height = 1.25 + 0.235 * (bottom + 1.6)
        figure = Figure(figsize=(7.6, height))
        axes = figure.add_axes((0.38, 0.72 / height, 0.58, 1 - 1.2 / height))
        axes.set_xlim(0, end)
        axes.set_ylim(bottom + 0.6, -0.6)
        if timeline["first_review"]:
            axes.axvspan(0, timeline["first_review"]["month"], color=BEFORE_REVIEW, zorder=0, linewidth=0)
        for index, review in enumerate(timeline["reviews"]):
            axes.axvline(review["month"], color=INK, linestyle=(0, (4, 3)), linewidth=1, zorder=1)
            axes.annotate(
                f"{_short(review['name'], 28)} · {review['date']} · "
                f"{review['services']} of {timeline['services']} services show value",
                xy=(review["month"], 1), xycoords=("data", "axes fraction"), xytext=(-3, 3 + 12 * (index % 2)),
                textcoords="offset points", ha="left", va="bottom", fontsize=7.5, color=INK,
            )
        if rows:
            axes.hlines(range(len(rows)), 0, [r["months"] for r in rows], colors=[TERM_COLOURS[r["term"]] for r in rows],
                        linewidth=2.2, alpha=0.35, zorder=2)
        for index, row in enumerate(rows):
            note = f"{row['months']:g} mo" + (f" · p {row['probability'] * 100:.0f}%" if row["probability"] is not None else "")
            axes.text(row["months"] + end * 0.012, index, note, va="center", fontsize=7.5, color=MUTED, zorder=4)
        if rows:
            axes.scatter([r["months"] for r in rows], range(len(rows)), s=[26 + 260 * r["share"] for r in rows],
                         color=[TERM_COLOURS[r["term"]] for r in rows], edgecolor="white", linewidth=0.8, zorder=3)
        for index, deadline in enumerate(deadlines):
            axes.text(deadline["month"] + end * 0.012, goals_at + index, f"due {deadline['month_label']}", va="center",
                      fontsize=7.5, color=MUTED, zorder=4)
        if deadlines:
            axes.scatter([d["month"] for d in deadlines], [goals_at + i for i in range(len(deadlines))], s=34, marker="D",
                         color=INK, zorder=3)
        if deadlines:
            axes.axhline(goals_at - 0.8, color="#d0d5dd", linewidth=0.8, zorder=1)
        labels = [(index, r["label"]) for index, r in enumerate(rows)] + [
            (goals_at + index, f"Goal: {d['label']}" if len(d["goals"]) == 1 else f"{d['label']} due")
            for index, d in enumerate(deadlines)
        ]
        row_labels = blended_transform_factory(axes.transAxes, axes.transData)  # plain texts: ticks cost far more
        for y, label in labels:
            axes.text(-0.015, y, _short(label), transform=row_labels, ha="right", va="center", color=INK)
        axes.set_yticks([])
        ticks, today = _month_ticks(end), dt.date.fromisoformat(timeline["today"])
        axes.set_xticks(ticks, [f"{m:g}\n{month_label(date_after(today, m))}" for m in ticks])
        axes.set_xlabel(f"months from {long_date(today)}", labelpad=2)
        axes.grid(axis="x", color=GRID, linewidth=0.6, zorder=0)
        axes.spines["left"].set_visible(False)
        figure.legend(
            handles=[
                Line2D([], [], marker="o", linestyle="", color=TERM_COLOURS[t], label=f"{t}-term service")
                for t in ("short", "medium", "long")
            ] + [
                Line2D([], [], marker="D", linestyle="", color=INK, markersize=5, label="goal deadline"),
                Patch(color=BEFORE_REVIEW, label="before the first review"),
            ],
            loc="lower center", ncol=5, bbox_to_anchor=(0.5, 0.0), handletextpad=0.3, columnspacing=1.2,
        )
        return _svg(figure, "timeline", "When each service's value is first perceived, against reviews and goal deadlines")


def goals_met_chart(goals: list[dict[str, Any]], timeline: dict[str, Any]) -> Markup:
    """The goals expected to be met, cumulated over the calendar: a step at each goal's date for the goals likely
    met (and, above it, those at risk), with the total for reference and every review marked, its name wrapped."""
    if not goals:
        return Markup("")
    end = max(timeline["horizon_months"], 1.0) * 1.08 + 1
    dated = sorted(goals, key=lambda g: g["due_months"])

    def steps(counted: set[str]) -> tuple[list[float], list[int]]:
        months, total = [0.0], [0]
        for goal in dated:
            if goal["outlook"] in counted:
                months.append(max(goal["due_months"], 0.0))
                total.append(total[-1] + 1)
        return months + [end], total + [total[-1]]

    with rc_context(RC):
        figure = Figure(figsize=(7.6, 2.2))  # wide and low: printed at most 44 mm high, it still spans the page
        axes = figure.add_axes((0.07, 0.17, 0.9, 0.58))
        axes.set_xlim(0, end)
        axes.set_ylim(0, len(goals) + 0.4)
        axes.axhline(len(goals), color=MUTED, linestyle=(0, (1, 2)), linewidth=0.9)
        axes.text(end * 0.995, len(goals), f"all {len(goals)} goals", ha="right", va="bottom", fontsize=7.5, color=MUTED)
        for counted, colour, label in (({"likely met", "at risk"}, "#f79009", "likely met or at risk"),
                                       ({"likely met"}, "#039855", "likely met")):
            months, total = steps(counted)
            axes.step(months, total, where="post", color=colour, linewidth=1.8, label=label)
        for index, review in enumerate(timeline["reviews"]):
            axes.axvline(review["month"], color=INK, linestyle=(0, (4, 3)), linewidth=0.9)
            axes.annotate(f"{_wrapped(review['name'], 18)}\n{review['date']}", xy=(review["month"], 1),
                          xycoords=("data", "axes fraction"), xytext=(3, 2), textcoords="offset points", ha="left",
                          va="bottom", fontsize=7, color=INK)
        ticks, today = _month_ticks(end), dt.date.fromisoformat(timeline["today"])
        axes.set_xticks(ticks, [month_label(date_after(today, m)) for m in ticks])
        axes.yaxis.get_major_locator().set_params(integer=True)
        axes.set_ylabel("goals")
        axes.grid(axis="y", color=GRID, linewidth=0.6, zorder=0)
        axes.legend(loc="lower right", fontsize=7.5)
        return _svg(figure, "goals-met", "Goals expected to be met by their dates, against the calendar and the reviews")


def _month_ticks(end: float) -> list[int]:
    """Months to mark on a time axis: every quarter, half-year or year, by how far it reaches (none so close to
    the end that its calendar label would spill past the chart)."""
    step = 3 if end <= 15 else 6 if end <= 40 else 12 if end <= 120 else 60
    return [m for m in range(0, int(end) + 1, step) if m <= end * 0.92]


_EDGE_STYLE = {
    "hard": {"color": MUTED, "linestyle": "-", "linewidth": 1.1},
    "soft": {"color": "#98a2b3", "linestyle": (0, (3, 2)), "linewidth": 1.0},
    "harms": {"color": HARM, "linestyle": "-", "linewidth": 1.3},
    "mitigates": {"color": MITIGATION, "linestyle": (0, (1, 1.6)), "linewidth": 1.1},
}


def _layout(graph: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Seeded spring layouts, one per connected part, packed in rows (largest first).

    Each part starts from columns by term (short-term left, long-term right); laying
    out the parts separately keeps a big report's many small parts from collapsing
    into dots, as one spring layout of all of them would.
    """
    layout = nx.Graph()
    layout.add_nodes_from(n["ref"] for n in graph["nodes"])
    layout.add_edges_from((e["src"], e["dst"]) for e in graph["edges"])
    columns: dict[float, list[str]] = {}
    for node in graph["nodes"]:
        columns.setdefault({"short": 0.0, "medium": 1.0, "long": 2.0}.get(node["term"], 1.0), []).append(node["ref"])
    start = {ref: (x, (row + 0.5) / len(refs) * 2.0) for x, refs in columns.items() for row, ref in enumerate(refs)}
    parts = sorted((sorted(part) for part in nx.connected_components(layout)), key=lambda part: (-len(part), part))
    boxes = []
    for part in parts:
        side = len(part) ** 0.5
        if len(part) == 1:
            boxes.append((side, {part[0]: (0.0, 0.0)}))
            continue
        ordered = nx.Graph()  # nodes in a fixed order: a subgraph view lists them in a set's (hash seed's) order
        ordered.add_nodes_from(part)
        ordered.add_edges_from(layout.subgraph(part).edges)
        pos = nx.spring_layout(ordered, pos={ref: start[ref] for ref in part}, seed=LAYOUT_SEED,
                               k=3.0 / side, iterations=150, scale=side * 0.42)
        boxes.append((side, {ref: (float(x), float(y)) for ref, (x, y) in pos.items()}))
    width = max([side for side, _ in boxes] + [sum(side * side for side, _ in boxes) ** 0.5 * 1.4])
    placed: dict[str, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for side, pos in boxes:
        if x > 0 and x + side > width + 1e-9:
            x, y, row_height = 0.0, y - row_height, 0.0
        placed |= {ref: (x + side / 2 + px, y - side / 2 + py) for ref, (px, py) in pos.items()}
        x, row_height = x + side, max(row_height, side)
    return placed


def _node_style(node: dict[str, Any]) -> tuple[str, int, str, str, float, bool]:
    """Marker, size, fill, outline, outline width and dashing of a node (nodes sharing a style draw in one call)."""
    if node["kind"] != "service":
        return ("s", 90, "#f2f4f7", MUTED, 0.8, False)
    colour = TERM_COLOURS.get(node["term"], "#d0d5dd")
    width = 2.2 if node["on_path"] else 0.8
    if node["status"] == "active":
        return ("o", 120, colour, INK, width, False)
    return ("o", 120, "white", colour, width, True)


def graph_chart(graph: dict[str, Any]) -> Markup:
    """Services, the outcomes they harm, and the edges between them; edges on a finding's path drawn heavy."""
    nodes = {n["ref"]: n for n in graph["nodes"]}
    pos = _layout(graph)
    with rc_context(RC):
        figure = Figure(figsize=(7.6, 7.2))
        axes = figure.add_axes((0.01, 0.12, 0.98, 0.87))
        axes.set_axis_off()
        xs = [p[0] for p in pos.values()] or [0.0]
        ys = [p[1] for p in pos.values()] or [0.0]
        pad_x, pad_y = (max(xs) - min(xs)) * 0.08 + 0.1, (max(ys) - min(ys)) * 0.08 + 0.1
        axes.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
        axes.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
        for edge in graph["edges"]:
            style = dict(_EDGE_STYLE[edge["kind"]])
            if edge["on_path"]:
                style |= {"color": HARM if edge["kind"] == "harms" else FLAGGED_DEPENDENCY, "linewidth": 3.0, "linestyle": "-"}
            alpha = 1.0 if edge["active"] else 0.35
            axes.add_artist(FancyArrowPatch(  # add_artist: limits are set, so skip computing each path twice
                pos[edge["src"]], pos[edge["dst"]], arrowstyle="-|>", mutation_scale=9, shrinkA=8, shrinkB=8,
                connectionstyle="arc3,rad=0.08", alpha=alpha, zorder=3 if edge["on_path"] else 1, **style,
            ))
        groups: dict[tuple, list[tuple[float, float]]] = {}
        for ref, node in nodes.items():
            groups.setdefault(_node_style(node), []).append(pos[ref])
            x, y = pos[ref]
            label = _wrapped(node["label"]) + (f"\n({node['status']})" if node["status"] not in (None, "active") else "")
            axes.text(x, y - 0.045 * (max(ys) - min(ys) + 0.2), label, ha="center", va="top", fontsize=7.5, zorder=5,
                      fontweight="bold" if node["on_path"] else "normal",
                      bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        for (marker, size, face, edge, width, dashed), points in sorted(groups.items()):
            axes.scatter([x for x, _ in points], [y for _, y in points], s=size, marker=marker, color=face,
                         edgecolor=edge, linewidth=width, linestyle="--" if dashed else "-", zorder=4)
        handles = [
            Line2D([], [], label="hard dependency", **_EDGE_STYLE["hard"]),
            Line2D([], [], label="soft dependency", **_EDGE_STYLE["soft"]),
            Line2D([], [], label="harm", **_EDGE_STYLE["harms"]),
            Line2D([], [], label="harm not in effect", alpha=0.35, **_EDGE_STYLE["harms"]),
            Line2D([], [], label="mitigation", **_EDGE_STYLE["mitigates"]),
            Line2D([], [], color=HARM, linewidth=3, label="harm on a finding's path"),
            Line2D([], [], color=FLAGGED_DEPENDENCY, linewidth=3, label="dependency on a finding's path"),
        ] + [
            Line2D([], [], marker="o", linestyle="", color=TERM_COLOURS[t], markeredgecolor=INK, label=f"{t}-term service")
            for t in ("short", "medium", "long")
        ] + [
            Line2D([], [], marker="o", linestyle="", color="white", markeredgecolor=MUTED, label="service not running"),
            Line2D([], [], marker="s", linestyle="", color="#f2f4f7", markeredgecolor=MUTED, label="outcome"),
        ]
        figure.legend(handles=handles, loc="lower center", ncol=4, bbox_to_anchor=(0.5, 0.0), columnspacing=1.2)
        return _svg(figure, "graph", "Dependencies, harms and mitigations between services")


LEVEL_COLOURS = {"error": HARM, "warning": "#f79009", "info": "#98a2b3"}


def trend_chart(trend: list[dict[str, Any]]) -> Markup:
    """One column per review, the state now last: effort by term, goal adherence, open findings by level.

    Three panels over the same columns, so a move in the balance can be read against the adherence and
    the findings it came with.
    """
    xs = list(range(len(trend)))
    with rc_context(RC):
        figure = Figure(figsize=(7.6, 5.0))
        shares, adherence, findings = (figure.add_axes((0.1, bottom, 0.66, 0.24)) for bottom in (0.7, 0.4, 0.1))
        base = [0.0] * len(trend)
        for term in ("short", "medium", "long"):
            values = [point["shares"][term] for point in trend]
            shares.bar(xs, values, bottom=base, width=0.5, color=TERM_COLOURS[term], edgecolor="white", linewidth=1, label=f"{term} term")
            for x, value, below in zip(xs, values, base):
                if value >= 0.08:
                    shares.text(x, below + value / 2, f"{value * 100:.0f}%", ha="center", va="center", fontsize=7.5,
                                color=INK if term == "short" else "white", fontweight="bold")
            base = [b + v for b, v in zip(base, values)]
        shares.set_ylim(0, 1)
        shares.set_yticks([0, 0.5, 1], ["0%", "50%", "100%"])
        shares.set_title("Share of effort by term", loc="left", fontsize=8.5, color=INK)
        values = [point["adherence"] for point in trend]
        known = [(x, v) for x, v in zip(xs, values) if v is not None]
        adherence.plot([x for x, _ in known], [v for _, v in known], color=TERM_COLOURS["medium"], marker="o", linewidth=1.8)
        for x, value in known:
            adherence.annotate(f"{value * 100:.0f}%", (x, value), xytext=(0, 6), textcoords="offset points", ha="center", fontsize=7.5)
        adherence.set_ylim(0, 1.15)
        adherence.set_yticks([0, 0.5, 1], ["0%", "50%", "100%"])
        adherence.set_title("Goal coverage score", loc="left", fontsize=8.5, color=INK)
        base = [0] * len(trend)
        for level, colour in LEVEL_COLOURS.items():
            counts = [point["findings"][level] for point in trend]
            findings.bar(xs, counts, bottom=base, width=0.5, color=colour, edgecolor="white", linewidth=1,
                         label=LEVEL_WORDS[level])
            for x, count, below in zip(xs, counts, base):
                if count:
                    findings.text(x, below + count / 2, str(count), ha="center", va="center", fontsize=7.5,
                                  color="white" if level == "error" else INK, fontweight="bold")
            base = [b + c for b, c in zip(base, counts)]
        findings.set_ylim(0, max(base + [1]) * 1.1)
        findings.set_title("Open findings by severity", loc="left", fontsize=8.5, color=INK)
        # Each review under its date; the state now without one (the run date belongs in the appendix only).
        ticks = [f"{_short(p['label'], 24)}\n{long_date(dt.date.fromisoformat(p['date']))}" for p in trend[:-1]] + [
            _short(trend[-1]["label"], 24)]
        for axes in (shares, adherence, findings):
            axes.set_xlim(-0.6, len(trend) - 0.4)
            axes.set_xticks(xs, ticks if axes is findings else [])
            axes.tick_params(length=0)
            axes.grid(axis="y", color=GRID, linewidth=0.6, zorder=0)
            axes.set_axisbelow(True)
        shares.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), handlelength=1.2)
        findings.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), handlelength=1.2)
        return _svg(figure, "trend", "The trend over the reviews: effort by term, goal coverage score and open findings")


DRAWINGS = {"shares": shares_chart, "timeline": timeline_chart, "goals_met": goals_met_chart, "graph": graph_chart,
            "trend": trend_chart}  # by the names of context.CHARTS


def draw(name: str, *data: Any) -> Markup:
    """The chart of this name drawn from its data (as ``context.chart_data`` gives it)."""
    return DRAWINGS[name](*data)
