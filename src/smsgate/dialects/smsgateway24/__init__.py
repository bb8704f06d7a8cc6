"""SmsGateway24 (`/getdata/*`), so shop plugins, its PHP SDK and npm package, 1C scripts and Excel
sheets written for smsgateway24.com work by changing the host.

Sources: the vendor's pages (`shared/seeds/004_...` English, `002_...` French, more detail on some
parameters) and its clients (`shared/protocols/vendor-wire-formats.md` section 4: the PHP SDK, the
npm package). Where they are silent, the choice is ours and written down here.

Reading requests
- Every method on GET and POST alike: query string, urlencoded (raw `+` arrives as a space: write
  `%2B`; a leading space in a number is read as its `+`), multipart (the npm client's addsms) or a
  JSON object; the body over the query (PHP's $_REQUEST).
- `token` is an smsgate API key. gettoken (email + pass of an smsgate account) answers a key named
  "SmsGateway24" that stays the same for the same password (derived from the stored hash), so a
  plugin that asks on every start does not pile up keys; a new password gives a new one. A token
  a client already holds from smsgateway24.com can be kept: `smsgate keys import TOKEN`.
- smstosend (the old method) takes `email` + `pass` instead of a token.
- `device_id` is an smsgate device id of the account (unknown or another account's: an error).
- `sendto`: one number or several separated by commas (one message each; `sms_id` is the first,
  `sms_ids` lists them all).
- `sim`: 0 or 1 as the vendor counts SIM slots (smsgate's slot 1 or 2).
- `timetosend`: `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, in `timezone` when given (a zone name),
  else UTC; a time already past sends at once (as the vendor does); another format is an error.
- `customerid` (the PHP SDK sends `customerId`) is kept as the message's reference (the native API
  shows it) and filters getallsms.
- `urgent=1`: before any normal message (the core's urgent priority).
- addalotofsms: `datajson` (a form or query field holding `{"token", "smsdata": [...]}`), or that
  object as the JSON body (the npm client). All or nothing: one bad entry writes nothing and the
  error names `smsdata[i]`. Answer `{"error":0,"message":"OK","count":n,"sms_ids":[...]}`.

Status codes (schemas.py): 1 new (scheduled or queued: no phone has it), 3 queued for sending (handed
to a phone, not confirmed), 2 taken by the phone (confirmed, sending), 5 incoming, 6 sent, 7
delivered, 8 not delivered, 9 generic failure (also cancelled and expired, with their own
statustitle), 10 no service, 11 null PDU, 12 radio off, 100 not allowed (101 filters as 100).

getallsms
- Filters: device_id (sent through it or waiting for it; incoming: received by it), status, begindate
  / enddate (bare dates: the whole day; in `timezone`), sim, customerid, phone (as written, digits,
  E.164), orderbydesc (0: oldest first, the default), timezone (dates shown in it).
- Outgoing and incoming together (incoming have status 5; their ids are 10^12 + the inbound id, so
  the `smss` keys never collide). `count` is every match; `smss` at most 10,000 of them (`limit`
  lowers it); `onlycount=1` answers `{"error":0,"message":"OK","count":n}`.
- Each message: id, sendto, body, customerid, status, statustitle, deviceid, sim, urgent, created
  {date, timezone_type: 3, timezone}, senttime, timetosend, paketid/pakettitle/paketbody (its
  newsletter's, else null).

Devices: getalldevices answers `{"count", "device": {"<id>": {...}}}` keyed by id with id, title,
number, imei (null: unknown), created/lastseen as objects and in `DD.MM.YYYY HH:MM:SS`, siminfo (the
SIMs the phone reported; Slot counts from 0), appversion, isappversionactual (true),
delaybetweeneachsms (the device's pace in seconds), delaybetweenrequest (1), subscription (true),
plus online and enabled. getdevicestatus: device_id, title, lastseen (an object, as the PHP SDK
reads it), lastseenhumanformat, online.

Tags, contacts, newsletters: a tag is an smsgate contact list (savetag with a title used before
answers that list); savecontact takes `tag_id` or `ctag_id` (one contact per number: a number in
two tags is one contact); savepaket creates a campaign to the tags' contacts (each distinct number
once, opted-out numbers skipped, `{name}` filled), at `time_to_send` (`DD.MM.YYYY H:i:s` or ISO)
or now, answering both `paket` (English page, npm) and `paket_id` (French page, PHP SDK).

telegrammessage: `telegramid` + `body`, sent by the bot of SMSGATE_TELEGRAM_BOT_TOKEN through
SMSGATE_TELEGRAM_API (default https://api.telegram.org); no bot configured: an error (HTTP 503).

Errors: `{"error":1,"message":"..."}` with HTTP 200 (the vendor has no codes); gettoken's wrong
password answers the vendor's own "Login or password incorrect". An unknown method is HTTP 404 in
the same shape. Nothing is written by a refused request.
"""
