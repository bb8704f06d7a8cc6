"""The domain in plain Python: no I/O, stdlib plus phonenumbers."""
