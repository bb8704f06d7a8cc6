"""smsgate: a self-hosted SMS gateway with one core and many doors."""

__version__ = "0.1.0"
