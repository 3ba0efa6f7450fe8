"""The status page at `/`: the overview as one HTML document an operator reads without tools.

A pure function of plain words (`overview.Overview`), so it is tested without a daemon. Every
value is escaped where it is written, file names and notes included (they come from the tree
and from whoever edits Temporal). The page is self-contained: inline CSS, no script, nothing
fetched — the Content-Security-Policy says so, and a browser enforces it — and it reloads
itself every `refresh_s` seconds.
"""

from __future__ import annotations

from html import escape

from scheduled.daemon.overview import Overview, PassLine, ScheduleLine
from scheduled.daemon.week_view import HOURS, WEEKDAYS, WeekView

REFRESH_S = 30
_CELL_NAMES = 8  # schedule names in a heat map cell's tooltip
_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)

_CSS = """
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700;
  --muted: #656d76; --line: #d0d7de; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --bad: #f85149; --warn: #d29922;
  --muted: #8b949e; --line: #30363d; --head: #161b22; } }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1rem 1.5rem;
  max-width: 110rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: .8rem 0 .2rem; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
.state { display: inline-block; padding: .15rem .6rem; border-radius: 1rem; color: #fff;
  font-weight: 600; }
.state.ok { background: var(--ok); color: #fff; }
.state.bad { background: var(--bad); color: #fff; }
.facts { display: flex; flex-wrap: wrap; gap: .2rem 1.5rem; margin: .6rem 0; padding: 0; }
.facts div { display: flex; gap: .4rem; } .facts dt { color: var(--muted); } .facts dd { margin: 0; }
.muted { color: var(--muted); } .ok { color: var(--ok); } .bad { color: var(--bad); }
.warn { color: var(--warn); }
nav a { margin-right: 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
th { background: var(--head); position: sticky; top: 0; }
td.id, td.file, td.time { white-space: nowrap; } td.when { max-width: 22rem; } td.note { max-width: 18rem; overflow-wrap: anywhere; }
.errors li { margin: .15rem 0; } .errors code { overflow-wrap: anywhere; }
table.heat { width: auto; } table.heat td, table.heat th { border: 1px solid var(--line);
  padding: 0; width: 2.1rem; height: 1.7rem; text-align: center; vertical-align: middle;
  font-size: 12px; }
table.heat th { position: static; font-weight: 500; }
.h0 { background: transparent; } .h1 { background: #c6e6f5; color: #000; }
.h2 { background: #7cc4e8; color: #000; } .h3 { background: #2f8fcf; color: #fff; }
.h4 { background: #0b4f8a; color: #fff; }
td.now { outline: 2px solid var(--warn); outline-offset: -2px; }
"""


def render(page: Overview, *, refresh_s: int = REFRESH_S) -> str:
    """The whole document."""
    state = "ready" if page.ready else "NOT READY"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_POLICY)}">',
        f'<meta http-equiv="refresh" content="{int(refresh_s)}">',
        f"<title>{_e(state)} · scheduled · {_e(page.project)}</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(page, refresh_s),
        '<nav><a href="#schedules">Schedules</a><a href="#errors">File errors</a>'
        '<a href="#week">Week</a><a href="#passes">Last passes</a>'
        '<a href="/status">/status (JSON)</a><a href="/metrics">/metrics</a></nav>',
        _errors(page),
        _schedules(page),
        _week(page.week),
        _passes(page.passes),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _header(page: Overview, refresh_s: int) -> str:
    if page.ready:
        state = '<span class="state ok">Ready</span>'
    else:
        reason = f": {page.not_ready_reason}" if page.not_ready_reason else ""
        state = f'<span class="state bad">Not ready{_e(reason)}</span>'
    temporal = (
        '<span class="ok">reachable</span>'
        if page.temporal_up
        else '<span class="bad">unreachable</span>'
    )
    facts = [
        ("revision", f'<span class="mono">{_e(page.revision or "(none)")}</span>'),
        ("Temporal", temporal),
        ("schedules", _e(len(page.schedules)) if page.known else "not known yet"),
        ("invalid files", _invalid_count(page)),
        ("watcher", _e(page.watcher_mode)),
        ("up", _e(page.uptime)),
        ("tree", f'<span class="mono">{_e(page.root)}</span>'),
    ]
    listed = "".join(f"<div><dt>{_e(name)}</dt><dd>{value}</dd></div>" for name, value in facts)
    return (
        f"<header><h1>scheduled · {_e(page.project)}</h1>{state}"
        f'<dl class="facts">{listed}</dl>'
        f'<p class="muted">{_e(page.activity)}</p>'
        f'<p class="muted">All times are UTC. Generated {_e(page.generated_at)}; '
        f"reloads every {int(refresh_s)} s.</p></header>"
    )


def _invalid_count(page: Overview) -> str:
    count = len(page.invalid_files)
    return f'<a class="bad" href="#errors">{count}</a>' if count else "0"


def _errors(page: Overview) -> str:
    if not page.invalid_files:
        return (
            '<section id="errors"><h2>File errors</h2><p class="ok">No invalid files.</p></section>'
        )
    files = []
    for file, errors in page.invalid_files:
        items = "".join(f"<li><code>{_e(error)}</code></li>" for error in errors)
        files.append(f'<h3 class="mono">{_e(file)}</h3><ul>{items}</ul>')
    return (
        '<section id="errors" class="errors"><h2>File errors</h2>'
        '<p class="muted">An invalid file changes nothing: its schedule is kept as it is until '
        "the file is fixed.</p>" + "".join(files) + "</section>"
    )


