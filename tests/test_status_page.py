"""The status page's HTML, from plain data: everything escaped, nothing fetched, counts shown."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

from test_plan import calendar

from scheduled.daemon.overview import Overview, PassLine, ScheduleLine
from scheduled.daemon.status_page import render
from scheduled.daemon.week_view import week_view
from scheduled.model.desired import Spec

NOW = datetime(2026, 1, 14, 10, 20, tzinfo=UTC)
HOSTILE_FILE = 'team/<script>alert("file")</script>.yaml'
HOSTILE_NOTE = '"><img src=x onerror=alert(1)> & </td></table>'


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each heat map cell by its title."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: dict[str, str] = {}
        self._title: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        self._title = found.get("title") if tag == "td" else None
        if self._title is not None:
            self.cells.setdefault(self._title, "")

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self.cells[self._title] = self.cells.get(self._title, "") + data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._title = None

    def named(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def line(**fields: object) -> ScheduleLine:
    base: dict[str, object] = {
        "workflow_id": "nightly",
        "schedule_id": "schedule-foo-nightly",
        "source": "nightly.yaml",
        "in_sync": True,
        "sync": "in sync",
        "workflow": "Job",
        "when": "at 03:00",
        "timezone": "UTC",
        "paused": "no",
        "next_run": "2026-01-15 03:00:00",
        "next_in": "in 16 h 40 min",
        "input_shape": "object with 2 keys",
    }
    return ScheduleLine(**{**base, **fields})  # type: ignore[arg-type]


def page(**fields: object) -> Overview:
    base: dict[str, object] = {
        "project": "foo",
        "root": "/srv/tree",
        "generated_at": "2026-01-14 10:20:00",
        "ready": True,
        "not_ready_reason": "",
        "temporal_up": True,
        "activity": "watching /srv/tree: 1 schedules",
        "revision": "abc123",
        "watcher_mode": "inotify",
        "uptime": "5 min",
        "week": week_view([], NOW),
        "schedules": (line(),),
        "known": True,
    }
    return Overview(**{**base, **fields})  # type: ignore[arg-type]


def test_hostile_file_names_notes_and_errors_are_text_not_markup() -> None:
    html = render(
        page(
            schedules=(line(source=HOSTILE_FILE, note=HOSTILE_NOTE, workflow_id="<b>id</b>"),),
            invalid_files=((HOSTILE_FILE, (f"{HOSTILE_FILE}:3:7: error: <i>bad</i> [x]",)),),
            passes=(PassLine(finished_at="now", kind="failed", problems=(HOSTILE_NOTE,)),),
            activity=HOSTILE_NOTE,
            revision='"><script>',
        )
    )
    tags = {name for name, _ in Tags(html).tags}
    assert not tags & {"script", "img", "b", "i"}
    assert HOSTILE_FILE not in html and HOSTILE_NOTE not in html
    assert "team/&lt;script&gt;alert(&quot;file&quot;)&lt;/script&gt;.yaml:3:7" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &lt;/td&gt;&lt;/table&gt;" in html


def test_the_page_fetches_nothing_and_runs_no_script() -> None:
    tags = Tags(render(page()))
    assert not tags.named("script") and not tags.named("img") and not tags.named("iframe")
    assert not [attrs for _, attrs in tags.tags if "src" in attrs]
    links = [attrs.get("href") or "" for attrs in tags.named("a") + tags.named("link")]
    assert links and all(link.startswith(("#", "/")) for link in links)
    policy = [m for m in tags.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (policy[0]["content"] or "")
    refresh = [m for m in tags.named("meta") if m.get("http-equiv") == "refresh"]
    assert refresh[0]["content"] == "30"


def test_readiness_and_its_reason_lead_the_page() -> None:
    html = render(page(ready=False, not_ready_reason="Temporal unreachable", temporal_up=False))
    assert '<span class="state bad">Not ready: Temporal unreachable</span>' in html
    assert "<title>NOT READY · scheduled · foo</title>" in html
    assert '<span class="state ok">Ready</span>' in render(page())


def test_each_schedule_is_a_row_with_its_file_sync_pause_and_runs() -> None:
    html = render(
        page(
            schedules=(
                line(),
                line(
                    workflow_id="held",
                    source="ops/held.yaml",
                    in_sync=False,
                    sync="out of sync: pause",
                    paused="by operator",
                    next_run="",
                    next_in="",
                    last_run="2026-01-14 09:00:00",
                    last_status="failed",
                ),
            )
        )
    )
    rows = html.split('<section id="schedules">', 1)[1].split("</tbody>", 1)[0].split("<tr>")[2:]
    assert len(rows) == 2
    assert "ops/held.yaml" in rows[1] and "out of sync: pause" in rows[1]
    assert "by operator" in rows[1] and '<div class="bad">failed</div>' in rows[1]
    assert "2026-01-15 03:00:00" in rows[0] and "object with 2 keys" in rows[0]


def test_the_heat_map_shows_how_many_schedules_fire_in_each_hour() -> None:
    monday_nine = Spec(calendars=(calendar("0 9 * * 1"),))
    herd = [(f"report-{n}", monday_nine) for n in range(12)]
    week = week_view([*herd, ("nightly", Spec(calendars=(calendar("0 3 * * *"),)))], NOW)
    tags = Tags(render(page(week=week)))
    herd_title = (
        "Mon 09:00-10:00 UTC: 12 schedules: report-0, report-1, report-10, report-11, "
        "report-2, report-3, report-4, report-5 and 4 more"
    )
    assert tags.cells[herd_title] == "12"
    assert tags.cells["Tue 03:00-04:00 UTC: 1 schedule: nightly"] == "1"
    assert tags.cells["Tue 09:00-10:00 UTC: nothing fires"] == ""
    assert tags.cells["Wed 10:00-11:00 UTC (now): nothing fires"] == ""
    classes = {attrs.get("title"): attrs.get("class") for attrs in tags.named("td")}
    assert (
        classes[herd_title] == "h4" and classes["Tue 03:00-04:00 UTC: 1 schedule: nightly"] == "h1"
    )
    assert "Busiest: Mon 09:00 UTC, 12 schedules each." in render(page(week=week))


def test_before_the_first_pass_the_page_says_so() -> None:
    html = render(page(known=False, schedules=(), ready=False, not_ready_reason="starting"))
    assert "No pass has finished yet." in html and "None yet." in html


def test_the_last_passes_show_outcomes_and_problems() -> None:
    passes = (
        PassLine(
            finished_at="2026-01-14 10:19:00",
            kind="changed",
            duration="40 ms",
            files=1,
            converged=False,
            counts="1 failed",
            problems=("failed schedule-foo-a (a.yaml): deadline exceeded",),
        ),
    )
    html = render(page(passes=passes))
    assert '<td>changed</td><td>40 ms</td><td>1</td><td class="bad">no</td>' in html
    assert "failed schedule-foo-a (a.yaml): deadline exceeded" in html
