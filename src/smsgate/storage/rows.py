"""Rows to domain values and back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import time, timedelta
from typing import Any

from smsgate.core.accounts import Account, ApiKey
from smsgate.core.devices import Device, Kind, Limits, Period, Sim
from smsgate.core.messages import Inbound, Message, NewMessage, Reason, State

Row = Mapping[Any, Any]  # a result row as SQLAlchemy maps it (RowMapping) or a plain dict


def device_list(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def message(row: Row) -> Message:
    return Message(
        id=row["id"],
        account_id=row["account_id"],
        to=row["to"],
        to_original=row["to_original"],
        country=row["country"],
        text=row["text"],
        encoding=row["encoding"],
        segments=row["segments"],
        state=State(row["state"]),
        reason=Reason(row["reason"]) if row["reason"] else None,
        priority=row["priority"],
        devices=device_list(row["devices"]),
        device_id=row["device_id"],
        sim_slot=row["sim_slot"],
        reference=row["reference"],
        attempts=row["attempts"],
        send_at=row["send_at"],
        valid_until=row["valid_until"],
        lease_until=row["lease_until"],
        created_at=row["created_at"],
        queued_at=row["queued_at"],
        leased_at=row["leased_at"],
        taken_at=row["taken_at"],
        sent_at=row["sent_at"],
        delivered_at=row["delivered_at"],
        failed_at=row["failed_at"],
        cancelled_at=row["cancelled_at"],
        expired_at=row["expired_at"],
        next_attempt_at=row["next_attempt_at"],
        sim_used=row["sim_used"],
        operator=row["operator"],
        region=row["region"],
        number_type=row["number_type"],
        mccmnc=row["mccmnc"],
        cost=row["cost"],
        refunded_at=row["refunded_at"],
        sender=row["sender"],
        campaign_id=row["campaign_id"],
        sender_name=row["sender_name"],
        group_id=row["group_id"],
        test=bool(row["test"]),
    )


def stored(new: NewMessage, message_id: int, group_id: int | None = None) -> Message:
    state = new.state
    return Message(
        id=message_id,
        account_id=new.account_id,
        to=new.to,
        to_original=new.to_original,
        country=new.country,
        text=new.text,
        encoding=new.encoding,
        segments=new.segments,
        state=state,
        priority=new.priority,
        devices=new.devices,
        device_id=new.device_id,
        sim_slot=new.sim_slot,
        reference=new.reference,
        send_at=new.send_at,
        valid_until=new.valid_until,
        created_at=new.created_at,
        queued_at=new.created_at if state is State.QUEUED else None,
        operator=new.operator,
        region=new.region,
        number_type=new.number_type,
        mccmnc=new.mccmnc,
        cost=new.cost,
        sender=new.sender,
        campaign_id=new.campaign_id,
        sender_name=new.sender_name,
        group_id=group_id,
        test=new.test,
    )


def inbound(row: Row) -> Inbound:
    return Inbound(
        id=row["id"],
        account_id=row["account_id"],
        device_id=row["device_id"],
        sender=row["sender"],
        text=row["text"],
        sim_slot=row["sim_slot"],
        received_at=row["received_at"],
        created_at=row["created_at"],
    )


def sims_json(sims: tuple[Sim, ...]) -> str:
    return json.dumps([{"slot": s.slot, "number": s.number, "carrier": s.carrier} for s in sims])


def _limits(row: Row) -> Limits:
    return Limits(
        pace=timedelta(milliseconds=row["pace_ms"]) if row.get("pace_ms") is not None else None,
        jitter=timedelta(milliseconds=row["jitter_ms"])
        if row.get("jitter_ms") is not None
        else None,
        quota=row.get("quota"),
        quota_recipients=row.get("quota_recipients"),
        period=Period(row.get("quota_period") or "day"),
        window_start=time.fromisoformat(row["window_start"]) if row.get("window_start") else None,
        window_end=time.fromisoformat(row["window_end"]) if row.get("window_end") else None,
        timezone=row.get("timezone") or "UTC",
    )


def sim_numbers_json(numbers: Mapping[int, str | None]) -> str:
    return json.dumps({str(slot): n for slot, n in numbers.items() if n})


def sim_limits_json(limits: Mapping[int, Limits]) -> str:
    return json.dumps({str(slot): limits_values(lim) for slot, lim in limits.items()})


def device(row: Row) -> Device:
    sim_limits = {int(k): _limits(v) for k, v in json.loads(row["sim_limits"] or "{}").items()}
    owned = {int(k): v for k, v in json.loads(row.get("sim_numbers") or "{}").items() if v}
    reported = {item["slot"]: Sim(**item) for item in json.loads(row["sims"] or "[]")}
    for slot in (
        sim_limits.keys() | owned.keys()
    ) - reported.keys():  # an owner may limit (or number) a SIM the phone has not reported yet
        reported[slot] = Sim(slot=slot)
    for slot, number in owned.items():  # the owner's number wins over what the phone reports
        reported[slot] = replace(reported[slot], number=number)
    sims = tuple(replace(reported[slot], limits=sim_limits.get(slot)) for slot in sorted(reported))
    return Device(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        kind=Kind(row["kind"]),
        enabled=row["enabled"],
        archived=row["archived"],
        sims=sims,
        battery=row["battery"],
        charging=row["charging"],
        last_seen_at=row["last_seen_at"],
        app_version=row["app_version"],
        manufacturer=row["manufacturer"],
        model=row["model"],
        os_version=row["os_version"],
        limits=_limits(row),
        created_at=row["created_at"],
    )


def _ms(value: timedelta | None) -> int | None:
    return int(value.total_seconds() * 1000) if value is not None else None


def limits_values(limits: Limits) -> dict[str, Any]:
    return {
        "pace_ms": _ms(limits.pace),
        "jitter_ms": _ms(limits.jitter),
        "quota": limits.quota,
        "quota_recipients": limits.quota_recipients,
        "quota_period": limits.period.value,
        "window_start": limits.window_start.isoformat("minutes") if limits.window_start else None,
        "window_end": limits.window_end.isoformat("minutes") if limits.window_end else None,
        "timezone": limits.timezone,
    }


def account(row: Row) -> Account:
    return Account(
        id=row["id"], email=row["email"], is_admin=row["is_admin"], created_at=row["created_at"]
    )


def api_key(row: Row) -> ApiKey:
    return ApiKey(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
