"""Contact lists, contacts, the opt-out list and campaigns (newsletters): values and rules.

- A contact is one number of an account (E.164, unique per account) with a name and fields; it may
  be in several lists and is still one contact, so a campaign to overlapping lists reaches it once.
- A campaign sends one text to the contacts of one or more lists. At its send time it expands, in
  batches, to one message per distinct number, skipping numbers on the account's opt-out list (it
  counts them). `{name}`, `{phone}` and `{<field>}` are filled from the contact (`{{` and `}}` are
  literal braces; a field the contact lacks is empty).
- Pausing stops the expansion and holds the campaign's messages no device has taken yet; resuming
  releases them and expands on. Cancelling stops the expansion and cancels what no device has taken.
- An inbound message whose whole text is a stop word ("STOP", configurable) puts its sender on the
  account's opt-out list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum, auto
from typing import Final

from smsgate.core import errors

DEFAULT_STOP_WORDS: Final = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "СТОП", "ОТПИСАТЬСЯ", "ARRET"}
)
MAX_FIELDS: Final = 50  # fields of one contact
MAX_FIELD_LENGTH: Final = 500
MAX_NAME: Final = 200
MAX_LISTS: Final = 100  # lists one campaign may name


class CampaignState(StrEnum):
    SCHEDULED = auto()  # waiting for its send time
    EXPANDING = auto()  # its messages are being created, batch by batch
    EXPANDED = auto()  # every message created; they go out like any other
    PAUSED = auto()  # expansion stopped, messages no device has taken are held
    CANCELLED = auto()  # expansion stopped, messages no device had taken are cancelled


LIVE: Final = frozenset({CampaignState.SCHEDULED, CampaignState.EXPANDING})
PAUSABLE: Final = frozenset(
    {CampaignState.SCHEDULED, CampaignState.EXPANDING, CampaignState.EXPANDED}
)
CANCELLABLE: Final = frozenset(
    {
        CampaignState.SCHEDULED,
        CampaignState.EXPANDING,
        CampaignState.EXPANDED,
        CampaignState.PAUSED,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactList:
    id: int
    account_id: int
    name: str
    created_at: datetime
    size: int = 0  # contacts in it, when the store counted them


@dataclass(frozen=True, slots=True, kw_only=True)
class NewContact:
    """A contact as imported: the number already read (E.164)."""

    phone: str
    phone_original: str
    country: str | None = None
    name: str | None = None  # None: keep the stored name
    fields: Mapping[str, str] = field(default_factory=dict)  # merged over the stored ones


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    id: int
    account_id: int
    phone: str
    phone_original: str
    country: str | None
    name: str
    fields: Mapping[str, str]
    created_at: datetime
    lists: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    account_id: int
    phone: str
    source: str  # "reply" (a stop word), "api", "cli", a door's name
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCampaign:
    account_id: int
    name: str
    text: str
    lists: tuple[int, ...]
    devices: tuple[int, ...] = ()
    sim_slot: int | None = None
    priority: int = 0
    send_at: datetime  # when it expands (now, or later)
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    id: int
    account_id: int
    name: str
    text: str
    lists: tuple[int, ...]
    devices: tuple[int, ...]
    sim_slot: int | None
    priority: int
    state: CampaignState
    send_at: datetime
    created_at: datetime
    expanded: int = 0  # messages created so far
    skipped: int = 0  # numbers on the opt-out list, not sent to
    invalid: int = 0  # contacts whose filled-in text could not be sent (too long)
    cursor: str = ""  # the last number expanded (contacts expand in number order)
    started_at: datetime | None = None
    expanded_at: datetime | None = None
    paused_at: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """A contact as a campaign's expansion reads it."""

    phone: str
    phone_original: str
    country: str | None
    name: str
    fields: Mapping[str, str]
    opted_out: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """Where a campaign's messages are. `queued` counts held ones (paused) too."""

    contacts: int  # distinct numbers in its lists now (opted-out ones included)
    expanded: int
    skipped: int
    invalid: int
    queued: int = 0  # scheduled, queued or held: no device has it yet
    sending: int = 0  # a device has it (leased or taken)
    sent: int = 0
    delivered: int = 0
    failed: int = 0  # failed, undelivered or expired
    cancelled: int = 0

    @property
    def pending(self) -> int:
        """Contacts not expanded yet (neither a message nor skipped)."""
        return max(0, self.contacts - self.expanded - self.skipped - self.invalid)


# --- placeholders -------------------------------------------------------------------------------

_PLACEHOLDER: Final = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")


def fill(template: str, contact_values: Mapping[str, str]) -> str:
    """`{name}`-style placeholders filled from the contact's values; unknown ones are empty."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        return contact_values.get(match.group(1), contact_values.get(match.group(1).lower(), ""))

    return _PLACEHOLDER.sub(one, template)


def values_of(phone: str, name: str, fields: Mapping[str, str]) -> dict[str, str]:
    """What placeholders read: the fields, then name and phone over them."""
    return {**fields, "name": name, "phone": phone}


def placeholders(template: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(template) if m.group(1)]


# --- checks -------------------------------------------------------------------------------------


def checked_name(name: str | None, what: str = "name") -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise errors.MissingParameter(f"the {what} is required")
    if len(cleaned) > MAX_NAME:
        raise errors.BadParameter(f"the {what} has at most {MAX_NAME} characters")
    return cleaned


def checked_fields(fields: Mapping[str, object]) -> dict[str, str]:
    if len(fields) > MAX_FIELDS:
        raise errors.BadParameter(f"a contact has at most {MAX_FIELDS} fields")
    found = {}
    for key, value in fields.items():
        name = str(key).strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name):
            raise errors.BadParameter(
                f"the field name {name[:40]!r} is not a word (letters, digits, _)"
            )
        text = "" if value is None else str(value)
        if len(text) > MAX_FIELD_LENGTH:
            raise errors.BadParameter(f"the field {name} has at most {MAX_FIELD_LENGTH} characters")
        found[name] = text
    return found


def checked_lists(lists: Iterable[int]) -> tuple[int, ...]:
    found = tuple(dict.fromkeys(lists))
    if not found:
        raise errors.MissingParameter("a campaign needs at least one contact list")
    if len(found) > MAX_LISTS:
        raise errors.BadParameter(f"a campaign names at most {MAX_LISTS} lists")
    return found


def is_stop(text: str, words: Iterable[str]) -> bool:
    """The whole message is a stop word (case, spaces and final punctuation aside)."""
    word = text.strip().strip(".!?,;:").strip().upper()
    return bool(word) and word in {w.upper() for w in words}
