"""What every door shares: who is calling, the parameters, bounded scalars, one error road.

- `credentials`: API keys (Bearer, key header, token parameter, Basic key-id:secret) and
  login + password (Basic, or parameters; the md5 form some vendors allow).
- `params`: PHP-style parameters: the query string merged with a urlencoded, multipart or JSON
  body, any or no Content-Type, repeated keys, a charset.
- `parsers`: integers, ids, flags, numbers, dates, durations and text, bounded to what the store
  can hold, raising core errors (BadParameter, MissingParameter).
- `errors`: a door is an error table and a renderer for a path prefix; every failure of a
  request (core, validation, HTTP, unexpected) is answered by its door, logged once if unexpected.

A door never parses a scalar or renders an error on its own.
"""
