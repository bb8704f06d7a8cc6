"""Accounts own everything; API keys and device tokens are random secrets stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

KEY_PREFIX = "sg_"
DEVICE_TOKEN_PREFIX = "sgd_"


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    id: int
    email: str
    is_admin: bool = False
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    id: int
    account_id: int
    name: str
    prefix: str  # the first characters, to recognise a key without knowing it
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(30)


def secret_hash(secret: str) -> str:
    """Secrets are high-entropy, so a fast hash is enough (passwords use argon2)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def shown_prefix(secret: str) -> str:
    return secret[:10]
