"""The printed stamp as a barcode: decoded by an ordinary reader (zxing-cpp)
back to exactly the TED bytes, which still verify."""

import datetime
import io

import pdf417gen
import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pdf417gen.compaction.byte import compact_bytes as reference_compact_bytes
from pdf417gen.error_correction import compute_error_correction_code_words as reference_error_correction
from PIL import Image, ImageDraw

from sii_engine import barcode, caf, identities, ted
from sii_engine.errors import DocumentError

RECEIVER_NAME = "Servicio de Impuestos Internos ÑANDÚ"
FIRST_ITEM = "Item con ñ"


@pytest.fixture(scope="module")
def authority():
    return identities.TestAuthority()


@pytest.fixture(scope="module")
def ted_text(authority):
    stamp_caf = caf.load_caf(authority.issue_caf("76192083-9", "SASCO SpA", 33, 1, 100), authority.trusted_keys())
    element = ted.build_ted(
        stamp_caf,
        "76192083-9",
        ted.StampData(33, 5, datetime.date(2026, 1, 2), "60803000-K", RECEIVER_NAME, 119000, FIRST_ITEM),
        datetime.datetime(2026, 1, 2, 10, 0, 0),
    )
    text = ted.ted_barcode_text(element)
    assert isinstance(text, bytes) and "ÑANDÚ".encode("iso-8859-1") in text  # the test needs non-ASCII
    return text


@pytest.fixture(scope="module")
def pdf417_png(ted_text):
    return barcode.ted_pdf417_png(ted_text)


