"""Deciding which message leaves through which device, and when."""
