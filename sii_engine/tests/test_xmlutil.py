"""The safe parser and the ISO-8859-1 text folding."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from sii_engine import xmlutil
from sii_engine.errors import XmlInputError

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<DTE><RznSoc>&xxe;</RznSoc></DTE>"""

PADDING = b"<!--" + b"x" * 10000 + b"-->"


def hostile_inputs():
    yield pytest.param(LAUGHS, id="billion-laughs")
    yield pytest.param(XXE, id="external-entity")
    yield pytest.param(XXE.replace(b"?>", b"?>" + PADDING, 1), id="external-entity-after-10k-comment")
    yield pytest.param(
        XXE.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"),
        id="external-entity-in-utf-16",
    )
    yield pytest.param(
        b'<?xml version="1.0"?>' + PADDING + b'<!DOCTYPE foo SYSTEM "file:///etc/passwd"><foo/>', id="external-dtd"
    )
    yield pytest.param(
        b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><foo/>',
        id="parameter-entity",
    )
    yield pytest.param(b'<!DOCTYPE foo [<!ENTITY a "b">]><foo>&a;</foo>', id="internal-entity")
    yield pytest.param(b"<!DOCTYPE html><html/>", id="bare-doctype")


@pytest.mark.parametrize("data", list(hostile_inputs()))
def test_doctype_and_entities_are_refused(data):
    with pytest.raises(XmlInputError) as info:
        xmlutil.parse(data)
    message = str(info.value)
    assert "DOCTYPE" in message
    assert "root:" not in message  # nothing of /etc/passwd leaks


def test_oversize_input_is_refused():
    with pytest.raises(XmlInputError) as info:
        xmlutil.parse(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
    assert "50" in str(info.value)
    assert xmlutil.parse(b"<a>" + b"x" * 40 + b"</a>", max_bytes=50).text == "x" * 40
    # The default limit is checked before any parsing.
    with pytest.raises(XmlInputError):
        xmlutil.parse(b"<a>" + b" " * xmlutil.MAX_INPUT_BYTES + b"</a>")


@pytest.mark.parametrize("data", [b"", b"<a>", b"<a></b>", b"not xml", b"<a>\x00</a>"])
def test_malformed_input(data):
    with pytest.raises(XmlInputError):
        xmlutil.parse(data)


@pytest.mark.parametrize(
    "data",
    [
        b"<a>\xd1and\xfa Pe\xf1alol\xe9n</a>",
        b'<?xml version="1.0"?>\n<a>\xd1and\xfa Pe\xf1alol\xe9n</a>',
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<a>\xd1and\xfa Pe\xf1alol\xe9n</a>',
        "<a>Ñandú Peñalolén</a>".encode(),
        '<?xml version="1.0" encoding="UTF-8"?><a>Ñandú Peñalolén</a>'.encode(),
        "<a>Ñandú Peñalolén</a>",
    ],
)
def test_reads_iso_8859_1_without_declaration_and_utf_8(data):
    assert xmlutil.parse(data).text == "Ñandú Peñalolén"


def test_latin1_without_declaration_keeps_namespaces_and_structure():
    root = xmlutil.parse(b'<DTE xmlns="http://www.sii.cl/SiiDte"><RznSoc>Compa\xf1\xeda</RznSoc></DTE>')
    assert root.tag == f"{{{xmlutil.SII_NS}}}DTE"
    assert xmlutil.findtext(root, "RznSoc") == "Compañía"


def test_entities_are_never_resolved_by_the_parser_settings():
    parser = xmlutil._parser()
    root = etree.fromstring(XXE, parser)
    assert "root:" not in (etree.tostring(root).decode())


# --- clean_text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Peñalolén Ñuñoa", "Peñalolén Ñuñoa"),
        ("emoji 😀 here", "emoji ? here"),
        ("漢字", "??"),
        ("100 €", "100 EUR"),
        ("“quoted” ‘single’", "\"quoted\" 'single'"),
        ("a – b — c…", "a - b - c..."),
        ("ﬁne", "fine"),
        ("Ωmega Łódź", "?mega ?ódz"),
        ("  many \t\n spaces\r\n ", "many spaces"),
        ("ctrl\x00\x07\x1b\x85chars", "ctrl chars"),
        ("<b> & </b>", "<b> & </b>"),
        (None, ""),
        (12345, "12345"),
    ],
)
def test_clean_text(value, expected):
    assert xmlutil.clean_text(value) == expected


def test_clean_text_truncates_after_folding():
    assert xmlutil.clean_text("€€€€", 5) == "EUREU"
    assert xmlutil.clean_text("abc def", 4) == "abc"
    assert xmlutil.clean_text("Ñ" * 50, 40) == "Ñ" * 40


@given(st.text(), st.one_of(st.none(), st.integers(min_value=1, max_value=200)))
def test_clean_text_always_gives_single_line_iso_8859_1(value, length):
    result = xmlutil.clean_text(value, length)
    result.encode("ISO-8859-1")  # never raises
    assert not any(ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F for char in result)
    assert result == result.strip()
    assert "  " not in result
    if length is not None:
        assert len(result) <= length
    # Always storable in an XML text node and back.
    element = etree.Element("a")
    element.text = result
    assert etree.fromstring(etree.tostring(element, encoding="ISO-8859-1")).text in (result, None)


# --- serialization helpers ----------------------------------------------------------


def test_flatten_drops_namespaces_and_inter_tag_whitespace():
    root = etree.fromstring(
        '<DD xmlns="http://www.sii.cl/SiiDte">\n  <RE>1-9</RE>\n  <RSR>Ñandú &amp; Cía  Ltda</RSR>\n'
        '  <CAF version="1.0">\n    <DA><M>a b</M></DA>\n  </CAF>\n</DD>'
    )
    assert xmlutil.flatten(root) == (
        b'<DD><RE>1-9</RE><RSR>\xd1and\xfa &amp; C\xeda  Ltda</RSR><CAF version="1.0"><DA><M>a b</M></DA></CAF></DD>'
    )
    # The original is untouched.
    assert root.tag == f"{{{xmlutil.SII_NS}}}DD"


def test_find_and_findtext_ignore_namespaces():
    root = etree.fromstring(
        '<DTE xmlns="http://www.sii.cl/SiiDte"><Documento><Encabezado><IdDoc><Folio>7</Folio>'
        "</IdDoc></Encabezado></Documento></DTE>"
    )
    assert xmlutil.findtext(root, "Documento/Encabezado/IdDoc/Folio") == "7"
    assert xmlutil.find(root, "Documento/Nada/Folio") is None
    assert xmlutil.findtext(root, "Documento/Nada", "default") == "default"
    plain = etree.fromstring("<DTE><Documento><Folio>8</Folio></Documento></DTE>")
    assert xmlutil.findtext(plain, "Documento/Folio") == "8"


def test_to_bytes_and_strip_declaration():
    element = etree.Element(f"{{{xmlutil.SII_NS}}}RznSoc", nsmap={None: xmlutil.SII_NS})
    element.text = "Compañía & <Cía>"
    body = xmlutil.to_bytes(element)
    assert body == b'<RznSoc xmlns="http://www.sii.cl/SiiDte">Compa\xf1\xeda &amp; &lt;C\xeda&gt;</RznSoc>'
    full = xmlutil.to_bytes(element, declaration=True)
    assert full.startswith(xmlutil.XML_DECLARATION)
    assert xmlutil.strip_declaration(full) == body
    assert xmlutil.strip_declaration(b"  " + body) == body
    assert xmlutil.parse(full).text == "Compañía & <Cía>"
