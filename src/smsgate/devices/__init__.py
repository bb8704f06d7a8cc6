"""The device API: phones pull their work, report statuses, push inbound SMS, send heartbeats."""
