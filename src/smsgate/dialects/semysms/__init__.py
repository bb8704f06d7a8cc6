"""SemySMS API v3 (`/api/3/*.php`), so code written for semysms.net works by changing the host.

Sources: the vendor's page (`shared/seeds/000_...`; its parameter tables were lost, its examples
and sample answers remain) and the clients in the wild (`shared/protocols/vendor-wire-formats.md`
section 3: laravel-semysms, the Ruby gem, scripts). Where both are silent, the choice is ours and
is written down here.

Methods, all on GET and POST: sms.php, sms_more.php, outbox_sms.php, inbox_sms.php, devices.php,
cancel_sms.php, del_outbox_sms.php, del_inbox_sms.php, and user.php (in the vendor's current page,
not in the seed).

Reading requests
- Parameters come from the query string and the body, the body winning (PHP's $_REQUEST): urlencoded
  forms, multipart forms (the doc's own PHP example: an array to CURLOPT_POSTFIELDS), or a JSON
  object. sms_more.php reads its body as JSON whatever the Content-Type says, also with none
  (laravel-semysms sends none); `token` may also be in its query string.
- `token` is an smsgate API key.
- `device`: one code, `1,15,25` (one message, spread over those devices by the Gateway), or `active`
  (every enabled, not archived device of the account; none = error 3). Codes are smsgate device ids;
  a code that is not a device of this account (unknown, or another account's: the two are not told
  apart) is error 3. Without `device`, sms.php lets the Gateway pick any device of the account.
- `phone`: a leading space is the `+` of an unencoded URL (done by the core); `add_plus=1` prefixes
  `+` when missing. `priority` 0..1,000,000 (higher first); the store keeps a SMALLINT, so values
  over 32,767 share the top. `name`/`surname` (contact creation) are accepted and ignored: smsgate
  has no contacts yet. `msg=[ussd]` is refused (code 11): smsgate cannot send USSD.
- Comma lists (`list_id`, `device`, `id_sms`) tolerate spaces (`1, 2, 3`, the Ruby gem) and a
  trailing comma.
- Dates: `2015-08-9 10:30` (unpadded, no seconds), with seconds, with a fraction, or a bare date;
  UTC (SemySMS has no timezone parameter that we know of). A bare date_end means the end of that
  day; otherwise the instant written, both bounds inclusive.

Listings and deletes (outbox_sms, inbox_sms, del_outbox_sms, del_inbox_sms)
- Filters: device, start_id / end_id (inclusive), list_id, date_start / date_end (on the creation
  time of outgoing, the reception time of incoming messages), phone. `phone` matches the number as
  the client wrote it, its digits, `+digits`, and its E.164 form (parsed like the send path).
- With none of start_id, list_id, date_start, date_end: only messages of today (UTC), as the vendor
  says, for all four methods (end_id alone does not lift it).
- Oldest first, at most 10,000 per answer: page on with start_id = last id + 1.
- The deletes answer with what they deleted, in the listing's shape. An outgoing message a device
  holds at this moment (leased or taken) is not deleted: its report would be lost.
- Every answer carries `"code":"0"` although the seed's listing samples have none (laravel-semysms
  requires it on every answer).

Outgoing message fields, from the core status machine
- date = created; phone = the number as the client wrote it; id_device = the device that has or had
  it; before a device takes it, the device the client named if it named one, else null (a message
  named to `1,15,25` goes to whichever of them takes it first).
- `device=` in listings, deletes and cancel_sms matches messages a device has or had, and those
  still waiting for it (named by the client, not taken yet).
- is_send_to_phone/send_to_phone: the message was handed to the device (leased, then taken).
- is_send/send: the device handed it to the operator (sent). is_delivered/delivered: delivered.
- is_error/error_date: failed, undelivered or expired. is_error_send: such an error before the
  operator had it (nothing was sent). is_cancel (an extra field one client reads): cancelled.
- Times print as PostgreSQL does, which is what the samples show: `2015-02-04 12:41:13.657724`,
  trailing zeros of the fraction dropped (`...39.54061`), none when zero (`12:47:31`); null if unset.

devices.php
- `is_arhive` 0 / 1 filters; absent = every device (laravel-semysms: "all devices").
- id, is_arhive, is_deliv (always 1: smsgate asks for delivery reports), is_work (enabled and not
  archived), power (charging, 0 when unknown), device_name (the phone's model, else our name),
  dop_name (our name when the model is shown, else ""), speed_sms (the pace in whole seconds, 0 =
  none), date_last_active, version (app version), limit_phone (the quota), limit_use (messages handed
  to it in the current period; null without a quota), limit_date (start of the current quota period), limit_period (h/d/m, " " without a
  quota), manufacturer, android_version, bat (battery percent as a string, as in the sample).
- `code` is the integer 0 here and in user.php; the string "0" everywhere else (clients compare
  strictly).

sms_more.php
- `{"token", "data": [{"my_id", "device", "phone", "msg"}]}`; answer `{"code":"0","data":[{"my_id",
  "id"}]}` in request order (laravel maps data[i] to its i-th request). my_id comes back exactly as
  given (string or number; null when absent) and is kept as the message's reference when it fits
  (100 characters), so the native API shows it too.
- All or nothing (Gateway.send_batch): one bad entry writes nothing, and the error names it:
  `"error": "data[3] (my_id A7): ..."` with `index` and `my_id` beside `code`. SemySMS does not say
  what it does with a partly bad batch; answering one id list for a half-written batch would break
  the index-to-request mapping its clients rely on, so we refuse the whole batch.

cancel_sms.php
- `device` (one, several or `active`): every message of those devices not yet handed to them.
  laravel-semysms sends `id_sms=1` beside `device` to mean this, so `id_sms` is ignored then.
- `id_sms` alone: that message (error 10 if a device has it already, 9 if there is no such message);
  a list cancels those that still can be. Neither: error 8.
- Answer `{"code":"0","count":n,"data":[{"id"}]}` (the seed shows no sample).

Errors: HTTP 200 and `{"code": "<n>", "error": "<reason>"}` (code an integer on devices.php and
user.php). SemySMS does not publish its codes; these are smsgate's:
   1 token missing, wrong or revoked        7 sms_more.php body is not the expected JSON
   2 not allowed                            8 a parameter is missing or cannot be read
   3 device unknown, not this account's,    9 no such message
     disabled or archived; no active one   10 the message is past the point where it can be cancelled
   4 phone missing or not a valid number   11 not supported (USSD)
   5 msg empty                             12 no such method (HTTP 404/405 kept)
   6 msg too long                          98 temporarily unavailable; 99 internal error (logged)
"""
