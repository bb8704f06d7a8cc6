"""The SMSGate app's wire: versions, times, states, the message shape and the settings it reads.

Everything here is shaped by what app v1.68 (and older releases, by `User-Agent`) understands:
Gson omits nulls, so absent stays absent, and nothing a given version does not know is sent to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from smsgate.core.devices import Device, Limits, Period
from smsgate.core.messages import Message, Reason, State

Version = tuple[int, int, int]
OLDEST: Final[Version] = (0, 0, 0)  # an app that never told its version gets the oldest shape

# the first app release that understands each feature (protocol doc, version matrix)
PRIORITY: Final = (1, 35, 0)
TEXT_MESSAGE: Final = (1, 39, 1)
SETTINGS: Final = (1, 37, 0)
SIGNING: Final = (1, 33, 0)
SSE_ONLY: Final = (1, 53, 0)
SCHEDULE_AT: Final = (1, 61, 0)
CANCELLING: Final = (1, 67, 0)

# webhook events and the first release known to accept them in its webhook list; an event the
# app does not know breaks its whole webhook sync. Where the doc gives no release, a late one.
EVENTS: Final[Mapping[str, Version]] = {
    "sms:received": (1, 15, 0),
    "sms:sent": (1, 33, 0),
    "sms:delivered": (1, 33, 0),
    "sms:failed": (1, 33, 0),
    "sms:data-received": (1, 66, 0),
    "mms:received": (1, 66, 0),
    "mms:downloaded": (1, 66, 0),
    "system:ping": (1, 66, 0),
    "app:started": (1, 66, 0),
    "sms:cancelled": (1, 67, 0),
    # the reference server's enum has these; app v1.68 does not know them: stored, never sent
    "sms:batch:received": (99, 0, 0),
    "sms:batch:data-received": (99, 0, 0),
    "mms:batch:received": (99, 0, 0),
    "mms:batch:downloaded": (99, 0, 0),
}
OUR_EVENTS: Final = (
    "sms:received",
    "sms:sent",
    "sms:delivered",
    "sms:failed",
    "sms:cancelled",
    "system:ping",
    "app:started",
)

# stream events and the release that knows them (others: the app logs and drops them)
STREAM_EVENTS: Final[Mapping[str, Version]] = {
    "MessageEnqueued": (1, 43, 0),
    "WebhooksUpdated": (1, 43, 0),
    "SettingsUpdated": (1, 43, 0),
    "MessagesExportRequested": (1, 53, 0),
    "MessageCancelled": CANCELLING,
}

_AGENT = re.compile(r"me\.capcom\.smsgateway/(\d+)\.(\d+)(?:\.(\d+))?")


def agent_version(user_agent: str | None) -> str | None:
    """`me.capcom.smsgateway/1.68.0` -> "1.68.0"; None for any other agent (the stream's okhttp)."""
    found = _AGENT.search(user_agent or "")
    return ".".join(p for p in found.groups() if p is not None) if found else None


def version(text: str | None) -> Version:
    if not text:
        return OLDEST
    parts = [int(p) for p in re.findall(r"\d+", text)[:3]] + [0, 0, 0]
    return (parts[0], parts[1], parts[2])


def knows(device: Device, feature: Version) -> bool:
    return version(device.app_version) >= feature


def stamp(value: datetime | None) -> str | None:
    """The app's time shape: ISO-8601 UTC with milliseconds, `2026-07-01T08:00:00.000Z`."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# --- states ---------------------------------------------------------------------------------------

APP_STATES: Final = (
    "Pending",
    "Cancelling",
    "Cancelled",
    "Processed",
    "Sent",
    "Delivered",
    "Failed",
)

CORE_TO_APP: Final[Mapping[State, str]] = {
    State.SCHEDULED: "Pending",
    State.QUEUED: "Pending",
    State.LEASED: "Pending",
    State.TAKEN: "Processed",
    State.SENT: "Sent",
    State.DELIVERED: "Delivered",
    State.UNDELIVERED: "Failed",
    State.FAILED: "Failed",
    State.EXPIRED: "Failed",
    State.CANCELLED: "Cancelled",
}

APP_TO_CORE: Final[Mapping[str, frozenset[State]]] = {
    app: frozenset(s for s, a in CORE_TO_APP.items() if a == app) for app in APP_STATES
}


def app_state(message: Message, *, cancelling: bool = False) -> str:
    if cancelling and message.state in (State.SCHEDULED, State.QUEUED, State.LEASED):
        return "Cancelling"
    return CORE_TO_APP[message.state]


def combined(states: list[str]) -> str:
    """The app's rule for one message of several recipients (MessageWithRecipients)."""
    if not states or "Pending" in states:
        return "Pending"
    for waiting in ("Cancelling", "Cancelled", "Processed"):
        if waiting in states:
            return waiting
    if all(s == "Failed" for s in states):
        return "Failed"
    if all(s == "Delivered" for s in states):
        return "Delivered"
    return "Sent"


def reason_of(error: str | None) -> Reason:
    text = (error or "").upper()
    for key, reason in (
        ("NO_SERVICE", Reason.NO_SERVICE),
        ("RADIO_OFF", Reason.RADIO_OFF),
        ("NULL_PDU", Reason.NULL_PDU),
        ("LIMIT_EXCEEDED", Reason.LIMIT_EXCEEDED),
        ("NOT FOUND", Reason.NOT_ALLOWED),  # "SIM 3 not found": the phone cannot, wherever it is
        ("DELIVERY RESULT", Reason.REJECTED),
    ):
        if key in text:
            return reason
    return Reason.GENERIC


def error_of(message: Message) -> str | None:
    if message.state is State.EXPIRED:
        return "TTL expired"
    if message.state in (State.FAILED, State.UNDELIVERED):
        return f"failed: {message.reason.value if message.reason else 'generic'}"
    return None


# --- the message a phone pulls --------------------------------------------------------------------


def phone_id(m: Message) -> str:
    """The id a phone knows a message by: a message group's reference (the client API's id, unique
    in the account) or, without one, the group's id; a lone message's own id."""
    if m.group_id is not None:
        return m.reference or str(m.group_id)
    return str(m.id)


def mobile_message(members: list[Message], device: Device, *, cancelling: bool) -> dict[str, Any]:
    """One message as the phone pulls it: every recipient of its group (first member's settings)."""
    m = members[0]
    out: dict[str, Any] = {
        "id": phone_id(m),
        "message": m.text,
        "phoneNumbers": [member.to for member in members],
    }
    if knows(device, TEXT_MESSAGE):
        out["textMessage"] = {"text": m.text}
    sim = m.sim_slot or m.sim_used
    if sim is not None:
        out["simNumber"] = sim
    out["withDeliveryReport"] = True
    out["isEncrypted"] = False
    if knows(device, PRIORITY):
        out["priority"] = max(-128, min(127, m.priority))
    if m.valid_until is not None:
        out["validUntil"] = stamp(m.valid_until)
    if m.send_at is not None and knows(device, SCHEDULE_AT):
        out["scheduleAt"] = stamp(m.send_at)
    if knows(device, CANCELLING):
        out["state"] = "Cancelling" if cancelling else "Pending"
    out["createdAt"] = stamp(m.created_at)
    return out


# --- settings -------------------------------------------------------------------------------------

LIMIT_PERIOD: Final[Mapping[Period, str]] = {Period.HOUR: "PerHour", Period.DAY: "PerDay"}


def limits_section(limits: Limits) -> dict[str, Any]:
    """smsgate's pace and quota of the device, in the app's `messages` section."""
    out: dict[str, Any] = {}
    if limits.pace is not None:
        seconds = max(0, math.ceil(limits.pace.total_seconds()))
        jitter = math.ceil(limits.jitter.total_seconds()) if limits.jitter is not None else 0
        out["send_interval_min"] = seconds
        out["send_interval_max"] = seconds + jitter
    if limits.quota is not None and limits.period in LIMIT_PERIOD:
        out["limit_period"] = LIMIT_PERIOD[limits.period]
        out["limit_value"] = limits.quota
    return out


SECTIONS: Final = ("encryption", "gateway", "messages", "ping", "logs", "webhooks")

# the keys a client may set through the client API, with their checks; secrets are smsgate's own
ALLOWED: Final[Mapping[str, Mapping[str, Any]]] = {
    "messages": {
        "send_interval_min": int,
        "send_interval_max": int,
        "limit_value": int,
        "log_lifetime_days": int,
        "limit_period": ("Disabled", "PerMinute", "Per30Minutes", "PerHour", "PerDay"),
        "sim_selection_mode": ("OSDefault", "RoundRobin", "Random"),
        "processing_order": ("LIFO", "FIFO"),
    },
    "ping": {"interval_seconds": int},
    "logs": {"lifetime_days": int},
    "webhooks": {"internet_required": bool, "retry_count": int},
    "gateway": {"notification_channel": ("AUTO", "SSE_ONLY")},
}


def checked_settings(body: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A client's settings, validated (an invalid value would abort the phone's import midway)."""
    out: dict[str, dict[str, Any]] = {}
    for section, values in body.items():
        if values is None:
            continue
        rules = ALLOWED.get(section)
        if rules is None or not isinstance(values, Mapping):
            raise ValueError(
                f"settings section {section!r} cannot be set here; known: {', '.join(ALLOWED)}"
            )
        for key, value in values.items():
            if value is None:
                continue
            rule = rules.get(key)
            if rule is None:
                raise ValueError(
                    f"{section}.{key} cannot be set here (secrets and URLs are smsgate's own)"
                )
            if isinstance(rule, tuple):
                if value not in rule:
                    raise ValueError(f"{section}.{key} must be one of {', '.join(rule)}")
            elif rule is int:
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{section}.{key} must be a whole number, 0 or more")
            elif not isinstance(value, rule):
                raise ValueError(f"{section}.{key} must be {rule.__name__}")
            out.setdefault(section, {})[key] = value
    return out


def device_settings(
    device: Device, account_settings: Mapping[str, Any], signing_key: str
) -> dict[str, Any]:
    """M7: the account's settings, then the device's own limits, the signing key and SSE_ONLY."""
    out: dict[str, dict[str, Any]] = {
        s: dict(v) for s, v in account_settings.items() if s in SECTIONS
    }
    messages = out.setdefault("messages", {})
    messages.update(limits_section(device.limits))
    if not messages:
        del out["messages"]
    if knows(device, SIGNING):
        out.setdefault("webhooks", {})["signing_key"] = signing_key
    gateway = out.setdefault("gateway", {})
    if knows(device, SSE_ONLY):
        gateway.setdefault("notification_channel", "SSE_ONLY")
    else:
        gateway.pop("notification_channel", None)
    if not gateway:
        del out["gateway"]
    return out
