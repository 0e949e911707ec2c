"""The poll-cycle benchmark: feedhub beside its peers, on the same sources, in one run.

    python benchmarks/poll_cycle.py [--sizes 100,1000,10000] [--processes N] [--out benchmarks/results]

For each size S it writes S Atom feeds of 25 entries (about 11 KB each) to disk, serves
them on loopback with nginx (which answers ETag/Last-Modified conditionals and is far
faster than any client here, so it measures the client), and measures in separate
processes, so each has its own CPU and memory figures:

- feedhub: a cold cycle (first poll, all 200), a warm cycle (all 304) and a cycle where
  10% of the files changed (the same tenth, changed again before each run; the warm and
  changed figures are medians of three, the tools taking turns), with ``--processes`` poll processes (default: one per CPU;
  their CPU time and peak memory are counted with the main process's) and, for
  comparison, with one process;
- reader (PyPI), ``update_feeds(workers=8)``: the same three cycles;
- a naive sequential ``feedparser.parse(url)`` loop: the cold cycle (it has no state);
- nginx's own ceiling on one of the files under ``wrk`` (200 and 304);
- feedhub against the emulator (Netflix-style feeds, paging, 5 feeds per user) at the
  smallest size.

It prints a table and writes ``poll_cycle.json`` and ``poll_cycle.md``.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
ENTRIES_PER_FEED = 25
CHANGED_SHARE = 0.10
READER_WORKERS = 8
FEEDHUB = "feedhub"
RUNS = 3  # warm and changed cycles per tool and size, at least; the median is reported
# Short cycles are run more often: each tool polls at least this many sources in its
# rounds of one kind (10 rounds at 100 sources). One of feedhub's cycles of 100 lasts
# 20-40 ms, and the median of three of them moved by a quarter from one run to the next.
ROUND_SOURCES = 1000
FEEDHUB_ONE = "feedhub, 1 process"


@dataclass(frozen=True)
class Cycle:
    tool: str
    origin: str
    sources: int
    cycle: str  # cold, warm, changed
    seconds: float
    cpu_seconds: float
    peak_mib: float
    ok: int

    @property
    def per_second(self) -> float:
        return self.sources / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_source(self) -> float:
        return 1000 * self.cpu_seconds / self.sources if self.sources else 0.0


# ---------------------------------------------------------------------------- feeds


def write_feeds(directory: Path, count: int, generation: int = 0, only: range | None = None) -> None:
    """Atom feeds ``0.xml`` … of 25 entries each; ``generation`` changes their content."""
    directory.mkdir(parents=True, exist_ok=True)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for index in only if only is not None else range(count):
        entries = []
        for n in range(ENTRIES_PER_FEED):
            when = (base + timedelta(hours=index + n + generation * 1000)).strftime("%Y-%m-%dT%H:%M:%SZ")
            title = f"Title {index}-{n}-{generation} watched"
            entries.append(
                f"<entry><id>urn:bench:{index}:{generation}:{n}</id><title>{escape(title)}</title>"
                f'<link rel="alternate" href="https://films.example/{index}/{n}"/>'
                f"<updated>{when}</updated><author><name>bench</name></author>"
                f"<summary>{escape('A film that someone watched and wrote a short note about. ' * 4)}</summary></entry>"
            )
        body = (
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>urn:bench:{index}</id><title>Diary {index}</title><updated>{base.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
            + "".join(entries)
            + "</feed>\n"
        )
        path = directory / f"{index}.xml"
        path.write_text(body, encoding="utf-8")
        # A distinct mtime per generation so nginx's ETag and Last-Modified change.
        stamp = time.time() + generation
        os.utime(path, (stamp, stamp))


def write_opml(path: Path, urls: list[str]) -> None:
    outlines = "".join(f'<outline type="rss" text="feed {i}" xmlUrl="{escape(u)}"/>' for i, u in enumerate(urls))
    path.write_text(f'<?xml version="1.0"?><opml version="2.0"><head><title>bench</title></head><body>{outlines}</body></opml>')


# ---------------------------------------------------------------------------- origin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx serving a directory on loopback, with its default ETag/Last-Modified."""

    def __init__(self, root: Path, work: Path):
        self.port = free_port()
        self.work = work
        conf = work / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000;
    types {{ application/atom+xml xml; }}
    client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
    server {{ listen 127.0.0.1:{self.port}; root {root}; }}
}}
"""
        )
        (work / "tmp").mkdir(exist_ok=True)
        self.process = subprocess.Popen(["nginx", "-c", str(conf), "-e", str(work / "error.log")])
        _wait_for_port(self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def wrk_ceiling(url: str, etag: str | None, seconds: int = 5) -> float:
    """Requests per second nginx answers for ``url`` (304s when ``etag`` is given)."""
    command = ["wrk", "-t2", "-c64", f"-d{seconds}s", url]
    if etag:
        command[1:1] = ["-H", f"If-None-Match: {etag}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


# ---------------------------------------------------------------------------- runners
# Each runner runs in its own process (``python poll_cycle.py run <tool> …``) and prints
# one JSON line per cycle; the parent drives the cycles through stdin.


def _usage() -> tuple[float, float]:
    """CPU seconds and peak MiB of this process and its live children (feedhub's poll
    workers: getrusage counts children only once they have ended); the peaks are added."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu, peak = usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024
    tick = os.sysconf("SC_CLK_TCK")
    for child in multiprocessing.active_children():
        try:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{child.pid}/status").read_text()
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        peak += int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    return cpu, peak


