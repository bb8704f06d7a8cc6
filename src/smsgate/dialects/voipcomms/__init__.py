"""VoIP-Communications API v2 (`/api-v2/index.php/...`), so code written for voip-communications.net
works by changing the host.

Sources: the vendor's page for `sms/send` (`shared/seeds/003_...`: parameters, answer sample, curl
and PHP examples) and what its own apps send (`shared/protocols/vendor-wire-formats.md` section 5:
multipart FormData with Basic auth, errors read as `{"error": <truthy>, "error_message": ...}`).
Where both are silent, the choice is ours and is written down here.

Credentials (HTTP Basic, `curl -u YOUR_API_KEY:YOUR_API_PASSWORD`)
- YOUR_API_PASSWORD is a whole smsgate API key (`sg_...`, from `smsgate keys create` or the first
  start). YOUR_API_KEY is that key's id: the first 10 characters `smsgate keys list` shows
  (`sg_1a2b3c4`); the whole key is accepted there too, and so is an empty one. An id that is not
  the start of the key is refused like a wrong key. `curl -u KEY:` (the key as the user, no
  password) works as well.
- Missing or wrong credentials: HTTP 401, `{"error": true, "error_message": "Invalid api
  credentials: ..."}` and `WWW-Authenticate: Basic`.

sms/send (POST; urlencoded, multipart or JSON; the query string too)
- `to`: one or more numbers, comma-separated (spaces and empty items ignored; a repeated number is
  sent once). `+` is optional: `12812345678` is read as international when it is valid so, else in
  SMSGATE_DEFAULT_REGION.
- `msg`: up to 255 parts. Over 160 GSM characters it goes as parts of 153 (70/67 for Unicode); each
  send_log entry says how many in `parts` (an extra field beside the vendor's).
- `from`: empty = BULKSMS (any device of the account). Otherwise one of the account's two-way
  numbers (a SIM number a phone reported, or one the owner gave a SIM: PATCH /api/v1/devices/{id}
  `{"sim_numbers": {"1": "+17134567890"}}`): it leaves through that SIM, `type` is `2WAYSMS`, and
  replies to the number reach the webhooks registered for it (/api/v1/webhooks with `number`).
- `delivery_date`: `YYYY-MM-DD HH:MM` (seconds optional), ISO 8601 with `T` and an offset,
  `DD.MM.YYYY HH:MM`, `MM/DD/YYYY HH:MM` (with AM/PM or not), a bare date (midnight), or Unix
  seconds. Without an offset the time is UTC. Empty or now: sent at once. More than a minute in
  the past: refused.
- One `send_log` entry per recipient: code 200, code_desc "", from and to as digits without `+`,
  country (ISO code), msg, delivery_date (`YYYY-MM-DD HH:MM:SS`, UTC; the acceptance time when
  sent at once), sale (the price of all its parts from the core price list, a number; 0 when no
  price applies), type, status (SCHEDULED for later, QUEUED when accepted for now; the listing
  shows the live states SENDING, SENT, DELIVERED, UNDELIVERED, FAILED, CANCELLED, EXPIRED), smsid
  (the smsgate message id as a string: every later answer, webhook and the native API carry it).
- All or nothing: one bad recipient (or any other bad input) answers HTTP 400 with the reason and
  writes nothing. The vendor does not say what it does there; a half-sent request whose log a
  PHP client never reads (it decodes only HTTP 200) would be worse.

Scheduled messages (the vendor points to "API methods to list/delete scheduled SMS" without paths;
these are ours, in its style):
- `GET|POST /api-v2/index.php/sms/scheduled`: `{"scheduled": [<send_log entry>...]}`, the
  account's messages still waiting for their delivery_date, oldest first (at most 1000; `smsid`
  filters to those ids, comma-separated).
- `POST|DELETE /api-v2/index.php/sms/scheduled/delete` with `smsid` (one or comma-separated):
  deletes them; `{"deleted": [<entry>...]}` (status CANCELLED: the native API keeps them as
  cancelled, a `message.cancelled` webhook fires, and the balance gets their price back). An smsid that is not a scheduled message of this
  account (sent already, or unknown) answers 404 and deletes nothing.

Errors: `{"error": true, "error_message": "<reason>"}` with HTTP 401 (credentials), 400 (bad
input), 404 (no such message, no such method), 405, 413 (body too large), 429, 503 (retry), 500
(logged, never a trace).
"""
