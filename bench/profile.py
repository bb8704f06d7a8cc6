"""python -m bench.profile: py-spy on a real `smsgate serve` under load, summarised.

    .venv/bin/pip install py-spy
    python -m bench.profile --db sqlite --load sends --seconds 15
    python -m bench.profile --db postgres --load batch

Records collapsed stacks of every thread (the event loop and aiosqlite's worker thread) while
wrk (or the asyncio generator) sends at --clients, or while 10,000-message batches are posted,
then prints the busiest functions by own time and by inclusive time, and own time by package.
The raw stacks stay in --out for flame graphs (e.g. speedscope, inferno).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.load import send_load, wrk_path
from bench.scenarios import batch_requests, post_all
from bench.server import Backend, fresh_gateway

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def where(path: str) -> str:
    """A short package name for a frame's file (py-spy names files relative to sys.path)."""
    path = path.split("site-packages/", 1)[-1].split("/src/", 1)[-1]
    if path.startswith("smsgate/"):
        return path.removesuffix(".py").replace("/", ".")
    return path.split("/", 1)[0].removesuffix(".py")


def label(frame: str) -> str:
    found = FRAME.match(frame)
    if not found:
        return frame
    return f"{found['func']} ({where(found['file'])})"


def summarise(stacks: Path, top: int) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        path, _, count_text = line.rpartition(" ")
        if not path or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = path.split(";")
        total += count
        threads[frames[0]] += count
        labels = [label(f) for f in frames[1:]] or [frames[0]]
        own[labels[-1]] += count
        found = FRAME.match(frames[-1])
        packages[where(found["file"]) if found else frames[-1]] += count
        for name in set(labels):
            inclusive[name] += count
    if not total:
        return "no samples"

    def block(title: str, counter: Counter[str], n: int) -> list[str]:
        return [title] + [f"  {c / total:6.1%}  {name}" for name, c in counter.most_common(n)]

    lines = [f"{total} samples (active threads only)"]
    lines += block("by thread:", threads, 6)
    lines += block("own time by package/module:", packages, top)
    lines += block("own time by function:", own, top)
    lines += block("inclusive time by function:", inclusive, top * 2)
    return "\n".join(lines)


async def profile(args: argparse.Namespace) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    backend = Backend(args.db, pg_url=args.pg_url)
    args.out.mkdir(parents=True, exist_ok=True)
    mode = "-native" if args.native else "-gil" if args.gil else ""
    stacks = args.out / f"{args.db}-{args.load}{mode}.txt"
    async with fresh_gateway(backend) as (gw, _):
        await send_load(gw.port, gw.key, 4, 1, "wrk" if wrk_path() else "asyncio")
        command = [
            spy,
            "record",
            "--pid",
            str(gw.pid),
            "--duration",
            str(args.seconds),
            "--rate",
            str(args.rate),
            "--format",
            "raw",
            "--threads",
            "--output",
            str(stacks),
            *(["--native"] if args.native else []),
            *(["--gil"] if args.gil else []),
        ]
        record = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        await asyncio.sleep(0.5)
        if args.load == "sends":
            result = await send_load(
                gw.port, gw.key, args.clients, args.seconds, "wrk" if wrk_path() else "asyncio"
            )
            print(
                f"load: {result.rate:.0f} sends/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
            )
        else:
            conn = await gw.connect()
            sent, deadline = 0, time.monotonic() + args.seconds
            requests = batch_requests(gw.key, gw.port, 10_000, 10_000)
            start = time.perf_counter()
            while time.monotonic() < deadline:
                await post_all(conn, requests)
                sent += 10_000
            print(f"load: {sent / (time.perf_counter() - start):.0f} batch msg/s")
            await conn.close()
        _, err = await asyncio.to_thread(record.communicate, timeout=args.seconds + 60)
        if record.returncode:
            raise SystemExit(f"py-spy failed: {err.decode()[-2000:]}")
    print(summarise(stacks, args.top))
    print(f"raw stacks: {stacks}")


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--load", default="sends", choices=["sends", "batch"])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=int, default=15)
    p.add_argument("--rate", type=int, default=250, help="samples per second")
    p.add_argument("--top", type=int, default=20)
    p.add_argument(
        "--native", action="store_true", help="also C frames (sqlite3, pydantic-core, uvloop)"
    )
    p.add_argument("--gil", action="store_true", help="only samples of the thread holding the GIL")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    p.add_argument("--out", type=Path, default=Path("/tmp/smsgate-profiles"))
    p.add_argument("--summarise", type=Path, help="only summarise this raw stacks file")
    args = p.parse_args()
    if args.summarise:
        print(summarise(args.summarise, args.top))
        return
    asyncio.run(profile(args))


if __name__ == "__main__":
    main()
