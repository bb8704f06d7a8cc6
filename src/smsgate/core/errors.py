"""One error tree for every door. Each door maps these to its own wire format with a table."""

from __future__ import annotations


class GatewayError(Exception):
    """The gateway could not do what was asked."""

    def __init__(self, detail: str | None = None, **context: object) -> None:
        self.detail = detail or (self.__doc__ or "").strip()
        self.context = context
        super().__init__(self.detail)


class InvalidInput(GatewayError):
    """The request is not valid."""


class MissingParameter(InvalidInput):
    """A required parameter is missing."""


class BadParameter(InvalidInput):
    """A parameter has a value that cannot be read or is out of range."""


class MalformedBody(InvalidInput):
    """The request body cannot be read."""


class InvalidNumber(InvalidInput):
    """The recipient is not a valid phone number."""


class EmptyText(InvalidInput):
    """The message text is empty."""


class TextTooLong(InvalidInput):
    """The message text is too long."""


class SendTimeInPast(InvalidInput):
    """The requested send time is in the past."""


class InvalidSender(InvalidInput):
    """The `from` number is not a two-way number of this account."""


class InvalidDevice(InvalidInput):
    """A named device does not exist in this account or cannot send."""


class Unpriced(InvalidInput):
    """The price list has no price for this destination, so it cannot be sent."""


class NotEnoughMoney(GatewayError):
    """The account's balance cannot pay for this."""


class TooManyRequests(GatewayError):
    """Too many requests of this kind; wait and try again."""


class Unauthorized(GatewayError):
    """Missing or wrong credentials."""


class Forbidden(GatewayError):
    """These credentials may not do this."""


class SenderNotAllowed(Forbidden):
    """This sender name is not one the account may send from."""


class NotFound(GatewayError):
    """No such object in this account."""


class Conflict(GatewayError):
    """The object is not in a state that allows this."""


class IllegalMove(Conflict):
    """This status change is not allowed."""


class TooManyAttempts(GatewayError):
    """Too many failed attempts; wait and try again."""


class Unavailable(GatewayError):
    """The gateway is temporarily unable to do this; try again."""
