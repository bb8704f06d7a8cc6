"""python -m bench.leases: the dispatcher alone, in-process: N queued messages leased by P phones.

    python -m bench.leases --db sqlite --messages 100000 --phones 50
    python -m bench.leases --db postgres

No HTTP: P concurrent Gateway.pull calls (batches of --pull) on one gateway until the queue is
empty; prints decisions (messages leased) per second and the p50/p99 of one lease call. This is
the dispatcher's own overhead, beside scenario 4 of the suite (the same work through HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from smsgate import app as application
from smsgate.config import Settings
from smsgate.core.requests import SendRequest

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def run(db: str, messages: int, phones: int, pull: int, pg_url: str) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}" if db == "postgres" else ""
    if schema:
        import asyncpg

        admin = await asyncpg.connect(pg_url.replace("postgresql://", "postgres://"))
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="smsgate-leases-")),
        database_url=pg_url if schema else "",
        database_schema=schema,
    )
    app = application.build(settings)
    try:
        await app.start(background=False, welcome=False)
        gateway = app.gateway
        account = await gateway.accounts.create("bench@example.com", "password123")
        devices = [
            (await gateway.devices.register(f"phone {i}", account=account))[0]
            for i in range(phones)
        ]
        requests = [SendRequest(to=(f"+7920{i:07d}",), text="hello") for i in range(messages)]
        started = time.perf_counter()
        for start in range(0, messages, 10_000):
            await gateway.messages.send_batch(requests[start : start + 10_000], account=account)
        print(f"{db}: queued {messages:,} in {time.perf_counter() - started:.1f} s")
        calls: list[float] = []
        leased = 0

        async def phone(device: object) -> None:
            nonlocal leased
            while True:
                began = time.perf_counter()
                got = await gateway.dispatch.pull(device, limit=pull, wait=0)  # type: ignore[arg-type]
                calls.append(time.perf_counter() - began)
                if not got:
                    return
                leased += len(got)

        started = time.perf_counter()
        await asyncio.gather(*(phone(d) for d in devices))
        elapsed = time.perf_counter() - started
        calls.sort()
        print(
            f"{db}: {leased:,} leased by {phones} phones in {elapsed:.1f} s = {leased / elapsed:,.0f} decisions/s; "
            f"one lease call p50 {calls[len(calls) // 2] * 1000:.1f} ms, p99 {calls[int(len(calls) * 0.99)] * 1000:.1f} ms"
        )
    finally:
        await app.stop()
        if schema:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await admin.close()


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.leases",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--phones", type=int, default=50)
    p.add_argument("--pull", type=int, default=100)
    p.add_argument("--pg-url", default=PG_URL)
    args = p.parse_args()
    asyncio.run(run(args.db, args.messages, args.phones, args.pull, args.pg_url))


if __name__ == "__main__":
    main()
