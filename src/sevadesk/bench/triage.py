"""Triage throughput: the `seva triage` path (JSONL in, JSONL out) over demo-like traffic."""

from __future__ import annotations

import os
import time
from typing import Any

import orjson
from rich.console import Console

from sevadesk.demo.traffic import TrafficGenerator
from sevadesk.triage.jsonl import triage_stream


def run_triage_bench(*, messages: int, workers: int | None, console: Console) -> dict[str, Any]:
    console.print(f"generating {messages:,} messages …", style="dim")
    generator = TrafficGenerator(seed=11, users=100_000)
    stream = generator.events()
    lines = [orjson.dumps({"id": i, "text": next(stream)["data"]["text"]}) for i in range(messages)]
    console.print(f"triaging with {workers or os.cpu_count()} worker(s) …", style="dim")
    started = time.perf_counter()
    written = sum(chunk.count(b"\n") for chunk in triage_stream(lines, workers=workers))
    elapsed = time.perf_counter() - started
    assert written == messages
    result = {
        "benchmark": "triage",
        "messages": messages,
        "workers": workers or os.cpu_count(),
        "seconds": round(elapsed, 3),
        "messages_per_second": round(messages / elapsed),
        "cpu_count": os.cpu_count(),
    }
    console.print(
        f"[bold]{result['messages_per_second']:,} messages/s[/] ({messages:,} in {elapsed:.2f}s)"
    )
    return result