def _image(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _read(image, barcode_format):
    results = zxingcpp.read_barcodes(image, formats=barcode_format)
    assert len(results) <= 1
    return results[0] if results else None


def _parse_ted(decoded):
    # The printed TED carries no XML declaration and is ISO-8859-1: lxml's
    # default (UTF-8) rejects its Ñ, so the encoding is given to the parser.
    return etree.fromstring(decoded, etree.XMLParser(encoding="iso-8859-1"))


def _columns(image, scale=barcode.DEFAULT_SCALE, quiet_zone=barcode.DEFAULT_QUIET_ZONE):
    """Data columns of a rendered symbol, from its width in modules."""
    modules, remainder = divmod(image.width, scale)
    assert remainder == 0
    columns, remainder = divmod(modules - 2 * quiet_zone - 69, 17)
    assert remainder == 0
    return columns


# --- PDF417 -------------------------------------------------------------------


def test_pdf417_decodes_to_exactly_the_ted_bytes(pdf417_png, ted_text):
    result = _read(_image(pdf417_png), zxingcpp.BarcodeFormat.PDF417)
    assert result is not None, "zxing-cpp found no PDF417 in the image"
    assert result.format == zxingcpp.BarcodeFormat.PDF417
    assert result.bytes == ted_text


def test_pdf417_text_is_latin1_and_the_decoded_ted_verifies(pdf417_png, ted_text, authority):
    result = _read(_image(pdf417_png), zxingcpp.BarcodeFormat.PDF417)
    # A reader interprets the bytes as ISO-8859-1 (PDF417's default): Ñ and Ú
    # come back as themselves, and re-encoding gives the TED bytes again.
    assert RECEIVER_NAME in result.text
    decoded = result.text.encode("iso-8859-1")
    assert decoded == ted_text
    stamp = ted.verify_ted(_parse_ted(decoded), authority.trusted_keys())
    assert stamp.issuer_rut == "76192083-9"
    assert stamp.data.receiver_name == RECEIVER_NAME
    assert stamp.data.first_item == FIRST_ITEM
    assert (stamp.data.document_type, stamp.data.folio, stamp.data.total) == (33, 5, 119000)


def test_pdf417_image_is_a_wide_one_bit_symbol_within_the_sii_print_sizes(pdf417_png):
    image = _image(pdf417_png)
    assert image.format == "PNG" and image.mode == "1"
    assert image.width > 2.5 * image.height, image.size  # a PDF417 of a TED is wide
    assert 800 <= image.width <= 1500 and 250 <= image.height <= 600, image.size
    assert len(pdf417_png) < 30_000  # manual_upload: the whole PDF under 500 KB, ideally ~100 KB
    columns = _columns(image)
    assert 16 <= columns <= 20
    scale, quiet = barcode.DEFAULT_SCALE, barcode.DEFAULT_QUIET_ZONE
    rows, remainder = divmod(image.height // scale - 2 * quiet, barcode.DEFAULT_RATIO)
    assert remainder == 0 and 3 <= rows <= 90
    # Printed 8.5 cm wide, the symbol fits manual_upload's 2x5..4x9 cm (and the
    # 3 cm recommended height) with an X-dimension of at least 6.7 mils.
    module_mm = 85 / (image.width / scale)
    height_mm = image.height / scale * module_mm
    assert 20 <= height_mm <= 30, height_mm
    assert module_mm >= 0.17, module_mm
    # A white quiet zone of 2 modules on all four sides: the start pattern's
    # first bar and the stop pattern's last bar sit right inside it.
    margin = quiet * scale
    box = image.getbbox()  # the bounding box of the non-zero (white) pixels
    dark = Image.eval(image.convert("L"), lambda value: 255 - value).getbbox()  # of the black ones
    assert box == (0, 0, image.width, image.height)
    assert dark == (margin, margin, image.width - margin, image.height - margin)


def test_pdf417_withstands_damage_that_a_lower_error_correction_level_does_not(pdf417_png, ted_text):
    """Level 5 has 64 error correction codewords: whiting out 40 data
    codewords still decodes, whereas the same damage on a level-4 symbol of
    the same geometry (32 codewords, made by pdf417gen) does not."""
    scale, quiet = barcode.DEFAULT_SCALE, barcode.DEFAULT_QUIET_ZONE
    ours = _image(pdf417_png)
    columns = _columns(ours)
    level4 = pdf417gen.render_image(
        pdf417gen.encode(ted_text, columns=columns, security_level=4, encoding="iso-8859-1"),
        scale=scale,
        ratio=barcode.DEFAULT_RATIO,
        padding=quiet * scale,
    )
    assert _read(level4, zxingcpp.BarcodeFormat.PDF417).bytes == ted_text  # the control decodes undamaged

    def damaged(image):
        image = image.convert("L")
        x = (quiet + 17 + 17 + 17 * 3) * scale  # after the start pattern, the row indicator and 3 columns
        y = quiet * scale + 10 * barcode.DEFAULT_RATIO * scale  # from row 10
        ImageDraw.Draw(image).rectangle(
            [x, y, x + 17 * 4 * scale - 1, y + 10 * barcode.DEFAULT_RATIO * scale - 1], fill=255
        )  # 4 columns x 10 rows = 40 codewords
        return image

    assert _read(damaged(level4), zxingcpp.BarcodeFormat.PDF417) is None
    result = _read(damaged(ours), zxingcpp.BarcodeFormat.PDF417)
    assert result is not None and result.bytes == ted_text


def test_pdf417_is_deterministic_and_takes_a_str_as_latin1(pdf417_png, ted_text):
    assert barcode.ted_pdf417_png(ted_text) == pdf417_png
    assert barcode.ted_pdf417_png(bytearray(ted_text)) == pdf417_png
    assert barcode.ted_pdf417_png(ted_text.decode("iso-8859-1")) == pdf417_png


def test_pdf417_scale_ratio_columns_and_quiet_zone(ted_text):
    image = _image(barcode.ted_pdf417_png(ted_text, scale=2, ratio=4, columns=10, quiet_zone=4))
    assert image.width == (69 + 17 * 10 + 2 * 4) * 2
    rows, remainder = divmod(image.height // 2 - 2 * 4, 4)
    assert remainder == 0 and 60 <= rows <= 90
    assert _read(image, zxingcpp.BarcodeFormat.PDF417).bytes == ted_text


@pytest.mark.parametrize(
    "kwargs", [{"scale": 0}, {"ratio": 0}, {"quiet_zone": -1}, {"scale": 1.5}, {"columns": 0}, {"columns": 31}]
)
def test_pdf417_rejects_bad_parameters(ted_text, kwargs):
    with pytest.raises(ValueError):
        barcode.ted_pdf417_png(ted_text, **kwargs)


def test_pdf417_too_few_columns_for_the_data_is_a_document_error(ted_text):
    with pytest.raises(DocumentError, match="rows"):
        barcode.ted_pdf417_png(ted_text, columns=2)  # 774 codewords in 2 columns: > 90 rows


@pytest.mark.parametrize("function", [barcode.ted_pdf417_png, barcode.ted_qr_png])
@pytest.mark.parametrize("empty", [b"", "", b"  \n", bytearray()])
def test_empty_input_is_a_document_error(function, empty):
    with pytest.raises(DocumentError, match="empty") as raised:
        function(empty)
    assert raised.value.code == "document_invalid"


@pytest.mark.parametrize("function", [barcode.ted_pdf417_png, barcode.ted_qr_png])
def test_text_outside_latin1_is_a_document_error(function):
    with pytest.raises(DocumentError, match="ISO-8859-1"):
        function("<TED>precio 10 €</TED>")


@pytest.mark.parametrize("function", [barcode.ted_pdf417_png, barcode.ted_qr_png])
def test_non_bytes_input_is_a_type_error(function):
    with pytest.raises(TypeError):
        function(12345)


def test_the_largest_pdf417_decodes_and_one_byte_more_is_a_document_error():
    largest = bytes(range(256)) * 4 + b"<TED>" * 17 + b"x"  # 1,110 bytes, not a multiple of 6
    largest = largest[: barcode.MAX_PDF417_BYTES]
    assert len(largest) == 1110
    result = _read(_image(barcode.ted_pdf417_png(largest)), zxingcpp.BarcodeFormat.PDF417)
    assert result is not None and result.bytes == largest
    with pytest.raises(DocumentError, match="1112 bytes") as raised:
        barcode.ted_pdf417_png(b"x" * 1112)
    assert "1110" in str(raised.value)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=barcode.MAX_PDF417_BYTES).filter(lambda data: data.strip()))
def test_pdf417_any_bytes_round_trip(data):
    result = _read(_image(barcode.ted_pdf417_png(data)), zxingcpp.BarcodeFormat.PDF417)
    assert result is not None and result.bytes == data


# --- the fast encoder against pdf417gen's reference ---------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=1200))
def test_byte_compaction_matches_pdf417gen(data):
    words = barcode._byte_compaction(data)
    assert words[0] == (924 if len(data) % 6 == 0 else 901)
    assert words[1:] == list(reference_compact_bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 928), min_size=1, max_size=928), st.integers(0, 8))