def _schedules(page: Overview) -> str:
    if not page.known:
        body = '<p class="muted">No pass has finished yet.</p>'
    elif not page.schedules:
        body = '<p class="muted">The tree has no schedules, and Temporal holds none of them.</p>'
    else:
        head = "".join(
            f"<th>{_e(name)}</th>"
            for name in (
                "Schedule",
                "File",
                "Sync",
                "Paused",
                "When",
                "Next run",
                "Last run",
                "Note",
                "Input",
            )
        )
        rows = "".join(_schedule_row(line) for line in page.schedules)
        body = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f'<section id="schedules"><h2>Schedules</h2>{body}</section>'


def _schedule_row(line: ScheduleLine) -> str:
    sync_class = {True: "ok", False: "bad", None: "warn"}[line.in_sync]
    paused_class = "" if line.paused.startswith("no") else ' class="warn"'
    next_run = (
        f'{_e(line.next_run)}<div class="muted">{_e(line.next_in)}</div>'
        if line.next_run
        else '<span class="muted">-</span>'
    )
    if line.last_run:
        status = line.last_status or "unknown"
        status_class = {"completed": "ok", "running": "muted"}.get(status, "bad")
        last_run = f'{_e(line.last_run)}<div class="{status_class}">{_e(status)}</div>'
    else:
        last_run = '<span class="muted">never</span>'
    cells = [
        f'<td class="mono id" title="{_e(line.schedule_id)}">{_e(line.workflow_id)}'
        f'<div class="muted">{_e(line.workflow)}</div></td>',
        f'<td class="mono file">{_e(line.source or "-")}</td>',
        f'<td class="{sync_class}">{_e(line.sync)}</td>',
        f"<td{paused_class}>{_e(line.paused)}</td>",
        f'<td class="when">{_e(line.when)} <span class="muted">({_e(line.timezone)})</span></td>',
        f'<td class="time">{next_run}</td>',
        f'<td class="time">{last_run}</td>',
        f'<td class="note">{_e(line.note)}</td>',
        f'<td class="muted">{_e(line.input_shape or "-")}</td>',
    ]
    return f"<tr>{''.join(cells)}</tr>"


def _week(week: WeekView) -> str:
    hours = "".join(f"<th>{hour:02d}</th>" for hour in range(HOURS))
    rows = []
    for day, name in enumerate(WEEKDAYS):
        cells = []
        for hour in range(HOURS):
            names = week.cells[day][hour]
            now = week.start.weekday() == day and week.start.hour == hour
            classes = f"h{_level(len(names), week.busiest)}" + (" now" if now else "")
            cells.append(
                f'<td class="{classes}" title="{_e(_cell_title(name, hour, names, now))}">'
                f"{len(names) or ''}</td>"
            )
        rows.append(f"<tr><th>{_e(name)}</th>{''.join(cells)}</tr>")
    stamp = "%Y-%m-%d %H:%M"
    caption = (
        f"Schedules firing in each hour (UTC) of the 7 days from "
        f"{week.start.strftime(stamp)} to {week.end.strftime(stamp)} UTC, from each schedule's "
        "spec in its own time zone; nominal times, before jitter; paused schedules left out. "
        "The outlined cell is the current hour."
    )
    busiest = _busiest(week)
    return (
        f'<section id="week"><h2>Week</h2><p class="muted">{_e(caption)}</p>{busiest}'
        f'<table class="heat"><thead><tr><th></th>{hours}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _level(count: int, busiest: int) -> int:
    """0 for none, else 1..4 relative to the busiest hour."""
    if count == 0 or busiest == 0:
        return 0
    return max(1, min(4, -(-count * 4 // busiest)))


def _cell_title(day: str, hour: int, names: tuple[str, ...], now: bool) -> str:
    when = f"{day} {hour:02d}:00-{(hour + 1) % 24:02d}:00 UTC" + (" (now)" if now else "")
    if not names:
        return f"{when}: nothing fires"
    shown = ", ".join(names[:_CELL_NAMES])
    more = f" and {len(names) - _CELL_NAMES} more" if len(names) > _CELL_NAMES else ""
    noun = "schedule" if len(names) == 1 else "schedules"
    return f"{when}: {len(names)} {noun}: {shown}{more}"


def _busiest(week: WeekView) -> str:
    if week.busiest == 0:
        return '<p class="muted">Nothing fires in the coming week.</p>'
    cells = [
        f"{WEEKDAYS[day]} {hour:02d}:00"
        for day in range(len(WEEKDAYS))
        for hour in range(HOURS)
        if week.count(day, hour) == week.busiest
    ]
    listed = ", ".join(cells[:6]) + (f" and {len(cells) - 6} more" if len(cells) > 6 else "")
    noun = "schedule" if week.busiest == 1 else "schedules"
    return f"<p>Busiest: {_e(listed)} UTC, {week.busiest} {noun} each.</p>"


def _passes(passes: tuple[PassLine, ...]) -> str:
    if not passes:
        return '<section id="passes"><h2>Last passes</h2><p class="muted">None yet.</p></section>'
    head = "".join(
        f"<th>{name}</th>"
        for name in ("Finished", "Kind", "Took", "Files", "Converged", "Outcomes", "Problems")
    )
    rows = []
    for entry in passes:
        if entry.kind == "failed":
            converged = '<td class="bad">failed</td>'
        else:
            converged = '<td class="ok">yes</td>' if entry.converged else '<td class="bad">no</td>'
        problems = "".join(f"<div>{_e(problem)}</div>" for problem in entry.problems)
        rows.append(
            f"<tr><td>{_e(entry.finished_at)}</td><td>{_e(entry.kind)}</td>"
            f"<td>{_e(entry.duration)}</td><td>{_e(entry.files if entry.duration else '')}</td>"
            f'{converged}<td>{_e(entry.counts)}</td><td class="bad">{problems}</td></tr>'
        )
    return (
        '<section id="passes"><h2>Last passes</h2><p class="muted">Newest first.</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
