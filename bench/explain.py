"""python -m bench.explain: the query plans of the listings of scenario 5, on a loaded database.

    python -m bench.explain --db sqlite --rows 1000000
    python -m bench.explain --db postgres --rows 1000000 --analyze

Loads the same data set as the listings scenario into a fresh database (migrated by a real
`smsgate serve`, which is then stopped), builds each listing's SELECT the way MessageStore.list
does, and prints EXPLAIN QUERY PLAN (SQLite) or EXPLAIN [ANALYZE] (PostgreSQL) for it.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from bench import bulk
from bench.server import Backend, Database, start_gateway
from smsgate.core.messages import MessageFilter, State
from smsgate.storage import messages as store


def filters(data: bulk.DataSet) -> dict[str, MessageFilter]:
    since = (data.start + timedelta(days=10)).replace(tzinfo=UTC)
    until = since + timedelta(days=1)
    return {
        "account + 1-day range": MessageFilter(since=since, until=until),
        "phone": MessageFilter(phone=data.phone(12345 % data.count)),
        "id range": MessageFilter(min_id=data.count // 2, max_id=data.count // 2 + 999),
        "status=failed": MessageFilter(states=frozenset({State.FAILED})),
        "status=sent + 1-day range": MessageFilter(
            states=frozenset({State.SENT}), since=since, until=until
        ),
    }


def statement(account_id: int, f: MessageFilter, dialect: Any) -> str:
    query = store.listing(account_id, f)
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def explain(args: argparse.Namespace) -> None:
    database = Database(Backend(args.db, pg_url=args.pg_url))
    await database.create()
    try:
        gw = await start_gateway(database)
        gw.process.stop()
        data = bulk.DataSet(await bulk.admin_account(database), args.rows)
        print(f"loaded {args.rows:,} rows in {await bulk.load(database, data):.1f} s")
        for name, f in filters(data).items():
            if args.db == "sqlite":
                sql = statement(data.account_id, f, sqlite.dialect())
                connection = sqlite3.connect(database.sqlite_path)
                plan = [
                    " ".join(str(x) for x in row[3:])
                    for row in connection.execute("EXPLAIN QUERY PLAN " + sql)
                ]
                connection.close()
            else:
                sql = statement(data.account_id, f, postgresql.dialect())
                pg = await bulk.pg_connect(database)
                rows = await pg.fetch(("EXPLAIN ANALYZE " if args.analyze else "EXPLAIN ") + sql)
                await pg.close()
                plan = [r[0] for r in rows]
            print(f"\n== {name}\n{sql}\n" + "\n".join(f"  {line}" for line in plan))
    finally:
        await database.drop()


def main() -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.explain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument(
        "--analyze", action="store_true", help="PostgreSQL: EXPLAIN ANALYZE (runs the query)"
    )
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    asyncio.run(explain(p.parse_args()))


if __name__ == "__main__":
    main()
