"""The SMSGate app's client API (/api/3rdparty/v1)."""
