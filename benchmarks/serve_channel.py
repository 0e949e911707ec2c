"""Serving a channel: ``/feeds/all.rss`` with 500 items out of 100,000 stored activities,
under gunicorn, loaded with ``wrk`` on loopback.

    python benchmarks/serve_channel.py [--activities 100000] [--seconds 10] [--workers 2]

Measured, each beside the same bytes served as a static file by the same server (the
same Flask app under the same gunicorn, ``send_from_directory``):

- **warm**: the rendering is in every worker's cache;
- **after invalidation**: the first request after a change (a new token on another
  channel moves the store's change counter), one at a time, many times: its latency;
- **every request a miss**: a ``wrk`` script adds a new throwaway query parameter to each
  request, so each one is rendered from the database (what serving would cost with no
  cache at all).

It prints a table and writes ``benchmarks/results/serve_channel.{json,md}``. Needs
Debian's ``wrk`` and the ``bench`` extra (gunicorn).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedhub.channels import parse_spec  # noqa: E402
from feedhub.config import load_settings  # noqa: E402
from feedhub.decide import activity_id  # noqa: E402
from feedhub.models import Activity, BoxArt, Kind, Title, Verb  # noqa: E402
from feedhub.services import build_services  # noqa: E402
from feedhub.storage.rows import NewSource, PollRow, PollWrite  # noqa: E402

FEED_PATH = "/feeds/all.rss?limit=500"
STATIC_NAME = "all.rss"
ACCOUNTS = ("home", "alex", "sam")
VERBS = (Verb.WATCHED, Verb.RATED, Verb.QUEUED, Verb.RECOMMENDED)
CHUNK = 5_000

# Each request its own query: every request misses the cache.
MISS_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", wrk.path .. "&bench=" .. counter .. "-" .. math.random(1, 1000000000))
end
"""


@dataclass(frozen=True)
class Load:
    what: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int


def fill(data_dir: Path, count: int) -> None:
    """``count`` activities over three accounts, one a minute back from now; ``all`` public."""
    services = build_services(load_settings({"data_dir": data_dir}, environ={}))
    store, now = services.store, datetime.now(UTC)
    try:
        for index, name in enumerate(ACCOUNTS):
            url = f"https://api.example/users/U{index}/rental_history/watched?feed_token=bench{index}"
            account, (source,) = store.add_account(name, f"bench:{name}", None, [NewSource(url, url, "Watched", Kind.WATCHED)], 900, now)
            per_account = count // len(ACCOUNTS) + (1 if index < count % len(ACCOUNTS) else 0)
            for start in range(0, per_account, CHUNK):
                made = tuple(_activity(name, index, n, now) for n in range(start, min(start + CHUNK, per_account)))
                poll = PollRow(source.id, now, 0, "ok", 200, 0, len(made), 0, 0, "bench")
                store.save_poll(PollWrite(source.id, account.id, poll, {"last_outcome": "ok"}, activities=made))
        spec = store.channel("all").spec
        store.replace_channel("all", parse_spec({"public": True}, spec), now)
        assert store.activity_count() == count
    finally:
        services.close()


def _activity(account: str, index: int, n: int, now: datetime) -> Activity:
    verb = VERBS[n % len(VERBS)]
    number = index * 1_000_000 + n
    title = Title(
        key=f"catalog:movies/{number}",
        name=f"Film number {number}",
        year=1950 + n % 70,
        web_url=f"http://www.netflix.com/Movie/{number}",
        box_art=BoxArt(large=f"http://cdn.example/boxshots/large/{number}.jpg"),
    )
    when = now - timedelta(minutes=n * len(ACCOUNTS) + index)
    rating = float(1 + n % 5) if verb in (Verb.RATED, Verb.RECOMMENDED) else None
    return Activity(activity_id(f"bench:{account}", verb, title.key, "", when.isoformat()), f"bench:{account}", verb, title, when, rating=rating)


def bench_app():
    """The WSGI app gunicorn serves: feedhub, plus a static route for the same bytes."""
    from flask import send_from_directory

    from feedhub.web import create_app

    app = create_app()
    static_dir = os.environ["BENCH_STATIC_DIR"]
    app.add_url_rule("/bench/static/<path:name>", "bench_static", lambda name: send_from_directory(static_dir, name))
    return app


