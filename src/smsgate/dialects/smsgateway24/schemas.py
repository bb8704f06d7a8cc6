"""SmsGateway24 answers: status codes from the core state machine, and the documented shapes.

Status codes (both documents): 1 new, 2 taken by the phone, 3 queued for sending ("logically
before 2, kept after it for backward compatibility"), 5 incoming, 6 sent by the phone, 7
delivered, 8 not delivered, 9 generic failure, 10 no service, 11 null PDU, 12 radio off, 100/101
not allowed. From the core: scheduled and queued are 1 (new: no phone has it), leased (handed to a
phone, not yet confirmed) is 3, taken (the phone confirmed and is sending) is 2, sent 6,
delivered 7, undelivered 8; failed by its reason (no service 10, null PDU 11, radio off 12, not
allowed 100, any other 9); cancelled and expired are 9 with their own statustitle.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

import orjson
from fastapi.responses import Response

from smsgate.core.campaigns import Campaign
from smsgate.core.devices import Device
from smsgate.core.messages import Inbound, Message, Reason, State

INCOMING: Final = 5
INBOUND_ID_OFFSET: Final = 10**12  # incoming messages' ids here: beside outgoing ids, never equal

TITLES: Final[Mapping[int, tuple[str, str]]] = {  # code: (statustitle, status_description)
    1: ("new", "New"),
    2: ("sending", "Taken from Server"),
    3: ("queued", "Queued for sending"),
    5: ("income", "Income"),
    6: ("sent", "Sent by Phone"),
    7: ("delivered", "Delivered"),
    8: ("not delivered", "Sms Not Delivered"),
    9: ("generic failure", "Not SENT - Generic failure"),
    10: ("no service", "Not sent - No service"),
    11: ("null pdu", "Not Sent - Null PDU"),
    12: ("radio off", "Not Sent - Radio off"),
    100: ("not allowed", "not sent - NOT ALLOWED"),
    101: ("not allowed at all", "not sent - Not Allowed At all"),
}
BY_STATE: Final[Mapping[State, int]] = {
    State.SCHEDULED: 1,
    State.QUEUED: 1,
    State.LEASED: 3,
    State.TAKEN: 2,
    State.SENT: 6,
    State.DELIVERED: 7,
    State.UNDELIVERED: 8,
    State.FAILED: 9,
    State.CANCELLED: 9,
    State.EXPIRED: 9,
}
BY_REASON: Final[Mapping[Reason, int]] = {
    Reason.NO_SERVICE: 10,
    Reason.NULL_PDU: 11,
    Reason.RADIO_OFF: 12,
    Reason.NOT_ALLOWED: 100,
}
GENERIC_REASONS: Final = frozenset({None, *(r for r in Reason if r not in BY_REASON)})

# a status code asked for in a filter: the core states, and for failed ones the reasons
FILTERS: Final[Mapping[int, tuple[frozenset[State], frozenset[Reason | None] | None]]] = {
    1: (frozenset({State.SCHEDULED, State.QUEUED}), None),
    2: (frozenset({State.TAKEN}), None),
    3: (frozenset({State.LEASED}), None),
    6: (frozenset({State.SENT}), None),
    7: (frozenset({State.DELIVERED}), None),
    8: (frozenset({State.UNDELIVERED}), None),
    9: (frozenset({State.FAILED, State.CANCELLED, State.EXPIRED}), GENERIC_REASONS),
    10: (frozenset({State.FAILED}), frozenset({Reason.NO_SERVICE})),
    11: (frozenset({State.FAILED}), frozenset({Reason.NULL_PDU})),
    12: (frozenset({State.FAILED}), frozenset({Reason.RADIO_OFF})),
    100: (frozenset({State.FAILED}), frozenset({Reason.NOT_ALLOWED})),
    101: (frozenset({State.FAILED}), frozenset({Reason.NOT_ALLOWED})),
}


def code_of(m: Message) -> int:
    if m.state is State.FAILED and m.reason in BY_REASON:
        return BY_REASON[m.reason]  # type: ignore[index]
    return BY_STATE[m.state]


def title_of(m: Message) -> str:
    if m.state in (State.CANCELLED, State.EXPIRED):
        return m.state.value
    return TITLES[code_of(m)][0]


def moment(value: datetime | None, zone: tzinfo, name: str) -> dict[str, Any] | None:
    """A PHP DateTime as json_encode writes it: {date, timezone_type: 3, timezone}."""
    if value is None:
        return None
    local = value.astimezone(zone)
    return {
        "date": local.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "timezone_type": 3,
        "timezone": name,
    }


def human(value: datetime | None, zone: tzinfo) -> str | None:
    return value.astimezone(zone).strftime("%d.%m.%Y %H:%M:%S") if value is not None else None


def plain(value: datetime | None, zone: tzinfo) -> str | None:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def sms(
    m: Message, zone: tzinfo, zone_name: str, campaigns: Mapping[int, Campaign]
) -> dict[str, Any]:
    paket = campaigns.get(m.campaign_id) if m.campaign_id is not None else None
    return {
        "id": m.id,
        "sendto": m.to_original or m.to,
        "body": m.text,
        "customerid": int(m.reference) if m.reference and m.reference.isdigit() else m.reference,
        "status": code_of(m),
        "statustitle": title_of(m),
        "deviceid": m.device_id if m.device_id is not None else (m.devices or [None])[0],
        "sim": (m.sim_used or m.sim_slot or 1) - 1 if (m.sim_used or m.sim_slot) else None,
        "urgent": 1 if m.priority >= 100 else None,
        "created": moment(m.created_at, zone, zone_name),
        "senttime": plain(m.sent_at, zone),
        "timetosend": plain(m.send_at, zone),
        "paketid": paket.id if paket else None,
        "pakettitle": paket.name if paket else None,
        "paketbody": paket.text if paket else None,
    }


def incoming(i: Inbound, zone: tzinfo, zone_name: str) -> dict[str, Any]:
    return {
        "id": INBOUND_ID_OFFSET + i.id,
        "sendto": i.sender,
        "body": i.text,
        "customerid": None,
        "status": INCOMING,
        "statustitle": TITLES[INCOMING][0],
        "deviceid": i.device_id,
        "sim": i.sim_slot - 1 if i.sim_slot else None,
        "urgent": None,
        "created": moment(i.received_at, zone, zone_name),
        "senttime": None,
        "timetosend": None,
        "paketid": None,
        "pakettitle": None,
        "paketbody": None,
    }


def device(d: Device, *, online: bool) -> dict[str, Any]:
    utc = UTC
    sims = [
        {
            "Slot": str(s.slot - 1),
            "IccId": "",
            "Number": s.number or "",
            "Roaming": "0",
            "CountryIso": "",
            "CarrierName": s.carrier or "",
        }
        for s in d.sims
    ]
    pace = d.limits.pace
    return {
        "id": d.id,
        "title": d.name,
        "number": next((s.number for s in d.sims if s.number), None),
        "imei": None,
        "created": moment(d.created_at, utc, "UTC"),
        "createdhumanformat": human(d.created_at, utc),
        "lastseen": moment(d.last_seen_at, utc, "UTC"),
        "lastseenhumanformat": human(d.last_seen_at, utc),
        "serialnumber": "unknown",
        "siminfo": sims,
        "appversion": d.app_version,
        "isappversionactual": True,
        "delaybetweeneachsms": round(pace.total_seconds()) if pace else None,
        "delaybetweenrequest": 1,
        "subscription": True,
        "online": online,
        "enabled": d.can_send,
    }


def json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")
