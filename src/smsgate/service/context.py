"""What every domain service shares: the stores, the hub, the clock, the policy and the metrics.

Only the service package holds a Context; doors, channels, workers and the CLI call operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from smsgate.core.campaigns import DEFAULT_STOP_WORDS
from smsgate.core.ports import (
    CampaignStore,
    Clock,
    ContactStore,
    Directory,
    Ledger,
    Limiter,
    MessageStore,
    SenderStore,
    WebhookStore,
)
from smsgate.dispatch.hub import Hub
from smsgate.metrics import Metrics


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    default_region: str | None = "RU"
    default_validity: timedelta = timedelta(hours=24)
    lease_time: timedelta = timedelta(
        seconds=30
    )  # a device confirms (taken) within this, or the work goes back
    taken_timeout: timedelta = timedelta(
        minutes=30
    )  # taken and never reported: failed as lost, not re-sent
    max_attempts: int = (
        3  # a transient failure is retried, on another device first, up to this many tries
    )
    retry_backoff: timedelta = timedelta(seconds=10)  # doubled after every failed try
    urgent_bypasses_pace: bool = (
        True  # urgent messages skip a device's pace (never its quota or window)
    )
    offline_after: timedelta = timedelta(minutes=5)  # a phone silent this long counts as offline
    key_cache_ttl: float = 10.0  # seconds an API key's account is remembered
    currency: str = "RUB"  # of prices and balances
    stop_words: frozenset[str] = DEFAULT_STOP_WORDS  # a reply of one of these opts its sender out
    campaign_batch: int = 500  # messages a campaign's expansion creates per group commit


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    store: MessageStore
    directory: Directory
    ledger: Ledger
    limiter: Limiter
    webhooks: WebhookStore
    senders: SenderStore
    hub: Hub
    clock: Clock
    policy: Policy
    metrics: Metrics
    contacts: ContactStore
    campaigns: CampaignStore
