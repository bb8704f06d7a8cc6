"""The smsgate benchmark suite: `./scripts/bench` (or `python -m bench --help`)."""
