"""How a message physically leaves: phones pull through the device API; server-side channels run here."""
