"""Triage throughput: the `seva triage` path (JSONL in, JSONL out) over demo-like traffic.

The messages are written to a file first and read back as `seva triage FILE` reads them, a
line at a time after the workers start. Holding them all in memory before the workers fork
(as this bench did until 2026-11-26) costs the parent a copy-on-write page fault for nearly
every line it hands out (the lines sit scattered over pages that the children share), about
2 s of system time per 200,000 lines that the command itself never pays.

Two figures: `messages_per_second` streams the file through the command's loop in this process
(what a long batch runs at); `command_messages_per_second` times the whole `seva triage FILE`
command in a new process, its start-up (imports, models, workers) included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from sevadesk.demo.traffic import TrafficGenerator
from sevadesk.triage.jsonl import triage_stream


def _write_messages(path: Path, messages: int) -> None:
    stream = TrafficGenerator(seed=11, users=100_000).events()
    with path.open("wb") as fh:
        for i in range(messages):
            fh.write(orjson.dumps({"id": i, "text": next(stream)["data"]["text"]}) + b"\n")


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def run_triage_bench(
    *, messages: int, workers: int | None, console: Console, command: bool = True
) -> dict[str, Any]:
    workers = workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="seva-bench-") as tmp:
        source, output = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        console.print(f"generating {messages:,} messages …", style="dim")
        _write_messages(source, messages)

        console.print(f"triaging with {workers} worker(s) …", style="dim")
        started = time.perf_counter()
        with source.open("rb") as src, output.open("wb") as out:
            for chunk in triage_stream(src, workers=workers):
                out.write(chunk)
        elapsed = time.perf_counter() - started
        if (written := _count_lines(output)) != messages:
            raise RuntimeError(f"wrote {written:,} lines for {messages:,} messages")
        result: dict[str, Any] = {
            "benchmark": "triage",
            "messages": messages,
            "workers": workers,
            "seconds": round(elapsed, 3),
            "messages_per_second": round(messages / elapsed),
            "cpu_count": os.cpu_count(),
        }
        console.print(
            f"[bold]{result['messages_per_second']:,} messages/s[/] "
            f"({messages:,} in {elapsed:.2f}s, streaming)"
        )
        if command:
            argv = [sys.executable, "-m", "sevadesk", "triage", str(source)]
            started = time.perf_counter()
            with output.open("wb") as out:
                subprocess.run([*argv, "--workers", str(workers)], stdout=out, check=True)
            elapsed = time.perf_counter() - started
            if (written := _count_lines(output)) != messages:
                raise RuntimeError(f"seva triage wrote {written:,} lines for {messages:,}")
            result["command_seconds"] = round(elapsed, 3)
            result["command_messages_per_second"] = round(messages / elapsed)
            console.print(
                f"[bold]{result['command_messages_per_second']:,} messages/s[/] "
                f"(the whole `seva triage FILE` command, start-up included: {elapsed:.2f}s)"
            )
    return result
