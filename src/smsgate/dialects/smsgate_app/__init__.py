"""The SMSGate Android app (capcom6/android-sms-gateway), one vendor in one place.

smsgate speaks the app's private-server protocol and its client API; it claims compatibility with
that app, not affiliation.

- `mobile.py`: the phones' API, `/api/mobile/v1` (registration, pulls, state patches, events).
- `hooks.py`: the webhooks the phones post back (received SMS, per-message states).
- `client.py`: the app's client API, `/api/3rdparty/v1`, as its SDKs call it.
- `wire.py`: the app's JSON shapes, read and written.
- `store.py`: the app's own tables (links, held work, codes, webhooks, settings).
- `errors.py`: the app's error shape and status table.
- `doors.py`: mounts the doors on the ASGI app.
"""
