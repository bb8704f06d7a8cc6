"""Prometheus metrics: counters on the paths that change state, gauges refreshed by the worker."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter("smsgate_messages_accepted", "Messages accepted", registry=self.registry)
        self.reports = Counter("smsgate_reports", "Status reports applied, by status", ["status"], registry=self.registry)
        self.inbound = Counter("smsgate_inbound_received", "Inbound messages received", registry=self.registry)
        self.messages = Gauge("smsgate_messages", "Stored messages by status", ["status"], registry=self.registry)
        self.waiting_devices = Gauge("smsgate_devices_waiting", "Devices in a long-poll right now", registry=self.registry)