def _measure(label: str, action) -> None:
    cpu0, _ = _usage()
    started = time.perf_counter()
    ok = action()
    seconds = time.perf_counter() - started
    cpu1, peak = _usage()
    print(json.dumps({"cycle": label, "seconds": seconds, "cpu_seconds": cpu1 - cpu0, "peak_mib": peak, "ok": ok}), flush=True)


def run_feedhub(opml: Path, data_dir: Path, processes: int) -> None:
    sys.path.insert(0, str(ROOT))
    from feedhub.config import load_settings
    from feedhub.scheduler import Poller
    from feedhub.services import build_services
    from feedhub.subscribe import import_opml

    settings = load_settings(
        {"data_dir": data_dir, "allow_private_networks": True, "max_concurrency": 8, "max_per_host": 8, "poll_processes": processes},
        environ={},
    )
    services = build_services(settings)
    import_opml(services.store, opml.read_bytes(), "bench", settings.poll_interval, services.now())
    poller = Poller(services)
    poller.start_workers()  # as the scheduler does when it starts: not part of a cycle

    def cycle() -> int:
        reports = poller.poll_many(services.store.sources())
        return sum(r.outcome.healthy for r in reports)

    for line in sys.stdin:
        _measure(line.strip(), cycle)
    poller.close()
    services.close()


def run_feedhub_emulator(users: int, data_dir: Path) -> None:
    """feedhub polling Netflix-style feeds of the emulator, which runs in this process
    too (its serving CPU is counted here: the figures are an upper bound)."""
    sys.path.insert(0, str(ROOT))
    from feedhub.config import load_settings
    from feedhub.emulator import create_emulator_app
    from feedhub.emulator.server import serve_in_thread
    from feedhub.scheduler import Poller
    from feedhub.services import build_services
    from feedhub.subscribe import add_url

    emulator_app = create_emulator_app(seed=5, users=users)
    emulated = emulator_app.extensions["emulator"]
    server = serve_in_thread(emulator_app)
    settings = load_settings({"data_dir": data_dir, "allow_private_networks": True, "max_concurrency": 8, "max_per_host": 8}, environ={})
    services = build_services(settings)
    for index in range(users):
        add_url(services.store, services.fetcher, emulated.feeds_list_url(server.url, index), f"user{index}", 900, services.now())
    poller = Poller(services)

    def cycle() -> int:
        return sum(r.outcome.healthy for r in poller.poll_many(services.store.sources()))

    for line in sys.stdin:
        label = line.strip()
        if label == "changed":
            emulated.advance(600)
        _measure(label, cycle)
    poller.close()
    services.close()
    server.stop()


def run_reader(urls_file: Path, data_dir: Path) -> None:
    from reader import make_reader

    reader = make_reader(str(data_dir / "reader.sqlite"))
    for url in urls_file.read_text().split():
        reader.add_feed(url)

    def cycle() -> int:
        # Every feed is due each cycle: reader schedules by its own interval otherwise.
        reader.update_feeds(workers=READER_WORKERS, scheduled=False)
        return sum(1 for f in reader.get_feeds() if f.last_exception is None)

    for line in sys.stdin:
        _measure(line.strip(), cycle)
    reader.close()


