"""Pictures for the dashboard, drawn on the server as inline SVG (SPEC §7).

Pure: data in, markup out; no storage, clock or request. Each picture is an ``<svg>``
with ``role="img"``, a ``<title>`` and a ``<desc>`` that says in words what it shows,
so a screen reader gets the numbers a sighted person reads off the bars. Colours come
from CSS classes (``series-N`` for accounts, ``tone-…`` for poll outcomes) whose values
are CSS variables in the stylesheet, and text is ``currentColor``, so the pictures
follow light and dark mode. No style attributes (the page's Content-Security-Policy
allows none), no script, nothing loaded from elsewhere.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

SERIES_COLOURS = 8  # .series-0 … .series-7 in the stylesheet; accounts beyond reuse them

# The drawing area of the bar and line charts, in SVG user units.
WIDTH, HEIGHT = 480, 200
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 10, 22


@dataclass(frozen=True)
class SparkMark:
    """One poll in a sparkline."""

    started_at: datetime
    label: str  # what happened, e.g. "ok" or "server error"
    tone: str  # ok | warn | error: the bar's colour class
    duration_ms: int


# data shaping -------------------------------------------------------------------------


def week_starts(today: date, weeks: int) -> list[date]:
    """The Mondays of the last ``weeks`` ISO weeks, oldest first, ending with today's."""
    this_week = today - timedelta(days=today.weekday())
    return [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def weekly_counts(daily: Iterable[tuple[str, date, int]], weeks: Sequence[date]) -> dict[str, list[int]]:
    """(account, day, count) rows → per account, one count per week of ``weeks``.
    Days before the first week or after the last are left out."""
    index = {monday: i for i, monday in enumerate(weeks)}
    counts: dict[str, list[int]] = {}
    for account, day, count in daily:
        i = index.get(day - timedelta(days=day.weekday()))
        if i is not None:
            counts.setdefault(account, [0] * len(weeks))[i] += count
    return counts


def star_counts(ratings: Iterable[tuple[str, float | None]]) -> dict[str, list[int]]:
    """(account, rating) pairs → per account, how many titles have 1, 2, 3, 4, 5 stars.
    Ratings are rounded half up, as the stars are drawn; no rating (not interested) is left out."""
    counts: dict[str, list[int]] = {}
    for account, rating in ratings:
        if rating is None:
            continue
        stars = min(5, max(1, math.floor(rating + 0.5)))
        counts.setdefault(account, [0] * 5)[stars - 1] += 1
    return counts


def series_by_account(rows: Iterable[tuple[str, datetime, int]]) -> dict[str, list[tuple[datetime, int]]]:
    """(account, time, value) rows, oldest first → one series per account."""
    series: defaultdict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for account, moment, value in rows:
        series[account].append((moment, value))
    return dict(series)


# pictures -------------------------------------------------------------------------------


def sparkline(marks: Sequence[SparkMark], *, name: str) -> Markup:
    """Recent polls of one source, oldest left: one bar per poll, its height the time the
    poll took (on a log scale, so one slow poll does not flatten the rest), its colour
    the outcome. ``name`` says whose polls they are."""
    if not marks:
        return Markup('<span class="spark-none">no polls yet</span>')
    bar, gap, height = 4, 1, 24
    longest = max(m.duration_ms for m in marks)
    scale = math.log1p(max(longest, 1))
    bars = []
    for i, mark in enumerate(marks):
        h = 3 + (height - 3) * math.log1p(mark.duration_ms) / scale
        tip = f"{_moment(mark.started_at)} · {mark.label} · {_duration(mark.duration_ms)}"
        bars.append(
            f'<rect class="tone-{escape(mark.tone)}" x="{i * (bar + gap)}" y="{height - h:.1f}" '
            f'width="{bar}" height="{h:.1f}"><title>{escape(tip)}</title></rect>'
        )
    failed = sum(1 for m in marks if m.tone != "ok")
    durations = sorted(m.duration_ms for m in marks)
    summary = (
        f"Last {len(marks)} polls of {name}: {len(marks) - failed} healthy, {failed} failed; "
        f"typical {_duration(durations[len(durations) // 2])}, slowest {_duration(longest)}"
    )
    width = len(marks) * (bar + gap) - gap
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>{"".join(bars)}</svg>'
    )


