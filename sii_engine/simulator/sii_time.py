"""The SII states its times in Chile's local time (America/Santiago), whatever the caller's clock: so does
the simulator, so that a machine running in UTC does not put the SII's reception hours off."""

import datetime

import pytz

CHILE = pytz.timezone("America/Santiago")


def local(timestamp):
    """The naive Chilean local time of a POSIX timestamp, as the SII writes it."""
    return datetime.datetime.fromtimestamp(timestamp, CHILE).replace(tzinfo=None)


def timestamp(moment):
    """The POSIX timestamp of ``moment``; a naive one is Chilean local time, as the SII's are."""
    return (CHILE.localize(moment) if moment.tzinfo is None else moment).timestamp()
