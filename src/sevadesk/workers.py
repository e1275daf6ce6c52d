"""`seva worker --processes N`: N worker processes on one machine, kept running.

The drain is what one core cannot keep up with, so every process drains (they share the
journal through its claims, pipeline/journal.py); the other loops run in the first process
only: the outbox and SLA loops would coordinate too, but an X stream has one connection per
app, so two readers would read every post twice. A process that dies (killed, out of memory)
is started again after a second; SIGTERM or Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import structlog

log = structlog.get_logger(__name__)


def loops_of(index: int, chosen: Sequence[str]) -> list[str]:
    """The loops the `index`-th process runs: all of them in the first, the drain after."""
    if index == 0:
        return list(chosen)
    return ["drain"] if "drain" in chosen else []


def supervise(chosen: Sequence[str], processes: int, database: str | None) -> int:
    """Run `processes` workers until told to stop; returns the exit code."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    commands = []
    for index in range(processes):
        loops = loops_of(index, chosen)
        if not loops:
            continue
        command = [sys.executable, "-m", "sevadesk", "worker", ",".join(loops)]
        if database:
            command += ["--database", database]
        commands.append(command)
    children: list[subprocess.Popen[bytes] | None] = [None] * len(commands)
    try:
        while not stop.is_set():
            for i, command in enumerate(commands):
                child = children[i]
                if child is not None and child.poll() is None:
                    continue
                if child is not None:
                    log.warning("worker_process_ended", index=i, code=child.returncode)
                started = subprocess.Popen(command, env=os.environ.copy())
                children[i] = started
                log.info("worker_process_started", index=i, pid=started.pid)
            stop.wait(1.0)
    finally:
        for child in children:
            if child is not None and child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 10
        for child in children:
            if child is None:
                continue
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    return 0