def weekly_activity(ident: str, accounts: Sequence[str], weeks: Sequence[date], counts: Mapping[str, Sequence[int]]) -> Markup:
    """Activities per week, one stacked bar per week, one colour per account."""
    title = f"Activity per week, last {len(weeks)} weeks"
    totals = {a: sum(counts.get(a, ())) for a in accounts}
    if not weeks or not any(totals.values()):
        return _empty(f"No activity in the last {len(weeks)} weeks yet.")
    week_totals = [sum(counts.get(a, [0] * len(weeks))[i] for a in accounts) for i in range(len(weeks))]
    busiest = max(range(len(weeks)), key=lambda i: week_totals[i])
    desc = (
        "; ".join(f"{a}: {totals[a]}" for a in accounts if totals[a])
        + f". Busiest: the week of {_day(weeks[busiest])} with {week_totals[busiest]}."
    )
    top = _nice_ceiling(max(week_totals))
    slot = (WIDTH - LEFT - RIGHT) / len(weeks)
    shapes = _y_grid(top)
    for i, monday in enumerate(weeks):
        x, base = LEFT + i * slot + slot * 0.15, 0
        for a in accounts:
            value = counts.get(a, [0] * len(weeks))[i]
            if value:
                shapes.append(_bar(x, base, value, slot * 0.7, top, _series(accounts, a), f"{a}, week of {_day(monday)}: {value}"))
                base += value
        if i % max(1, len(weeks) // 6) == 0 or i == len(weeks) - 1:
            shapes.append(_x_label(LEFT + i * slot + slot / 2, _day(monday)))
    return _figure(ident, title, desc, shapes, accounts, [a for a in accounts if totals[a]])


def rating_distribution(ident: str, accounts: Sequence[str], counts: Mapping[str, Sequence[int]]) -> Markup:
    """How many titles have 1 to 5 stars, one stacked bar per star count."""
    title = "Ratings: titles by number of stars"
    per_star = [sum(counts.get(a, [0] * 5)[s] for a in accounts) for s in range(5)]
    if not any(per_star):
        return _empty("No ratings yet.")
    desc = "; ".join(f"{s + 1} star{'s' if s else ''}: {per_star[s]}" for s in range(5)) + "; " + "; ".join(
        f"{a} rated {sum(counts[a])}" for a in accounts if sum(counts.get(a, ()))
    ) + "."
    top = _nice_ceiling(max(per_star))
    slot = (WIDTH - LEFT - RIGHT) / 5
    shapes = _y_grid(top)
    for s in range(5):
        x, base = LEFT + s * slot + slot * 0.2, 0
        for a in accounts:
            value = counts.get(a, [0] * 5)[s]
            if value:
                shapes.append(_bar(x, base, value, slot * 0.6, top, _series(accounts, a), f"{a}, {s + 1} ★: {value}"))
                base += value
        shapes.append(_x_label(LEFT + s * slot + slot / 2, "★" * (s + 1)))
    return _figure(ident, title, desc, shapes, accounts, [a for a in accounts if sum(counts.get(a, ()))])


def list_length(
    ident: str,
    accounts: Sequence[str],
    series: Mapping[str, Sequence[tuple[datetime, int]]],
    start: datetime,
    end: datetime,
    *,
    what: str = "Queue length",
) -> Markup:
    """A list's length over time (as each poll saw it), one step line per account."""
    title = f"{what} over time, {_day(start.date())} to {_day(end.date())}"
    shown = [a for a in accounts if series.get(a)]
    if not shown or end <= start:
        return _empty(f"{what}: no poll has measured it yet.")
    desc = "; ".join(
        f"{a}: {series[a][-1][1]} now, between {min(v for _, v in series[a])} and {max(v for _, v in series[a])}"
        for a in shown
    ) + "."
    top = _nice_ceiling(max(v for a in shown for _, v in series[a]))
    span = (end - start).total_seconds()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(moment: datetime) -> float:
        return LEFT + plot_w * min(max((moment - start).total_seconds() / span, 0.0), 1.0)

    def y_of(value: int) -> float:
        return TOP + plot_h * (1 - value / top)

    shapes = _y_grid(top)
    for a in shown:
        # One point per drawn column is enough; the last poll in a column wins.
        columns: dict[int, tuple[float, float]] = {}
        for moment, value in series[a]:
            x = x_of(moment)
            columns[round(x)] = (x, y_of(value))
        points = list(columns.values())
        path = f"M{points[0][0]:.1f} {points[0][1]:.1f}" + "".join(f"H{x:.1f}V{y:.1f}" for x, y in points[1:])
        last_x, last_y = points[-1]
        shapes.append(
            f'<g class="{_series(accounts, a)}"><title>{escape(a)}: {series[a][-1][1]} now</title>'
            f'<path class="line" d="{path}"/><circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3"/></g>'
        )
    shapes.append(_x_label(LEFT, _day(start.date()), anchor="start"))
    shapes.append(_x_label(WIDTH - RIGHT, _day(end.date()), anchor="end"))
    return _figure(ident, title, desc, shapes, accounts, shown)


# drawing helpers ---------------------------------------------------------------------------


def _figure(ident: str, title: str, desc: str, shapes: list[str], accounts: Sequence[str], legend: Sequence[str]) -> Markup:
    ident = escape(ident)
    keys = "".join(f'<li><span class="swatch {_series(accounts, a)}"></span>{escape(a)}</li>' for a in legend)
    return Markup(
        f'<figure class="chart">'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
        f'{"".join(shapes)}</svg>'
        f'<figcaption><ul class="legend">{keys}</ul></figcaption></figure>'
    )


def _empty(text: str) -> Markup:
    return Markup(f'<p class="chart-empty">{escape(text)}</p>')


def _series(accounts: Sequence[str], account: str) -> str:
    """The colour class of ``account``: its place among all ``accounts``, so one account
    has one colour in every picture."""
    return f"series-{list(accounts).index(account) % SERIES_COLOURS}"


def _bar(x: float, base: int, value: int, width: float, top: float, cls: str, tip: str) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    y = TOP + plot_h * (1 - (base + value) / top)
    h = plot_h * value / top
    return f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}"><title>{escape(tip)}</title></rect>'


def _y_grid(top: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    lines = []
    for value in (0, top / 2, top):
        y = TOP + plot_h * (1 - value / top)
        lines.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        if value == int(value):
            lines.append(f'<text class="axis" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{int(value)}</text>')
    return lines


def _x_label(x: float, text: str, anchor: str = "middle") -> str:
    return f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}">{escape(text)}</text>'


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 × 10ⁿ (n ≥ 0) that is at least ``value``: a round top for an axis."""
    step = 1.0
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def _day(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _duration(ms: int) -> str:
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"
