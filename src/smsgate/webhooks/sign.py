"""How a webhook delivery is signed, and how a receiver checks it.

Headers of every delivery:
    X-Smsgate-Event: message.delivered               the event's kind
    X-Smsgate-Event-Id: 17                           the event's id (the same on a retry or replay)
    X-Smsgate-Delivery: 42                           the delivery's id (one event to one webhook)
    X-Smsgate-Timestamp: 1764412800                  Unix seconds when this attempt was signed
    X-Smsgate-Signature: sha256=<hex>                HMAC-SHA256(secret, timestamp + body)

The signed message is the timestamp's decimal digits immediately followed by the raw body bytes.
A receiver recomputes it with the webhook's secret (`whsec_...`), compares in constant time, and
refuses timestamps too far from its clock (5 minutes is usual) so a captured delivery cannot be
replayed later by someone else.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

SIGNATURE: Final = "X-Smsgate-Signature"
TIMESTAMP: Final = "X-Smsgate-Timestamp"
EVENT: Final = "X-Smsgate-Event"
EVENT_ID: Final = "X-Smsgate-Event-Id"
DELIVERY: Final = "X-Smsgate-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signed: str, *, now: float, within: float = 300
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > within:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), signed)


def headers(
    *, secret: str, timestamp: int, body: bytes, kind: str, event_id: int, delivery_id: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "smsgate-webhooks/1",
        EVENT: kind,
        EVENT_ID: str(event_id),
        DELIVERY: str(delivery_id),
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, timestamp, body),
    }
