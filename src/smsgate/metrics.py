"""Prometheus metrics: counters on the paths that change state, gauges refreshed by the worker."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "smsgate_messages_accepted", "Messages accepted", registry=self.registry
        )
        self.reports = Counter(
            "smsgate_reports",
            "Status reports applied, by status",
            ["status"],
            registry=self.registry,
        )
        self.inbound = Counter(
            "smsgate_inbound_received", "Inbound messages received", registry=self.registry
        )
        self.webhook_attempts = Counter(
            "smsgate_webhook_attempts",
            "Webhook delivery attempts, by outcome (ok: a 2xx answer)",
            ["outcome"],
            registry=self.registry,
        )
        self.messages = Gauge(
            "smsgate_messages", "Stored messages by status", ["status"], registry=self.registry
        )
        labels = ["account", "device"]
        self.device_queued = Gauge(
            "smsgate_device_queued",
            "Messages waiting that this device may take",
            labels,
            registry=self.registry,
        )
        self.device_leased = Gauge(
            "smsgate_device_leased",
            "Messages handed to the device, not yet confirmed",
            labels,
            registry=self.registry,
        )
        self.device_taken = Gauge(
            "smsgate_device_taken",
            "Messages the device confirmed and has not reported sent",
            labels,
            registry=self.registry,
        )
        self.device_used = Gauge(
            "smsgate_device_used",
            "Messages handed out in the current quota period (slot 0 = whole device)",
            [*labels, "slot"],
            registry=self.registry,
        )
        self.device_quota = Gauge(
            "smsgate_device_quota",
            "The quota per period (absent: none)",
            [*labels, "slot"],
            registry=self.registry,
        )
        self.device_ready = Gauge(
            "smsgate_device_ready",
            "1 if the device would take work now, else 0",
            [*labels, "waiting"],
            registry=self.registry,
        )
        self.waiting_devices = Gauge(
            "smsgate_devices_waiting", "Devices in a long-poll right now", registry=self.registry
        )
