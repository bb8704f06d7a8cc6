"""The SMSGate Android app (capcom6/android-sms-gateway) as a device: its private-server protocol.

smsgate claims compatibility with that app, not affiliation.
"""
