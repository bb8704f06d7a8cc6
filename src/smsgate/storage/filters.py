"""The parts of a listing's WHERE that outbound and inbound messages share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table

from smsgate.core.messages import MessageFilter


def common(
    table: Table, time: ColumnElement[Any], account_id: int, f: MessageFilter
) -> list[ColumnElement[bool]]:
    """Account, devices, a time range on `time`, id bounds and the id cursor."""
    c = table.c
    clauses: list[ColumnElement[bool]] = [c.account_id == account_id]
    if f.device_ids is not None:
        clauses.append(c.device_id.in_(f.device_ids))
    if f.since is not None:
        clauses.append(time >= f.since)
    if f.until is not None:
        clauses.append(time <= f.until)
    if f.min_id is not None:
        clauses.append(c.id >= f.min_id)
    if f.max_id is not None:
        clauses.append(c.id <= f.max_id)
    if f.ids is not None:
        clauses.append(c.id.in_(f.ids))
    if f.before_id is not None:
        clauses.append(c.id > f.before_id if f.ascending else c.id < f.before_id)
    return clauses
