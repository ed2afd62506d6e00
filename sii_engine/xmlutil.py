"""XML plumbing shared by the engine: a safe parser and SII-safe text.

The SII works in ISO-8859-1. Text coming from users can hold anything, so it is
folded to what ISO-8859-1 can carry before it reaches a document: accents keep
their letter, other characters become their closest ASCII or ``?`` — never an
exception, never an invalid byte.

Files that arrive from outside are read by :func:`read_bounded`, which stops at a
size cap instead of reading everything and checking afterwards.
"""

import os
import re
import stat
import threading
import unicodedata
import weakref

from lxml import etree

from .errors import InputFileError, XmlInputError

SII_NS = "http://www.sii.cl/SiiDte"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ENCODING = "ISO-8859-1"
XML_DECLARATION = b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'

# A DTE envelope of 2000 documents stays well below this; anything larger is
# not something the SII would take either.
MAX_INPUT_BYTES = 50 * 1024 * 1024

_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
# Characters whose NFKD decomposition does not lead to ISO-8859-1.
_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u20ac": "EUR",
}


_READ_CHUNK = 1024 * 1024


def read_bounded(path, max_bytes=MAX_INPUT_BYTES, what="file"):
    """The bytes of the file at ``path``, refused once it holds more than ``max_bytes``.

    A regular file is measured before a byte is read; anything else (a pipe, a
    device such as /dev/zero) is read in chunks and abandoned as soon as it passes
    the cap, so neither a 3 GB file nor an endless stream is ever held in memory.
    Raises :class:`~.errors.InputFileError` naming the file.
    """
    try:
        with open(path, "rb") as file:
            status = os.fstat(file.fileno())
            if stat.S_ISDIR(status.st_mode):
                raise InputFileError(path=str(path), what=what, reason="it is a directory")
            if stat.S_ISREG(status.st_mode) and status.st_size > max_bytes:
                raise InputFileError(path=str(path), what=what, reason=_too_large(status.st_size, max_bytes))
            chunks, size = [], 0
            while True:
                chunk = file.read(min(_READ_CHUNK, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise InputFileError(path=str(path), what=what, reason=_too_large(None, max_bytes))
    except IsADirectoryError:
        raise InputFileError(path=str(path), what=what, reason="it is a directory") from None
    except OSError as error:
        raise InputFileError(path=str(path), what=what, reason=error.strerror or str(error)) from None
    return b"".join(chunks)


def _too_large(size, max_bytes):
    known = f"{size:,} bytes" if size is not None else "more"
    return f"it holds {known}; at most {max_bytes:,} bytes are accepted"


def _parser():
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_blank_text=False,
        load_dtd=False,
    )


def parse(data, *, max_bytes=MAX_INPUT_BYTES):
    """Parse untrusted XML bytes: no entities, no network, bounded size.

    Real SII files often declare no encoding yet hold ISO-8859-1 bytes; when a
    strict parse fails on the encoding, the bytes are read as ISO-8859-1.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data:
        raise XmlInputError(reason="the file is empty")
    if len(data) > max_bytes:
        raise XmlInputError(reason=f"it is larger than {max_bytes} bytes")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        raise XmlInputError(reason=_DOCTYPE_REFUSED)
    try:
        return _refuse_doctype(etree.fromstring(data, _parser()))
    except etree.XMLSyntaxError as error:
        if "encoding" not in str(error).lower() and "utf-8" not in str(error).lower():
            raise XmlInputError(reason=str(error)) from None
    try:
        return _refuse_doctype(etree.fromstring(_declare_latin1(data), _parser()))
    except etree.XMLSyntaxError as error:
        raise XmlInputError(reason=str(error)) from None


_DOCTYPE_REFUSED = "documents with a DOCTYPE or entities are refused"


def _refuse_doctype(root):
    """The byte check above misses a DOCTYPE after 4 KiB of comments or in UTF-16: ask the parser."""
    if root.getroottree().docinfo.doctype:
        raise XmlInputError(reason=_DOCTYPE_REFUSED)
    return root


def _declare_latin1(data):
    if data.startswith(b"<?xml"):
        end = data.index(b"?>") + 2
        return XML_DECLARATION.strip() + data[end:]
    return XML_DECLARATION + data


def clean_text(value, max_length=None):
    """Fold ``value`` to a single-line ISO-8859-1 string of at most ``max_length``."""
    if value is None:
        return ""
    text = str(value)
    if not _is_clean_line(text):
        text = _CONTROL_CHARS.sub(" ", text)
        text = _SPACES.sub(" ", text).strip()
    if not _is_latin1(text):
        # Composed first: "e" + U+0301 (combining acute, as macOS and some keyboards
        # write it) is "é", which ISO-8859-1 has; folded one character at a time the
        # accent alone would become "?".
        text = unicodedata.normalize("NFC", text)
    if not _is_latin1(text):
        # Character by character only when something needs folding: nearly all text
        # is Latin-1 already, and this loop was the costliest step of building a DTE.
        text = "".join(_to_latin1(char) for char in text)
    if max_length is not None:
        text = text[:max_length].rstrip()
    return text


def _is_clean_line(text):
    """True when the two substitutions of :func:`clean_text` would leave ``text`` as is.

    Most text already is a clean line; these string methods (in C) tell so several
    times faster than running the regular expressions. A printable string holds no
    control character and no whitespace but the ASCII space (every other character
    ``\\s`` or ``str.strip`` treat as whitespace is a control or separator), so it is
    clean unless it has two spaces in a row or a space at either end.
    """
    return text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "


def _is_latin1(text):
    """True when every character of ``text`` is below 256 (what ``_to_latin1`` keeps as is)."""
    if text.isascii():
        return True
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _to_latin1(char):
    if ord(char) < 256:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    folded = "".join(c for c in decomposed if ord(c) < 256 and not unicodedata.combining(c))
    return folded or "?"


def sub(parent, tag, text=None):
    """Append ``<tag>text</tag>`` in the SII namespace and return it."""
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def to_bytes(element, declaration=False):
    """Serialize as ISO-8859-1 bytes, optionally with the XML declaration."""
    body = etree.tostring(element, encoding=ENCODING, xml_declaration=False)
    return XML_DECLARATION + body if declaration else body


def strip_declaration(data):
    data = data.lstrip()
    if data.startswith(b"<?xml"):
        data = data[data.index(b"?>") + 2:].lstrip()
    return data


def flatten(element):
    """Serialize ``element`` without namespaces nor whitespace between tags.

    That is the form the TED's FRMT and the CAF's FRMA are computed over.
    """
    copy = etree.fromstring(etree.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str):
            node.tag = etree.QName(node).localname
        if node.tail is not None and not node.tail.strip():
            node.tail = None
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
    etree.cleanup_namespaces(copy)
    return etree.tostring(copy, encoding=ENCODING, xml_declaration=False)


def local(tag):
    """The local name of a tag (``{namespace}name`` or ``name``).

    String work rather than ``etree.QName``: the verifier asks this of every element
    of an envelope several times, and QName took ten times as long.
    """
    if not isinstance(tag, str):
        return etree.QName(tag).localname
    return tag.rpartition("}")[2]


def children(element, name):
    """The child elements of ``element`` whose local name is ``name`` (comments and PIs skipped)."""
    return [child for child in element if isinstance(child.tag, str) and local(child.tag) == name]


def find(element, path):
    """Find by local names ("Encabezado/IdDoc/Folio") whatever the namespace."""
    for name in path.split("/"):
        if element is None:
            return None
        found = None
        for child in element:
            tag = child.tag
            if isinstance(tag, str) and tag.rpartition("}")[2] == name:
                found = child
                break
        element = found
    return element


def findtext(element, path, default=None):
    found = find(element, path)
    if found is None or found.text is None:
        return default
    return found.text


class PerObjectCache:
    """``cache.get(obj)``: ``compute(obj)`` made once per object and reused while it lives.

    Holds the XML the engine prepares once per CAF or certificate rather than per
    document. Keyed by identity, not equality: two equal Cafs may hold differently
    formatted ``<CAF>`` elements, and hashing a Certificate encodes it in DER each
    time. An entry goes when its object does (a weak reference's callback, run
    when the object is freed, before its id can be reused).
    """

    def __init__(self, compute):
        self._compute = compute
        self._entries = {}
        self._lock = threading.Lock()

    def get(self, obj):
        key = id(obj)
        entry = self._entries.get(key)
        if entry is not None and entry[0]() is obj:
            return entry[1]
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0]() is obj:
                return entry[1]
            value = self._compute(obj)
            reference = weakref.ref(obj, lambda _reference: self._entries.pop(key, None))
            self._entries[key] = (reference, value)
            return value
