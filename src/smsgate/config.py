"""Settings, read once from the environment and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from smsgate.channels.simulator import SimulatorSettings
from smsgate.core.campaigns import DEFAULT_STOP_WORDS
from smsgate.core.events import RetryPlan
from smsgate.service import DeliveryPolicy, Policy


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number") from None


def _words(raw: str | None) -> frozenset[str]:
    """SMSGATE_STOP_WORDS: comma-separated replies that opt their sender out (unset: the defaults)."""
    if raw is None:
        return DEFAULT_STOP_WORDS
    return frozenset(w.strip().upper() for w in raw.split(",") if w.strip())


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite in data_dir
    database_schema: str = ""  # PostgreSQL: the schema to use (default: the server's search_path)
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""  # how clients reach this gateway; printed in the welcome text
    sqlite_synchronous: str = "FULL"
    policy: Policy = field(default_factory=Policy)
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)
    sweep_interval: float = 0.5
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    log_level: str = "info"
    access_log: bool = True  # one short line per HTTP request (SMSGATE_ACCESS_LOG=0: none)
    telegram_bot_token: str = ""  # SmsGateway24's telegrammessage sends through this bot
    telegram_api: str = "https://api.telegram.org"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'smsgate.db').resolve()}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        region = env.get("SMSGATE_DEFAULT_REGION", "RU").strip().upper()
        policy = Policy(
            default_region=region or None,
            default_validity=timedelta(seconds=_float(env, "SMSGATE_DEFAULT_VALIDITY", 86400)),
            lease_time=timedelta(seconds=_float(env, "SMSGATE_LEASE_SECONDS", 30)),
            taken_timeout=timedelta(seconds=_float(env, "SMSGATE_TAKEN_TIMEOUT", 1800)),
            max_attempts=max(1, int(_float(env, "SMSGATE_MAX_ATTEMPTS", 3))),
            retry_backoff=timedelta(seconds=_float(env, "SMSGATE_RETRY_BACKOFF", 10)),
            urgent_bypasses_pace=env.get("SMSGATE_URGENT_BYPASSES_PACE", "1").strip().lower()
            not in ("0", "false", "no"),
            offline_after=timedelta(seconds=_float(env, "SMSGATE_OFFLINE_AFTER", 300)),
            currency=env.get("SMSGATE_CURRENCY", "RUB").strip().upper() or "RUB",
            stop_words=_words(env.get("SMSGATE_STOP_WORDS")),
            campaign_batch=max(1, int(_float(env, "SMSGATE_CAMPAIGN_BATCH", 500))),
        )
        simulator = SimulatorSettings(
            sent_after=_float(env, "SMSGATE_SIM_SENT_AFTER", 0.5),
            delivered_after=_float(env, "SMSGATE_SIM_DELIVERED_AFTER", 1.0),
            failure_rate=_float(env, "SMSGATE_SIM_FAILURE_RATE", 0.0),
            reply_rate=_float(env, "SMSGATE_SIM_REPLY_RATE", 1.0),
            reply_after=_float(env, "SMSGATE_SIM_REPLY_AFTER", 1.0),
        )
        delivery = DeliveryPolicy(
            timeout=timedelta(seconds=_float(env, "SMSGATE_WEBHOOK_TIMEOUT", 10)),
            concurrency=max(1, int(_float(env, "SMSGATE_WEBHOOK_CONCURRENCY", 64))),
            per_webhook=max(1, int(_float(env, "SMSGATE_WEBHOOK_PER_URL", 32))),
            retry=RetryPlan(
                first=timedelta(seconds=_float(env, "SMSGATE_WEBHOOK_BACKOFF", 10)),
                longest=timedelta(seconds=_float(env, "SMSGATE_WEBHOOK_LONGEST_BACKOFF", 3600)),
                give_up_after=timedelta(seconds=_float(env, "SMSGATE_WEBHOOK_GIVE_UP", 86400)),
            ),
        )
        return cls(
            data_dir=Path(env.get("SMSGATE_DATA_DIR", "data")),
            database_url=env.get("SMSGATE_DATABASE_URL", ""),
            database_schema=env.get("SMSGATE_DATABASE_SCHEMA", ""),
            host=env.get("SMSGATE_HOST", "127.0.0.1"),
            port=int(_float(env, "SMSGATE_PORT", 8080)),
            public_url=env.get("SMSGATE_PUBLIC_URL", ""),
            sqlite_synchronous=env.get("SMSGATE_SQLITE_SYNCHRONOUS", "FULL").upper(),
            policy=policy,
            simulator=simulator,
            sweep_interval=_float(env, "SMSGATE_SWEEP_INTERVAL", 0.5),
            delivery=delivery,
            log_level=env.get("SMSGATE_LOG_LEVEL", "info"),
            access_log=env.get("SMSGATE_ACCESS_LOG", "1").strip().lower()
            not in ("0", "false", "no", "off"),
            telegram_bot_token=env.get("SMSGATE_TELEGRAM_BOT_TOKEN", ""),
            telegram_api=env.get("SMSGATE_TELEGRAM_API", "https://api.telegram.org"),
        )
