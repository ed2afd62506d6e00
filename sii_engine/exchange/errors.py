"""Typed errors of the exchange documents (stable ``code``, ``params``; see :mod:`sii_engine.errors`)."""

from ..errors import SiiEngineError, XmlInputError


class ExchangeBuildError(SiiEngineError):
    """What was given cannot make a valid answer or receipt (nothing was signed)."""

    code = "exchange_invalid"
    template = "The {document} cannot be built: {reason}"


class ExchangeFormatError(XmlInputError):
    """A received answer or receipt lacks what it must hold, or holds it unreadable."""

    code = "exchange_unreadable"
    template = "The received {document} cannot be read: {reason}"


class NotExchangeDocumentError(XmlInputError):
    """The file's root element is not the one expected."""

    code = "exchange_wrong_root"
    template = "The file is a <{root}>, not a <{expected}>"