def free_port() -> int:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        return listening.getsockname()[1]


def wrk(url: str, seconds: int, script: Path | None = None) -> Load:
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed requests under wrk:\n{output}")
    return Load("", rate, _latency(output, "50%"), _latency(output, "99%"), total)


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{re.escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cold_latencies(base: str, data_dir: Path, samples: int) -> list[float]:
    """The first request after a change, ``samples`` times: milliseconds each."""
    services = build_services(load_settings({"data_dir": data_dir}, environ={}))
    spare = services.store.add_channel(parse_spec({"name": "spare"}), datetime.now(UTC)).name
    times = []
    try:
        with requests.Session() as session:
            for _ in range(samples):
                services.store.rotate_channel_token(spare, datetime.now(UTC))  # any change invalidates
                started = time.perf_counter()
                response = session.get(base + FEED_PATH, headers={"Connection": "close"})
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
    finally:
        services.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=40, help="requests timed right after an invalidation")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="feedhub-bench-") as temporary:
        data_dir, static_dir = Path(temporary) / "data", Path(temporary) / "static"
        static_dir.mkdir()
        started = time.perf_counter()
        fill(data_dir, args.activities)
        print(f"stored {args.activities:,} activities in {time.perf_counter() - started:.1f} s")

        port = free_port()
        env = dict(os.environ, FEEDHUB_DATA_DIR=str(data_dir), FEEDHUB_START_SCHEDULER="off", BENCH_STATIC_DIR=str(static_dir))
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT / "benchmarks"),
             "--log-level", "warning", "serve_channel:bench_app()"],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            body = _wait_for(base + FEED_PATH)
            items = body.count(b"<item>")
            (static_dir / STATIC_NAME).write_bytes(body)
            for _ in range(args.workers * 8):  # every worker renders once
                requests.get(base + FEED_PATH).raise_for_status()
            static = wrk(f"{base}/bench/static/{STATIC_NAME}", args.seconds)
            warm = wrk(base + FEED_PATH, args.seconds)
            cold = cold_latencies(base, data_dir, args.samples)
            script = Path(temporary) / "miss.lua"
            script.write_text(MISS_SCRIPT, encoding="utf-8")
            missing = wrk(base + FEED_PATH, args.seconds, script)
        finally:
            server.terminate()
            server.wait(timeout=30)

    cold_sorted = sorted(cold)
    after = Load(
        "first request after invalidation (one at a time)",
        1000 / statistics.mean(cold),
        statistics.median(cold),
        cold_sorted[min(len(cold_sorted) - 1, round(0.99 * (len(cold_sorted) - 1)))],
        len(cold),
    )
    loads = [
        Load("static file, same bytes, same server", static.requests_per_second, static.p50_ms, static.p99_ms, static.requests),
        Load("feed, warm cache", warm.requests_per_second, warm.p50_ms, warm.p99_ms, warm.requests),
        after,
        Load("feed, every request a cache miss", missing.requests_per_second, missing.p50_ms, missing.p99_ms, missing.requests),
    ]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "activities": args.activities,
        "items": items,
        "bytes": len(body),
        "workers": args.workers,
        "wrk": f"wrk -t2 -c16 -d{args.seconds}s --latency",
        "warm_over_static": warm.requests_per_second / static.requests_per_second,
        "loads": [asdict(load) for load in loads],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_channel.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    lines = [
        f"`{FEED_PATH}`: {items} items ({len(body):,} bytes) of {args.activities:,} activities; "
        f"gunicorn, {args.workers} sync workers; {result['machine']}",
        "",
        "| what | requests/s | p50 ms | p99 ms | requests |",
        "|---|---:|---:|---:|---:|",
        *(f"| {l.what} | {l.requests_per_second:,.0f} | {l.p50_ms:.2f} | {l.p99_ms:.2f} | {l.requests:,} |" for l in loads),
        "",
        f"warm feed / static file: {result['warm_over_static']:.2f}",
    ]
    (args.out / "serve_channel.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _wait_for(url: str, seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = requests.get(url, timeout=30)
            response.raise_for_status()
            return response.content
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    main()
