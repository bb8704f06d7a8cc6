"""The SemySMS dialect's translation without a server: outbox flags, dates as the samples print
them, and the values clients write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from smsgate.core.messages import Message, State
from smsgate.dialects.semysms import schemas, wire


def a_message(**changes: Any) -> Message:
    at = datetime(2015, 2, 4, 12, 41, 13, 657724, tzinfo=UTC)
    fields: dict[str, Any] = {
        "id": 371,
        "account_id": 1,
        "to": "+79201234567",
        "to_original": "8920123xxxx",
        "country": "RU",
        "text": "test",
        "encoding": "gsm7",
        "segments": 1,
        "state": State.QUEUED,
        "created_at": at,
        "device_id": 1,
    }
    return Message(**{**fields, **changes})


@pytest.mark.parametrize(
    ("state", "stamps", "flags"),
    [
        (State.SCHEDULED, {}, (0, 0, 0, 0, 0, 0)),
        (State.QUEUED, {}, (0, 0, 0, 0, 0, 0)),
        (State.LEASED, {"leased_at"}, (1, 0, 0, 0, 0, 0)),
        (State.TAKEN, {"leased_at", "taken_at"}, (1, 0, 0, 0, 0, 0)),
        (State.SENT, {"leased_at", "taken_at", "sent_at"}, (1, 1, 0, 0, 0, 0)),
        (State.DELIVERED, {"leased_at", "taken_at", "sent_at", "delivered_at"}, (1, 1, 1, 0, 0, 0)),
        (State.UNDELIVERED, {"leased_at", "sent_at", "failed_at"}, (1, 1, 0, 1, 0, 0)),
        (State.FAILED, {"leased_at", "failed_at"}, (1, 0, 0, 1, 1, 0)),
        (State.FAILED, {"failed_at"}, (0, 0, 0, 1, 1, 0)),
        (State.EXPIRED, {"expired_at"}, (0, 0, 0, 1, 1, 0)),
        (State.CANCELLED, {"cancelled_at"}, (0, 0, 0, 0, 0, 1)),
    ],
)
def test_outbox_flags_come_from_the_status_machine(
    state: State, stamps: set[str], flags: tuple[int, ...]
) -> None:
    at = datetime(2015, 2, 4, 12, 47, 31, tzinfo=UTC)
    item = schemas.outbox(a_message(state=state, **{s: at for s in stamps}))
    names = (
        "is_send_to_phone",
        "is_send",
        "is_delivered",
        "is_error",
        "is_error_send",
        "is_cancel",
    )
    assert tuple(item[n] for n in names) == flags
    assert (item["error_date"] is not None) == bool(flags[3])
    assert (item["send"] is not None) == bool(flags[1])


def test_dates_print_like_the_samples() -> None:
    assert (
        schemas.when(datetime(2015, 2, 4, 12, 41, 13, 657724, tzinfo=UTC))
        == "2015-02-04 12:41:13.657724"
    )
    assert (
        schemas.when(datetime(2015, 9, 8, 14, 33, 39, 540610, tzinfo=UTC))
        == "2015-09-08 14:33:39.54061"
    )
    assert schemas.when(datetime(2015, 2, 4, 12, 47, 31, tzinfo=UTC)) == "2015-02-04 12:47:31"
    assert schemas.when(None) is None


def test_dates_are_read_as_clients_write_them() -> None:
    assert wire.moment("d", "2015-08-9 10:30") == datetime(2015, 8, 9, 10, 30, tzinfo=UTC)
    assert wire.moment("d", "2015-08-09 22:30:15") == datetime(2015, 8, 9, 22, 30, 15, tzinfo=UTC)
    assert wire.moment("d", "2015-02-04 12:41:13.657724") == datetime(
        2015, 2, 4, 12, 41, 13, 657724, tzinfo=UTC
    )
    assert wire.moment("d", "2015-08-09", end=True) == datetime(
        2015, 8, 9, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert wire.ids("list_id", "1, 2,3,") == (1, 2, 3)
    assert wire.device_choice("ACTIVE") == "active"
