"""The cost of the worst inputs a source can send: what one poll of a hostile source
costs feedhub in time and memory.

    python benchmarks/worst_input.py [--deadline 60]

Each input goes through what a poll does with a response — ``Fetcher.fetch`` over
loopback under the default limits (10 MiB body, 60 s deadline), then ``parse_feed``
and ``normalize`` — and is measured for wall time, CPU time and peak memory (traced by
``tracemalloc`` in a second run, so the Python heap: bodies, documents, parsed entries;
the servers run in a process of their own). Two groups:

- the emulator's fault bodies and behaviours (bombs, XXE, a trickle, a gzip bomb): all
  refused; what matters is how little they cost;
- the heaviest documents that are *accepted*, built to sit just inside every limit of
  ``parse`` at the 10 MiB body cap: the most elements, attributes, namespaces and
  character-data pieces feedparser can be handed. These bound the time one document
  can take.

It prints a Markdown table and writes ``benchmarks/results/worst_input.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedhub.fetch import FetchError, FetchPolicy, FetchResult, Fetcher, Outcome  # noqa: E402
from feedhub.models import Kind  # noqa: E402
from feedhub.normalize import normalize  # noqa: E402
from feedhub.parse import MAX_ATTRIBUTES, MAX_DEPTH, MAX_ELEMENTS, MAX_NAMESPACES, parse_feed  # noqa: E402

CAP = FetchPolicy().max_body_bytes
HEAD = b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><id>urn:w</id><title>w</title>'


@dataclass(frozen=True)
class Measure:
    input: str
    outcome: str
    wire_bytes: int
    wall_s: float
    cpu_s: float
    peak_mib: float


def _within_the_cap(unit: bytes, budget: int) -> bytes:
    """As many ``unit`` as fit in the body cap, at most ``budget``, in a feed."""
    count = min(budget, (CAP - len(HEAD) - 16) // len(unit))
    return HEAD + unit * count + b"</feed>"


def heaviest_accepted() -> dict[str, bytes]:
    attributes = b" ".join(b'a%d="%s"' % (i, b"v" * 8) for i in range(MAX_ATTRIBUTES))
    nesting = b"<n>" * (MAX_DEPTH - 2) + b"</n>" * (MAX_DEPTH - 2)
    return {
        "accepted: most elements (entries)": _within_the_cap(
            b"<entry><id>i</id><title>t</title><updated>2024-01-01T00:00:00Z</updated><link href='http://e.example/'/></entry>",
            MAX_ELEMENTS // 5 - 1,
        ),
        "accepted: most attributes": _within_the_cap(b"<x %s/>" % attributes, MAX_ELEMENTS - 1),
        "accepted: most namespaces": HEAD
        + b"".join(b'<p%d:x xmlns:p%d="urn:%d" p%d:a="1"/>' % (i, i, i, i) for i in range(MAX_NAMESPACES - 1))
        + b"<x/>" * (MAX_ELEMENTS - MAX_NAMESPACES - 4)
        + b"</feed>",
        "accepted: deepest nesting, repeated": _within_the_cap(nesting, MAX_ELEMENTS // (MAX_DEPTH - 2) - 1),
        "accepted: most character-data pieces": HEAD
        + b"<entry><id>i</id><title>t</title><content type='html'>"
        + b"&lt;b&gt;x" * ((CAP - 200) // 10)
        + b"</content></entry></feed>",
        "accepted: one 10 MiB text": HEAD + b"<entry><id>i</id><title>" + b"x" * (CAP - 200) + b"</title></entry></feed>",
    }


# The servers run in a process of their own, so that what is measured is the client's
# cost alone: the emulator (faults armed through its control endpoint) and a plain
# server for the documents, written to a directory first.
SERVERS = """
import sys, time
from flask import Flask, send_from_directory
from feedhub.emulator import create_emulator_app
from feedhub.emulator.server import serve_in_thread
emulated = serve_in_thread(create_emulator_app(seed=1, users=1))
files = Flask("files")
files.add_url_rule("/<name>", "file", lambda name: send_from_directory(sys.argv[1], name, mimetype="application/atom+xml"))
documents = serve_in_thread(files)
print(emulated.url, documents.url, flush=True)
time.sleep(10**6)
"""


def measure(name: str, fetch: Callable[[], FetchResult]) -> Measure:
    """Fetch, parse and normalize once for the time (nothing traced), then once more
    with tracemalloc for the memory."""
    timed = _run(fetch)
    tracemalloc.start()
    traced = _run(fetch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    outcome, wire, wall, cpu = timed
    assert traced[0] == outcome, (name, traced[0], outcome)
    return Measure(name, outcome, wire, round(wall, 3), round(cpu, 3), round(peak / 2**20, 1))


def _run(fetch: Callable[[], FetchResult]) -> tuple[str, int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fetch()
    outcome = result.outcome.value
    if result.outcome is Outcome.OK:
        try:
            entries = normalize(parse_feed(result.body, result.content_type), Kind.OTHER)
            outcome = f"ok ({len(entries)} entries)"
        except FetchError as exc:
            outcome = exc.outcome.value
    return outcome, len(result.body), time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadline", type=float, default=60.0, help="The fetch deadline (default: feedhub's, 60 s).")
    args = parser.parse_args()

    documents = heaviest_accepted()
    with tempfile.TemporaryDirectory() as folder:
        for index, body in enumerate(documents.values()):
            (Path(folder) / f"{index}.xml").write_bytes(body)
        servers = subprocess.Popen([sys.executable, "-c", SERVERS, folder], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            emulator_url, files_url = servers.stdout.readline().split()
            results = _measure_all(args.deadline, emulator_url, files_url, list(documents))
        finally:
            servers.kill()
            servers.wait()

    table = ["| input | outcome | body read | wall s | CPU s | peak MiB |", "|---|---|---:|---:|---:|---:|"]
    table += [f"| {m.input} | {m.outcome} | {m.wire_bytes:,} | {m.wall_s} | {m.cpu_s} | {m.peak_mib} |" for m in results]
    worst_time = max(results, key=lambda m: m.cpu_s)
    worst_memory = max(results, key=lambda m: m.peak_mib)
    summary = (
        f"Worst CPU: {worst_time.input}, {worst_time.cpu_s} s. Worst memory: {worst_memory.input}, {worst_memory.peak_mib} MiB "
        f"(Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs)."
    )
    print("\n".join(table) + "\n\n" + summary)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "worst_input.json").write_text(json.dumps({"results": [asdict(m) for m in results], "summary": summary}, indent=2) + "\n")
    (out / "worst_input.md").write_text("\n".join(table) + "\n\n" + summary + "\n")


def _measure_all(deadline: float, emulator_url: str, files_url: str, accepted: list[str]) -> list[Measure]:
    feed = requests.get(emulator_url + "_emulator/users", timeout=30).json()["users"][0]["feeds"]["watched"]
    faults = {
        "gzip bomb (256 MiB inflated)": {"body": "gzip_bomb"},
        "oversized body (16 MiB)": {"body": "oversized"},
        "billion laughs": {"body": "billion_laughs"},
        "billion laughs, one-line DOCTYPE": {"body": "billion_laughs_one_line"},
        "quadratic blowup": {"body": "quadratic_blowup"},
        "XXE: external entity": {"body": "xxe_entity"},
        "XXE: parameter entity": {"body": "xxe_parameter"},
        "XXE: external DTD": {"body": "xxe_dtd"},
        "redirect loop": {"status": 302, "location": "/users/x/rental_history/watched"},
        "malformed XML": {"body": "malformed"},
        f"trickle, 1 byte / 0.5 s (deadline {deadline:g} s)": {"body": "oversized", "size": 100_000, "trickle": 0.5},
    }
    fetcher = Fetcher(FetchPolicy(allow_private_networks=True, total_timeout=deadline))
    results = []
    try:
        for name, fault in faults.items():
            requests.delete(emulator_url + "_emulator/faults", timeout=30)
            requests.post(emulator_url + "_emulator/faults", json={"path": "rental_history", **fault}, timeout=30).raise_for_status()
            results.append(measure(name, lambda: fetcher.fetch(feed)))
            print(f"{name}: {results[-1]}", file=sys.stderr)
        for index, name in enumerate(accepted):
            results.append(measure(name, lambda: fetcher.fetch(f"{files_url}{index}.xml")))
            print(f"{name}: {results[-1]}", file=sys.stderr)
    finally:
        fetcher.close()
    return results


if __name__ == "__main__":
    main()
