"""Counts over time: alerts and reports per rule or per entity, last day or
week, as a stacked bar chart laid out here and drawn as inline SVG by the
template (no chart library, nothing for the browser to run). Pure.

An alert counts once, when it was created; a report is every revision that
brought news (new or update), when it was made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.dashboard.display import aware, clean_text
from monitor.dashboard.view import AlertEntry

SPANS = {"day": (timedelta(days=1), 24), "week": (timedelta(days=7), 28)}
BY = ("rule", "entity")
TOP = 5
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM = 720, 160, 34, 20


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str  # tooltip


@dataclass
class Series:
    key: str
    label: str
    css: str
    alerts: int
    reports: int


@dataclass
class Chart:
    by: str
    span: str
    series: list[Series]
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # x, label
    ymax: int
    width: int = WIDTH
    height: int = HEIGHT
    pad_left: int = PAD_LEFT
    pad_bottom: int = PAD_BOTTOM

    @property
    def empty(self) -> bool:
        return not self.series


def _keys(entry: AlertEntry, by: str) -> list[tuple[str, str]]:
    if by == "rule":
        return [(entry.alert.rule_id, entry.alert.rule_id)]
    return [(e.id, e.name) for e in entry.alert.entities] or [("(none)", "(no entity)")]


def counts_chart(entries: Iterable[AlertEntry], now: datetime, by: str = "rule", span: str = "day") -> Chart:
    by = by if by in BY else "rule"
    span = span if span in SPANS else "day"
    length, n_buckets = SPANS[span]
    start, step = now - length, length / n_buckets
    per_bucket: list[Counter] = [Counter() for _ in range(n_buckets)]
    alerts, reports, labels = Counter(), Counter(), {}

    def bucket(moment: datetime) -> int | None:
        offset = aware(moment) - start
        return int(offset / step) if timedelta(0) <= offset < length else None

    for entry in entries:
        keys = _keys(entry, by)
        created = bucket(entry.alert.created_at)
        for key, label in keys:
            labels.setdefault(key, label)
            if created is not None:
                per_bucket[created][key] += 1
                alerts[key] += 1
            reports[key] += sum(1 for r in entry.revisions if r.action != "resolved" and bucket(r.at) is not None)
    ranked = [k for k, _ in (alerts + reports).most_common() if alerts[k] or reports[k]]
    top, rest = ranked[:TOP], ranked[TOP:]
    series = [Series(k, clean_text(labels[k], 60), f"s{i}", alerts[k], reports[k]) for i, k in enumerate(top)]
    if rest:
        series.append(Series("(other)", f"{len(rest)} other", "s5", sum(alerts[k] for k in rest),
                             sum(reports[k] for k in rest)))
    css = {s.key: s.css for s in series}
    stacks = [[(css.get(k, "s5"), n, labels[k]) for k, n in counts.items()] for counts in per_bucket]
    ymax = max([sum(n for _, n, _ in stack) for stack in stacks] + [1])
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_BOTTOM
    bar_w = plot_w / n_buckets
    bars: list[Bar] = []
    for i, stack in enumerate(stacks):
        y = plot_h
        moment = start + step * i
        for css_class, n, label in sorted(stack):
            h = plot_h * n / ymax
            y -= h
            bars.append(Bar(round(PAD_LEFT + i * bar_w + 1, 1), round(y, 1), round(bar_w - 2, 1), round(h, 1),
                            css_class, f"{clean_text(label, 60)}: {n} alert(s) from {moment:%a %H:%M} UTC"))
    every = 6 if span == "day" else 4
    fmt = "%H:%M" if span == "day" else "%a %d"
    ticks = [(round(PAD_LEFT + i * bar_w, 1), (start + step * i).strftime(fmt)) for i in range(0, n_buckets, every)]
    return Chart(by, span, series, bars, ticks, ymax)
