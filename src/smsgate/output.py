"""How the CLI shows what it found: a table on a terminal, plain columns in a pipe, JSON on request.

Rows are plain dicts of JSON values (times already as RFC 3339 strings), so `--json` prints
exactly what the table shows and more; nothing is ever cut short in a pipe.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, time, timedelta
from enum import Enum
from typing import Any

Row = dict[str, Any]


def value(v: Any) -> Any:
    """A JSON value for a field of a core dataclass."""
    if isinstance(v, date | time):
        return v.isoformat()
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, Enum):
        return v.value
    if isinstance(v, tuple | list):
        return [value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): value(x) for k, x in v.items()}
    return v


def row(item: Any, **extra: Any) -> Row:
    """A dataclass as a row of JSON values, with `extra` fields added or replaced."""
    found = {k: value(v) for k, v in asdict(item).items()}
    found.update({k: value(v) for k, v in extra.items()})
    return found


def cell(v: Any, *, short: bool) -> str:
    if v is None or v == "" or v == []:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    text = str(v)
    if isinstance(v, str) and len(text) >= 19 and text[10:11] == "T" and text[4:5] == "-":
        text = text[:19].replace("T", " ")  # an RFC 3339 time: to the second, UTC as stored
    text = " ".join(text.split())  # a message's line breaks would break the columns
    return text[:47] + "…" if short and len(text) > 48 else text


def is_terminal() -> bool:
    return sys.stdout.isatty()


def show(rows: Sequence[Row], columns: Mapping[str, str], *, as_json: bool) -> None:
    """`columns` maps a row's field to its heading; --json prints every field of every row."""
    if as_json:
        print(json.dumps(list(rows), ensure_ascii=False, indent=2))
        return
    if is_terminal():
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns.values())
        for r in rows:
            table.add_row(*(cell(r.get(k), short=True) for k in columns))
        Console().print(table)
        return
    lines = [list(columns.values())] + [
        [cell(r.get(k), short=False) for k in columns] for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def say(text: str, *, as_json: bool = False, data: Any = None) -> None:
    """One result: a sentence for a person, or `data` as JSON for a script."""
    print(json.dumps(data, ensure_ascii=False, indent=2) if as_json else text)


def error(text: str) -> None:
    print(f"error: {text}", file=sys.stderr)
