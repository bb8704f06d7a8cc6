"""SMSC (smsc.ru / smscentre.com) HTTP API (`/sys/*.php`), so scripts, CMS modules and client
libraries written for it work by changing the host.

Sources: the seed (`shared/seeds/001_...`: the history method and the menu) and the clients on the
wire (`shared/protocols/vendor-wire-formats.md` section 2: smsc 0.1.1, smsc-client, node-smsc, the
official libraries). Where both are silent the choice is ours, written down here.

Reading requests
- GET query, urlencoded POST, multipart POST and JSON bodies; the query and the body merge (the body
  wins). `charset` (windows-1251 by default, koi8-r, utf-8) decodes the text of the query and of an
  urlencoded body and encodes the answer. Without `charset`, bytes that are valid UTF-8 are read as
  UTF-8 (smsc-client sends UTF-8 and no charset), others as windows-1251. Multipart and JSON bodies
  are UTF-8.
- Credentials: `apikey` (an smsgate API key); or `login` (the account's email) + `psw` (the password
  or its lower-case hex md5, as node-smsc sends it); or an empty login with the API key as `psw`.
- `fmt` 0 (text), 1 (comma separated), 2 (XML), 3 (JSON) for every answer and every error; every
  answer is HTTP 200.

send.php
- `phones` separated by `,` or `;` (or new lines), with or without `+` (read in
  SMSGATE_DEFAULT_REGION); `list` = `phone:text` lines (different texts in one call, all or none);
  `mes` up to 1000 characters; `translit=1` (or 2) writes Russian letters in Latin ones.
- `id`: the client's id (1..2147483647, or up to 40 of [A-Za-z0-9.-_]) is echoed back and kept as
  the messages' reference, so status.php and get.php find them by it; `id=0` or none: the answer
  carries the message id (the first message's, for several numbers: status.php finds each number's
  message by that id and the phone).
- `time`: DDMMYYhhmm, DD.MM.YY hh:mm (or DD.MM.YYYY, seconds optional), `h1-h2` (only between
  these hours: outside them, at the next h1), `0<unix time>`, `+<minutes>`; empty or 0 = now. `tz`
  is the time zone of `time` in hours from Moscow's (SMSC's convention). Anything else: error 5.
- `valid` hours (1-24) or hh:mm: the message's lifetime. `sender`: recorded with the message; an
  account with sender names (senders.php, /api/v1/senders) may only use those (error 6).
- `cost` 0 send, 1 only the price (nothing sent; at most 5 identical a minute: error 9), 2 send +
  cost, 3 send + cost + balance. `op=1` adds the numbers (fmt=3). Texts for cost on fmt=0 are ours:
  `OK - 2 SMS, ID - 5, COST - 3.50, BALANCE - 10.00` and `OK - 2 SMS, COST - 3.50`.
- `hlr=1` / `ping=1`: answered at once from number intelligence (country, operator, MCC/MNC,
  number type), no operator is asked and nothing is stored; the answer's status says so.
- The same send (every parameter alike but the credentials) twice within a minute: error 9, the
  second writes nothing (a mark in the accepting transaction; holds across nodes).
- Contact groups in `phones` (`G<n>`) are refused (error 7); mms, mail, call, viber, soc, bin,
  push, flash and tinyurl are ignored (a plain SMS goes).

status.php: `id` + `phone` (comma lists in the same order, or one phone for all); a trailing
comma or several ids answer a list (fmt=3: objects with `id` and `phone`). `all` 0/1/2; `del=1`
deletes. Not found: status -3.

Statuses from the core status machine: scheduled, queued, leased, taken -> -1 (waiting); sent -> 0
(handed to the operator); delivered -> 1; expired -> 3 (err 246); cancelled -> -2 (stopped); failed
or undelivered by reason: invalid_number -> 22 (err 1), not_allowed -> 23 (err 250), no_service and
radio_off -> 25 (err 6), limit_exceeded -> 20 (err 247), device_lost -> 20 (err 245), null_pdu -> 20
(err 248), generic and rejected -> 20 (err 255). Status 24 (no money) never occurs: a send the
balance cannot pay is refused at once with error 3 and nothing is stored.

balance.php: the balance (`cur=1` adds the currency, `credit` shows when the account has one). An
unlimited account shows 1000000000.00 (scripts compare the balance with a threshold).

get.php?get_messages: the seed's fields in its order; `cnt` (1-1000, default 1000) newest first,
`prev_id` = an `int_id`: older messages; `start`/`end` dd.mm.yyyy (Moscow time, at most 6 months
apart), `phone` list; `format` other than 0 finds nothing. At most 3 identical requests a minute
and 30 an hour (error 9), counted in the database across nodes. Nothing found: error 3 (node-smsc
reads it as an empty list). Dates are Moscow time; `country` is its Russian name; `type` and
`format` are 0 (SMS); `crc` is the CRC-32 of the text; `id` is the client's id, `int_id` ours.
get.php?get_answers: incoming messages (`after_id`, or the last `hour` hours, default 1).

info.php?get_operator: country, operator, region, MCC, MNC of `phone` from number intelligence.
senders.php: `get=1` lists, `add=1`/`del=1` with `sender=` change the account's sender names.

Errors (codes as SMSC's): 1 parameters, 2 login/password/key, 3 no money (and nothing found),
4 too many failed sign-ins, 5 date format, 6 sender not allowed, 7 phone number, 8 no price for the
destination, 9 duplicate or too many requests. fmt=0 `ERROR = N (text)` (+ `, ID - <id>` for 3, 6,
7, 8 on send.php when the client gave an id); fmt=1 `0,-N` (`<id>,-N` on send.php); fmt=2 XML;
fmt=3 `{"error", "error_code", "id"?, "detail"}`: `detail` is smsgate's own explanation.
"""
