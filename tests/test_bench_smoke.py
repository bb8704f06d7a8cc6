"""The benchmark suite at tiny sizes on SQLite: it must run end to end and print its table.

No timing is asserted (the figures of a smoke run mean nothing); this only keeps bench/ from
rotting as the gateway changes. wrk is used when installed, the asyncio load generator if not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_bench_suite_runs_at_tiny_sizes_and_prints_its_table() -> None:
    command = [
        sys.executable,
        "-m",
        "bench",
        "--quick",
        "--db",
        "sqlite",
        "--no-framework-ceiling",
        "--batch-sizes",
        "500,1000",
        "--batch-chunk",
        "500",
        "--wake-samples",
        "10",
        "--dispatch-total",
        "500",
        "--dispatch-phones",
        "3",
        "--listing-rows",
        "5000",
        "--listing-queries",
        "5",
    ]
    done = subprocess.run(
        command, check=False, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "| scenario | figure | SQLite | ceiling | ratio |" in out
    for scenario in (
        "1 single sends",
        "1 single sends, SemySMS GET sms.php",
        "2 batch ingest",
        "3 device wake",
        "4 dispatch",
        "5 listings",
        "6 memory",
        "7 journey, native POST naming the phone",
        "7 journey, SemySMS sms.php?device=N",
    ):
        assert f"| {scenario} |" in out, out[-3000:]
    assert "Python " in out and "cores" in out
    # the vendor path must really accept (code "0"), not answer its errors with HTTP 200
    assert "note: sqlite semysms: every answer checked" in out, out[-3000:]
    assert not [
        x for x in out.splitlines() if x.startswith("note: sqlite semysms:") and "failed" in x
    ], out[-3000:]
    # the journey: every accepted message sent, delivered and answered, no request refused
    assert not [x for x in out.splitlines() if x.startswith("note: sqlite") and "journey" in x], (
        out[-3000:]
    )


async def test_the_lease_benchmark_runs(capsys) -> None:
    from bench import leases

    await leases.run("sqlite", 300, 3, 50, leases.PG_URL)
    assert "300 leased by 3 phones" in capsys.readouterr().out