def test_error_correction_matches_pdf417gen(words, level):
    assert barcode._error_correction(words, level) == reference_error_correction(words, level)


# --- QR -----------------------------------------------------------------------


@pytest.mark.parametrize("level", ["M", "Q"])
def test_qr_decodes_to_the_ted_which_verifies(ted_text, authority, level):
    image = _image(barcode.ted_qr_png(ted_text, error_correction=level))
    assert image.mode == "1" and image.width == image.height
    result = _read(image, zxingcpp.BarcodeFormat.QRCode)
    assert result is not None, "zxing-cpp found no QR code in the image"
    assert result.bytes == ted_text
    assert result.ec_level == level
    decoded = result.text.encode("iso-8859-1")
    assert decoded == ted_text
    stamp = ted.verify_ted(_parse_ted(decoded), authority.trusted_keys())
    assert stamp.data.receiver_name == RECEIVER_NAME


def test_qr_scale_and_border(ted_text):
    small = _image(barcode.ted_qr_png(ted_text, scale=2, border=4))
    large = _image(barcode.ted_qr_png(ted_text, scale=5, border=4))
    assert small.width % 2 == 0 and large.width % 5 == 0
    assert small.width // 2 == large.width // 5  # the same modules, border included
    assert _read(small, zxingcpp.BarcodeFormat.QRCode).bytes == ted_text


def test_qr_too_large_is_a_document_error():
    with pytest.raises(DocumentError, match="QR"):
        barcode.ted_qr_png(b"\xd1" * 3000)


def test_qr_rejects_other_error_correction_levels(ted_text):
    with pytest.raises(ValueError):
        barcode.ted_qr_png(ted_text, error_correction="L")


# --- the receipt of an 80 mm thermal printer ---------------------------------------------------


def _printed_on_receipt(png, width):
    """The stamp as a receipt prints it: the image drawn within ``width`` dots, never enlarged
    (``max-width: 100%``), then rasterised to 1 bit as a thermal head does."""
    image = _image(png).convert("L")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.BILINEAR)
    return image.point(lambda value: 255 if value > 127 else 0)


@pytest.mark.parametrize("receipt_width", [barcode.RECEIPT_DOTS, 575, 545, 512])
def test_receipt_stamp_decodes_across_an_80_mm_receipt(ted_text, receipt_width):
    png = barcode.ted_pdf417_receipt_png(ted_text)
    image = _image(png)
    assert image.width <= barcode.RECEIPT_DOTS - 2 * barcode.RECEIPT_SCALE
    assert _columns(image, scale=barcode.RECEIPT_SCALE) == barcode.RECEIPT_MAX_COLUMNS == 12
    result = _read(_printed_on_receipt(png, receipt_width), zxingcpp.BarcodeFormat.PDF417)
    assert result is not None, f"the receipt stamp does not decode at {receipt_width} dots"
    assert result.bytes == ted_text


def test_receipt_stamp_falls_back_to_the_default_symbol_when_the_ted_needs_wider_rows():
    largest = bytes(range(256)) * 4 + b"x" * (barcode.MAX_PDF417_BYTES - 1024)
    assert barcode.ted_pdf417_receipt_png(largest) == barcode.ted_pdf417_png(largest)
