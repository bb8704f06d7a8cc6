"""Two-way numbers: the account's own numbers (a SIM of one of its devices, or an upstream's).

A number reported by a phone in its heartbeat (a SIM's number), or given to a SIM slot by the
owner (`sim_numbers`; for an upstream or a phone that does not know its number), belongs to the
account. Sent `from` it, a message leaves through that device and SIM; a reply to it is matched
to the conversation (the last message sent from it to the reply's sender) and reaches the
webhooks of that number.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from smsgate.core import errors, numbers
from smsgate.core.accounts import Account
from smsgate.core.devices import Device
from smsgate.service.context import Context


@dataclass(frozen=True, slots=True, kw_only=True)
class Number:
    number: str  # E.164
    device_id: int
    slot: int
    can_send: bool


def of_device(device: Device, region: str | None) -> builtins.list[Number]:
    found = []
    for sim in device.sims:
        if not sim.number:
            continue
        try:
            e164 = numbers.parse(sim.number, region).e164
        except errors.InvalidInput:
            continue
        found.append(
            Number(number=e164, device_id=device.id, slot=sim.slot, can_send=device.can_send)
        )
    return found


class Numbers:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def list(self, *, account: Account) -> builtins.list[Number]:
        """Every two-way number of the account's devices (archived ones aside)."""
        found = await self._ctx.directory.list_devices(account.id, archived=False)
        region = self._ctx.policy.default_region
        return [n for d in found for n in of_device(d, region)]

    async def sender(self, number: str, *, account: Account) -> Number:
        """The device and SIM a message `from` this number leaves through; InvalidInput when the
        number is not the account's or its device cannot send."""
        try:
            wanted = numbers.parse(number, self._ctx.policy.default_region).e164
        except errors.InvalidNumber:
            raise errors.InvalidSender(
                f"from {number.strip()[:40]!r} is not a phone number"
            ) from None
        owned = [n for n in await self.list(account=account) if n.number == wanted]
        if not owned:
            raise errors.InvalidSender(f"{wanted} is not a number of this account")
        usable = [n for n in owned if n.can_send]
        if not usable:
            raise errors.InvalidSender(f"the device of {wanted} is disabled")
        return usable[0]