def run_feedparser(urls_file: Path) -> None:
    import feedparser

    urls = urls_file.read_text().split()

    def cycle() -> int:
        return sum(1 for url in urls if not feedparser.parse(url).bozo)

    for line in sys.stdin:
        _measure(line.strip(), cycle)


class Runner:
    """A runner subprocess, fed one cycle name at a time."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "run", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def cycle(self, label: str) -> dict:
        self.process.stdin.write(label + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"runner {self.process.args[3]} died")
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(60)


# ---------------------------------------------------------------------------- the run


def bench_size(size: int, work: Path, results: list[Cycle], ceilings: dict) -> None:
    feeds = work / f"feeds-{size}"
    write_feeds(feeds, size)
    nginx = Nginx(feeds, work)
    try:
        urls = [f"{nginx.url}{i}.xml" for i in range(size)]
        urls_file = work / f"urls-{size}.txt"
        urls_file.write_text("\n".join(urls))
        opml = work / f"feeds-{size}.opml"
        write_opml(opml, urls)
        if size == min(ARGS.sizes):
            etag = subprocess.run(["curl", "-sI", urls[0]], capture_output=True, text=True).stdout
            etag = re.search(r'(?i)etag: (".*?")', etag).group(1)
            ceilings["nginx_200_per_second"] = wrk_ceiling(urls[0], None)
            ceilings["nginx_304_per_second"] = wrk_ceiling(urls[0], etag)
        (work / f"feedhub-{size}").mkdir()
        (work / f"reader-{size}").mkdir()
        runners = {
            FEEDHUB: Runner("feedhub", str(opml), str(work / f"feedhub-{size}"), str(ARGS.processes)),
            "reader": Runner("reader", str(urls_file), str(work / f"reader-{size}")),
        }
        if ARGS.processes > 1:  # what one core does, for comparison
            (work / f"feedhub1-{size}").mkdir()
            runners[FEEDHUB_ONE] = Runner("feedhub", str(opml), str(work / f"feedhub1-{size}"), "1")
        changed = range(0, size, int(1 / CHANGED_SHARE))
        for label in ("cold", "warm", "changed"):
            # The warm and changed cycles are run several times (``rounds``), the tools
            # taking turns, and the median kept: a shared machine's noise is as large as
            # some gaps. Before each round of changed cycles, the same tenth of the files
            # changes again.
            before = (lambda turn: write_feeds(feeds, size, generation=turn + 1, only=changed)) if label == "changed" else None
            runs = _taking_turns(runners, label, 1 if label == "cold" else rounds(size), before)
            for tool, measured in runs.items():
                data = sorted(measured, key=lambda d: d["seconds"])[len(measured) // 2]
                results.append(Cycle(tool, "nginx", size, label, data["seconds"], data["cpu_seconds"], data["peak_mib"], data["ok"]))
                print(_row(results[-1]), flush=True)
        for runner in runners.values():
            runner.close()
        if size <= ARGS.naive_max:
            naive = Runner("feedparser", str(urls_file))
            data = naive.cycle("cold")
            naive.close()
            results.append(Cycle("feedparser loop", "nginx", size, "cold", data["seconds"], data["cpu_seconds"], data["peak_mib"], data["ok"]))
            print(_row(results[-1]), flush=True)
    finally:
        nginx.stop()
        shutil.rmtree(feeds, ignore_errors=True)


def rounds(size: int) -> int:
    """How many warm or changed cycles each tool runs at ``size`` sources (see ROUND_SOURCES)."""
    return max(RUNS, -(-ROUND_SOURCES // size))


def _taking_turns(runners: dict[str, Runner], label: str, times: int, before=None) -> dict[str, list[dict]]:
    """Run cycle ``label`` ``times`` times on each runner, one after the other in turn;
    ``before(turn)``, if given, before each turn of them all."""
    runs: dict[str, list[dict]] = {tool: [] for tool in runners}
    for turn in range(times):
        if before is not None:
            before(turn)
        for tool, runner in runners.items():
            runs[tool].append(runner.cycle(label))
    return runs


def bench_emulator(users: int, work: Path, results: list[Cycle]) -> None:
    data_dir = work / "feedhub-emulator"
    data_dir.mkdir()
    runner = Runner("feedhub-emulator", str(users), str(data_dir))
    for label in ("cold", "warm", "changed"):
        data = runner.cycle(label)
        results.append(Cycle("feedhub", "emulator", users * 5, label, data["seconds"], data["cpu_seconds"], data["peak_mib"], data["ok"]))
        print(_row(results[-1]), flush=True)
    runner.close()


def _row(c: Cycle) -> str:
    return (
        f"| {c.tool} | {c.origin} | {c.sources} | {c.cycle} | {c.per_second:,.0f} | {c.cpu_ms_per_source:.2f} | "
        f"{c.peak_mib:.0f} | {c.ok}/{c.sources} |"
    )


HEADER = "| tool | origin | sources | cycle | sources/s | CPU ms/source | peak MiB | ok |\n|---|---|---|---|---|---|---|---|"


def ratios(results: list[Cycle], ceilings: dict) -> list[str]:
    lines = []
    by = {(c.tool, c.origin, c.sources, c.cycle): c for c in results}
    for (tool, origin, size, cycle), c in sorted(by.items()):
        if tool not in (FEEDHUB, FEEDHUB_ONE) or origin != "nginx":
            continue
        peer = by.get(("reader", origin, size, cycle))
        if peer:
            lines.append(f"- S={size} {cycle}: {tool}/reader = {c.per_second / peer.per_second:.1f}×")
        naive = by.get(("feedparser loop", origin, size, cycle))
        if naive:
            lines.append(f"- S={size} {cycle}: {tool}/feedparser loop = {c.per_second / naive.per_second:.1f}×")
        ceiling = ceilings.get("nginx_304_per_second" if cycle == "warm" else "nginx_200_per_second")
        if ceiling and tool == FEEDHUB:
            lines.append(f"- S={size} {cycle}: feedhub/nginx ceiling = {c.per_second / ceiling:.3f}")
    return lines


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--naive-max", type=int, default=1000, help="largest size for the sequential feedparser loop")
    parser.add_argument("--emulator-users", type=int, default=20)
    parser.add_argument("--processes", type=int, default=os.cpu_count(), help="feedhub's FEEDHUB_POLL_PROCESSES (default: the CPUs)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ARGS = parser.parse_args()
    results: list[Cycle] = []
    ceilings: dict = {}
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="feedhub-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's workers run as another user
        for size in ARGS.sizes:
            bench_size(size, work, results, ceilings)
        bench_emulator(ARGS.emulator_users, work, results)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"
    summary = ratios(results, ceilings)
    ARGS.out.mkdir(parents=True, exist_ok=True)
    (ARGS.out / "poll_cycle.json").write_text(
        json.dumps(
            {
                "machine": machine,
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "ceilings": ceilings,
                "cycles": [asdict(c) | {"per_second": c.per_second, "cpu_ms_per_source": c.cpu_ms_per_source} for c in results],
                "ratios": summary,
            },
            indent=2,
        )
    )
    markdown = [
        f"# Poll cycle ({machine})",
        "",
        HEADER,
        *map(_row, results),
        "",
        f"nginx ceiling under wrk: {ceilings.get('nginx_200_per_second', 0):,.0f} requests/s (200), "
        f"{ceilings.get('nginx_304_per_second', 0):,.0f} requests/s (304)",
        "",
        *summary,
    ]
    (ARGS.out / "poll_cycle.md").write_text("\n".join(markdown) + "\n")
    print("\n".join(markdown[-(len(summary) + 2):]))


ARGS: argparse.Namespace


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "run":
        tool, *rest = sys.argv[2:]
        if tool == "feedhub":
            run_feedhub(Path(rest[0]), Path(rest[1]), int(rest[2]))
        elif tool == "feedhub-emulator":
            run_feedhub_emulator(int(rest[0]), Path(rest[1]))
        elif tool == "reader":
            run_reader(Path(rest[0]), Path(rest[1]))
        else:
            run_feedparser(Path(rest[0]))
    else:
        main()
