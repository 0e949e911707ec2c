"""How the cost of polling, merging and rendering grows with the stored history.

    python benchmarks/stored_scale.py [--sizes 10000,100000,1000000]

For each size N it fills a fresh SQLite database with N activities spread over 20
accounts (as a long-running feedhub would hold them), then measures in the same process:

- a poll of one emulator account's five feeds after its clock moved on (the write path:
  previous state, decide, one transaction per source);
- merging a channel's timeline (``read_timeline`` for ``all``, 500 items; and for one
  account with a text filter);
- rendering ``/feeds/all.rss?limit=500`` without the cache (the cache is cleared by a
  store change before each request).

Figures are medians of 5 runs, in milliseconds, with the database size and the most
memory Python held at once during any of those steps (tracemalloc); it writes
``benchmarks/results/stored_scale.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedhub.config import load_settings  # noqa: E402
from feedhub.decide import activity_id  # noqa: E402
from feedhub.emulator import create_emulator_app  # noqa: E402
from feedhub.emulator.server import serve_in_thread  # noqa: E402
from feedhub.merge import TimelineFilter  # noqa: E402
from feedhub.models import Activity, BoxArt, Kind, Title, Verb  # noqa: E402
from feedhub.scheduler import Poller  # noqa: E402
from feedhub.services import build_services  # noqa: E402
from feedhub.storage import activities as activity_rows  # noqa: E402
from feedhub.storage import changes  # noqa: E402
from feedhub.storage.rows import NewSource  # noqa: E402
from feedhub.subscribe import add_url  # noqa: E402
from feedhub.web import create_app  # noqa: E402
from feedhub.web.timeline import read_timeline  # noqa: E402

ACCOUNTS = 20
RUNS = 5
VERBS = [Verb.WATCHED, Verb.RATED, Verb.QUEUED, Verb.RECOMMENDED]


def fill(services, count: int) -> None:
    """``count`` activities over ``ACCOUNTS`` accounts, written in batches."""
    store, now = services.store, services.now()
    account_ids = []
    for n in range(ACCOUNTS):
        source = NewSource(f"https://history.example/{n}/watched.rss", f"https://history.example/{n}/watched.rss", "watched", Kind.WATCHED)
        account, _ = store.add_account(f"person{n}", f"bench:{n}", None, [source], 900, now)
        account_ids.append(account.id)
    start = now - timedelta(days=3650)
    batch = []
    with store.engine.begin() as conn:
        for i in range(count):
            account = i % ACCOUNTS
            verb = VERBS[i % len(VERBS)]
            title = Title(
                key=f"catalog:{60000000 + i % 20000}",
                name=f"Title number {i % 20000}",
                year=1950 + i % 70,
                web_url=f"https://films.example/{i % 20000}",
                box_art=BoxArt(large=f"https://img.example/{i % 20000}.jpg"),
            )
            when = start + timedelta(seconds=i * (3650 * 86400 // max(count, 1)))
            activity = Activity(
                id=activity_id(f"bench:{account}", verb, title.key, "", when.isoformat()),
                account_key=f"bench:{account}",
                verb=verb,
                title=title,
                occurred_at=when,
                rating=float(1 + i % 5) if verb in (Verb.RATED, Verb.RECOMMENDED) else None,
            )
            batch.append(activity)
            if len(batch) == 5000 or i == count - 1:
                for a_id in set(a.account_key for a in batch):
                    index = int(a_id.split(":")[1])
                    mine = [a for a in batch if a.account_key == a_id]
                    activity_rows.add(conn, activity_rows.prepare_new(conn.dialect, account_ids[index], mine, now))
                batch = []
        changes.bump(conn, now)


def median_ms(action, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def peak_mib(*actions) -> float:
    """The most memory Python allocated at once while running ``actions`` (tracemalloc;
    SQLite's page cache, bounded by its own setting, is not counted)."""
    tracemalloc.start()
    try:
        peak = 0
        for action in actions:
            tracemalloc.reset_peak()
            action()
            peak = max(peak, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    return peak / 2**20


def measure(size: int, work: Path) -> dict:
    data_dir = work / f"db-{size}"
    settings = load_settings({"data_dir": data_dir, "allow_private_networks": True, "max_per_host": 8}, environ={})
    services = build_services(settings)
    started = time.perf_counter()
    fill(services, size)
    fill_seconds = time.perf_counter() - started

    emulator_app = create_emulator_app(seed=3, users=1, start=datetime(2026, 1, 1, tzinfo=UTC))
    emulated = emulator_app.extensions["emulator"]
    emulated.clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    server = serve_in_thread(emulator_app)
    poller = Poller(services)
    try:
        add_url(services.store, services.fetcher, emulated.feeds_list_url(server.url, 0), "live", 900, services.now())
        live = [s for s in services.store.sources() if s.account_name == "live"]
        poller.poll_many(live)  # the backfill, not measured

        def poll_after_change() -> None:
            emulated.advance(600)
            poller.poll_many([services.store.source(s.id) for s in live])

        poll_ms = median_ms(poll_after_change)
        store = services.store
        merge_all = lambda: read_timeline(store, TimelineFilter(limit=500), None)  # noqa: E731
        merge_one = lambda: read_timeline(store, TimelineFilter(limit=50, text="number 1"), frozenset({"person3"}))  # noqa: E731
        merge_all_ms = median_ms(merge_all)
        merge_one_ms = median_ms(merge_one)
        app = create_app(services=services)
        client = app.test_client()
        token = store.channel("all").token

        def render_uncached() -> None:
            with store.engine.begin() as conn:
                changes.bump(conn)
            response = client.get(f"/feeds/all.rss?limit=500&token={token}")
            assert response.status_code == 200

        render_ms = median_ms(render_uncached)
        peak = peak_mib(poll_after_change, merge_all, merge_one, render_uncached)
    finally:
        poller.close()
        server.stop()
        services.close()
    # Once the store is closed: its last connection copies the write-ahead log into the
    # file and removes it, so the size is the database's, not how far a checkpoint got.
    database_mib = sum(p.stat().st_size for p in data_dir.glob("feedhub.db*")) / 2**20
    return {
        "activities": size,
        "fill_seconds": round(fill_seconds, 1),
        "database_mib": round(database_mib, 1),
        "poll_5_feeds_ms": round(poll_ms, 1),
        "merge_all_500_ms": round(merge_all_ms, 1),
        "merge_one_account_text_ms": round(merge_one_ms, 1),
        "render_rss_500_uncached_ms": round(render_ms, 1),
        "peak_mib": round(peak, 1),
    }


HEADER = (
    "| stored activities | DB MiB | poll 5 feeds ms | merge all (500) ms | merge one account + text ms | "
    "render RSS 500 uncached ms | peak MiB of those |\n|---|---|---|---|---|---|---|"
)


def _line(r: dict) -> str:
    return (
        f"| {r['activities']:,} | {r['database_mib']} | {r['poll_5_feeds_ms']} | {r['merge_all_500_ms']} | "
        f"{r['merge_one_account_text_ms']} | {r['render_rss_500_uncached_ms']} | {r['peak_mib']} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    rows = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="feedhub-scale-") as tmp:
        for size in args.sizes:
            row = measure(size, Path(tmp))
            rows.append(row)
            print(_line(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "stored_scale.json").write_text(json.dumps(rows, indent=2))
    lines = [HEADER, *map(_line, rows)]
    (args.out / "stored_scale.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
