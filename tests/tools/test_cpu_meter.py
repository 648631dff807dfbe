"""The benchmarks' CPU meter: it must find the CPU where it was spent, or its split of a
purchase's cost (README, Performance) means nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.common import CpuMeter

pytestmark = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs Linux /proc")

# Burns about 0.4 s of CPU, says so, then waits to be stopped (so it is still alive, a child
# of the test, when the meter reads it).
_BURN = (
    "import time, sys\n"
    "end = time.process_time() + 0.4\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_child_process_cpu_is_the_servers() -> None:
    meter = CpuMeter()
    meter.start()
    child = subprocess.Popen(
        [sys.executable, "-c", _BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "done"
        split = meter.split(requests=2)
    finally:
        child.communicate("")
    per_request = split["cpu_ms_per_request"]
    # 0.4 s over 2 requests is 200 ms each; the ticks are 10 ms, and start-up adds a little.
    assert 180 <= per_request["server"] <= 400, per_request
    assert per_request["load_generator"] < 100, per_request
    assert per_request["all"] >= per_request["server"] - 20, per_request
    assert split["cpu_ceiling_per_second"] is not None


def test_own_cpu_is_the_load_generators() -> None:
    meter = CpuMeter()
    meter.start()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    per_request = meter.split(requests=1)["cpu_ms_per_request"]
    assert 280 <= per_request["load_generator"] <= 450, per_request
    # Not exactly 0: in a whole test run this process has other children (multiprocessing's
    # resource tracker, servers of earlier tests shutting down), and one clock tick of theirs
    # counts as the server's. Had the meter put this CPU there, it would be about 300.
    assert per_request["server"] <= 30, per_request


def test_no_request_no_split() -> None:
    meter = CpuMeter()
    meter.start()
    assert meter.split(requests=0)["measured"] is False
