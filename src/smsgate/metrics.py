"""Prometheus metrics: counters on the paths that change state, gauges refreshed by the worker.

Shared mode (`Metrics(directory=...)`, what `smsgate serve` and every CLI command use): each
process writes its counts to its own small file in `<data dir>/metrics` (prometheus-client's
multiprocess mode), and `/metrics` adds up the files of every process: all the server's worker
processes and every CLI command run on that data directory (`smsgate send`, `smsgate import`).
So `smsgate_messages_accepted_total` counts what every door and the CLI accepted. The counts of
processes that have ended are folded into one file at the next start (`compact`), so the totals
run from the install on and the directory does not grow with every CLI run.

Without a directory (tests in one process) the metrics live in memory, as before.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import defaultdict
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    values,
)
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "compact"]

PER_PROCESS = re.compile(r"^(counter|gauge_[a-z]+)_(\d+)\.db$")
ARCHIVE = "counter_archive.db"  # the counts of processes that have ended


class RefreshedGauge(Gauge):
    """A gauge set afresh from the store on every refresh. `clear` forgets the label sets in
    shared mode too (prometheus-client warns there: a cleared series keeps its last value in this
    process's file until the process ends, which a refresh overwrites for every live device)."""

    def clear(self) -> None:
        with self._lock:
            self._metrics = {}


class Metrics:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
            values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]  # every metric made from here on
        self.registry = CollectorRegistry()
        self.accepted = Counter(
            "smsgate_messages_accepted",
            "Messages accepted, by every door and the CLI",
            registry=self.registry,
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
        fresh = self._fresh
        self.messages = fresh("smsgate_messages", "Stored messages by status", ["status"])
        labels = ["account", "device"]
        self.device_queued = fresh(
            "smsgate_device_queued", "Messages waiting that this device may take", labels
        )
        self.device_leased = fresh(
            "smsgate_device_leased",
            "Messages handed to the device, not yet confirmed",
            labels,
        )
        self.device_taken = fresh(
            "smsgate_device_taken",
            "Messages the device confirmed and has not reported sent",
            labels,
        )
        self.device_used = fresh(
            "smsgate_device_used",
            "Messages handed out in the current quota period (slot 0 = whole device)",
            [*labels, "slot"],
        )
        self.device_quota = fresh(
            "smsgate_device_quota",
            "The quota per period (absent: none)",
            [*labels, "slot"],
        )
        self.device_ready = fresh(
            "smsgate_device_ready",
            "1 if the device would take work now, else 0",
            [*labels, "waiting"],
        )
        self.waiting_devices = Gauge(
            "smsgate_devices_waiting",
            "Phones in a long-poll right now (the simulated phone is not one)",
            registry=self.registry,
            multiprocess_mode="livesum",  # each server process counts its own
        )

    def _fresh(self, name: str, documentation: str, labels: list[str]) -> Gauge:
        """A gauge each server process refreshes from the store: the newest value is right."""
        return RefreshedGauge(
            name,
            documentation,
            labels,
            registry=self.registry,
            multiprocess_mode="livemostrecent",
        )

    def exposition(self) -> bytes:
        """The text /metrics answers: of every process in shared mode."""
        if self.directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.directory))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        """This process ends: its live gauges stop counting (its counts stay)."""
        if self.directory is not None:
            with contextlib.suppress(OSError):
                mark_process_dead(os.getpid(), str(self.directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def compact(directory: Path) -> None:
    """Folds the counter files of ended processes into one archive and drops their gauge files.

    Run by `smsgate serve` before it starts its workers. Files of live processes (another server
    on the same data directory, a CLI command running now) are left alone.
    """
    if not directory.is_dir():
        return
    ended: list[Path] = []
    gauges: list[Path] = []
    for path in directory.iterdir():
        found = PER_PROCESS.match(path.name)
        if found is None or _alive(int(found.group(2))):
            continue
        (ended if found.group(1) == "counter" else gauges).append(path)
    if ended:
        totals: dict[str, float] = defaultdict(float)
        for path in ended:
            found = MmapedDict.read_all_values_from_file(str(path))  # type: ignore[no-untyped-call]
            for key, value, _ts, _pos in found:
                totals[key] += value
        archive = MmapedDict(str(directory / ARCHIVE))  # type: ignore[no-untyped-call]
        try:
            for key, value in totals.items():
                before = archive.read_value(key)[0]  # type: ignore[no-untyped-call]
                archive.write_value(key, before + value, 0.0)  # type: ignore[no-untyped-call]
        finally:
            archive.close()  # type: ignore[no-untyped-call]
    for path in ended + gauges:
        path.unlink(missing_ok=True)
