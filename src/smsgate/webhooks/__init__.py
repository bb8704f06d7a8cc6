"""Webhooks on the wire: how a delivery is signed (`sign`) and sent (`deliver`)."""
