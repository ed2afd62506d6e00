"""The printed electronic stamp (Timbre Electrónico SII) as a barcode image.

The text encoded is the flattened ``<TED>...</TED>`` as ISO-8859-1 bytes (see
:func:`sii_engine.ted.ted_barcode_text`); the result is PNG bytes ready to be
base64-embedded in a QWeb report or printed on a POS receipt.

What the SII asks of the printed stamp, and how the defaults follow it:

* the SII's "Manual de muestras impresas" (manual_upload), §1 and §1.5 "TIMBRE
  ELECTRÓNICO": the stamp is a two-dimensional PDF417 barcode "impreso en un
  tamaño mínimo de 2 por 5 centímetros y de un tamaño máximo de 4 por 9
  centímetros", at the bottom of the document at least 2 cm from the left
  edge, with "un margen de espacio en blanco alrededor del timbre"; images are
  best embedded as PNG ("Raster Images"), which the SII reader recognizes
  fastest. formato_dte_201911.txt, section G, only says the TED "Corresponde a
  la información del Código de Barras Bidimensional PDF417" and defers to the
  Instructivo Técnico (instructivo_emision.pdf, not in the reference folder).
* The Instructivo Técnico, annex 2 §A.2.5 "Reglas para la generación e
  impresión del timbre PDF417" (quoted second-hand; the PDF is not in
  the SII reference set): error correction level 5; Byte Compaction
  Mode; X-dimension (narrowest bar) at least 6.7 mils (0.17 mm); row height
  (Y) three times X; no truncated PDF417; quiet zone of 0.25 in on all four
  sides; recommended printed size at most 3 cm high by 9 cm wide.

Hence:

* ``security_level=5`` (64 error correction codewords) and Byte Compaction
  Mode, so the ISO-8859-1 bytes (Ñ, Ú, ...) travel untouched.  That holds at
  most 1,110 bytes (``MAX_PDF417_BYTES``; a TED is ~700-900); longer text is a
  DocumentError.  (Mixed text/byte compaction would not help: the base64 of a
  TED alternates cases and digits, and pdf417gen's mixed mode packs the TED of
  the tests in 690 codewords against 692 in byte mode.)
* ``ratio=3``: each row is three modules high (Y = 3X).
* The column count is not fixed: it is chosen for the data so that the symbol
  (without quiet zone) is as close as possible to three times as wide as it is
  high (``TARGET_ASPECT``): 9 x 3 cm is the instructivo's recommended maximum
  and 6 x 2 cm meets manual_upload's minimum height.  For a TED of 600-1,000
  bytes that is 16-20 columns and an aspect of 2.84-3.16; the TED of the tests
  (829 bytes, 774 codewords) gets 18 columns x 43 rows = 375 x 129 modules.
  Printed 8.5 cm wide (the width to give the image in a report) such a stamp
  is 2.7-3.0 cm high, X = 0.22-0.25 mm (8.5-9.8 mils, above the 6.7 mil
  minimum, which is reached only below ~6.7 cm wide), well inside
  manual_upload's 2 x 5 to 4 x 9 cm.
* ``scale=3`` pixels per module: a 1-bit PNG of ~1,100 x 400 px and a few KB,
  i.e. ~320 dpi at 9 cm (the SII asks 300 dpi printers; manual_upload keeps a
  PDF under 500 KB, ideally ~100 KB).  Modules are whole pixels, so scaling the
  image in a report never blurs a bar into its neighbour at the source.
* ``quiet_zone=2`` modules of white inside the PNG (the ISO 15438 minimum, so
  the image decodes on its own); the 0.25 in margin the SII asks for around
  the stamp belongs to the report layout (CSS margin/padding), where it does
  not distort the image's proportions.
"""

import functools
import io
import math

# pdf417gen 0.8.1 exposes only ``encode(data, columns, security_level,
# encoding)``, which mixes text/numeric/byte compaction (it cannot force Byte
# Compaction Mode) and spends ~10 ms computing the 64 error correction
# codewords in pure Python.  This module does the high-level encoding itself
# and uses pdf417gen for the Reed-Solomon factors and the row patterns (start,
# row indicators, codeword bar/space tables, stop).
from pdf417gen.data import ERROR_CORRECTION_FACTORS
from pdf417gen.encoding import MAX_CODE_WORDS, MAX_ROWS, MIN_ROWS, PADDING_CODE_WORD, encode_rows
from PIL import Image

from .errors import DocumentError

SECURITY_LEVEL = 5
"""PDF417 error correction level the SII requires for the stamp."""

TARGET_ASPECT = 3.0
"""Symbol width / height the column count aims at (9 x 3 cm, 6 x 2 cm)."""

MAX_PDF417_BYTES = 1110
"""Bytes a level-5 PDF417 holds in Byte Compaction Mode: 928 codewords minus
the length descriptor and the latch leave 926, i.e. 185 groups of 6 bytes (and
one byte more when the length is not a multiple of 6)."""

DEFAULT_SCALE = 3
DEFAULT_RATIO = 3
DEFAULT_QUIET_ZONE = 2

_QR_MAX_BYTES = {"M": 2331, "Q": 1663}  # byte mode, version 40 (ISO/IEC 18004 table 7)

_MAX_COLUMNS = 30
_BYTE_LATCH = 901
_BYTE_LATCH_MULTIPLE_OF_6 = 924

# Modules of a row besides the data columns: start (17), left row indicator
# (17), right row indicator (17) and stop (18).
_ROW_OVERHEAD_MODULES = 69


def _ted_bytes(ted_text):
    if isinstance(ted_text, str):
        try:
            ted_text = ted_text.encode("iso-8859-1")
        except UnicodeEncodeError as error:
            raise DocumentError(
                reason=f"the TED text has a character ISO-8859-1 cannot represent ({error.object[error.start]!r})"
            ) from None
    elif isinstance(ted_text, (bytearray, memoryview)):
        ted_text = bytes(ted_text)
    elif not isinstance(ted_text, bytes):
        raise TypeError(f"the TED text must be bytes (ISO-8859-1), not {type(ted_text).__name__}")
    if not ted_text or not ted_text.strip():
        raise DocumentError(reason="the TED text is empty: there is no stamp to print as a barcode")
    return ted_text


def _byte_compaction(data):
    """Byte Compaction Mode (ISO/IEC 15438 §5.4.3): latch 924 when the length is
    a multiple of 6, else 901; each group of 6 bytes is a base-256 number
    written as 5 base-900 codewords; the bytes of a last, shorter group are one
    codeword each."""
    words = [_BYTE_LATCH_MULTIPLE_OF_6 if len(data) % 6 == 0 else _BYTE_LATCH]
    whole = len(data) - len(data) % 6
    for start in range(0, whole, 6):
        value = int.from_bytes(data[start : start + 6], "big")
        group = [0] * 5
        for index in range(4, -1, -1):
            value, group[index] = divmod(value, 900)
        words += group
    words += data[whole:]
    return words


_EC_FIELD_BITS = 32  # 928 codewords x 928 x 928 < 2**32: no carry between fields


@functools.cache
def _ec_impulse_responses(level):
    """Packed responses of the Reed-Solomon encoder to a single codeword 1.

    The encoder (pdf417gen's shift register over GF(929)) is linear, so the
    error correction of words w[0..n-1] is sum(w[i] * R[n-1-i]) mod 929, where
    R[m] is the register after a 1 followed by m zeros.  Each R[m] is packed
    into one integer, 32 bits per coefficient, so the sum is ~n big-integer
    multiply-adds instead of n x 64 modular operations per symbol.
    """
    factors = ERROR_CORRECTION_FACTORS[level]
    count = 2 ** (level + 1)
    register = [0] * count
    word = 1
    packed = []
    for _ in range(MAX_CODE_WORDS):
        temp = (word + register[-1]) % 929
        register = [((register[x - 1] if x else 0) - temp * factors[x]) % 929 for x in range(count)]
        packed.append(sum(value << (_EC_FIELD_BITS * x) for x, value in enumerate(register)))
        word = 0
    return packed


def _error_correction(words, level):
    """The 2**(level+1) error correction codewords of ``words`` (same result
    as pdf417gen.error_correction.compute_error_correction_code_words)."""
    responses = _ec_impulse_responses(level)
    last = len(words) - 1
    total = 0
    for index, word in enumerate(words):
        if word:
            total += word * responses[last - index]
    mask = (1 << _EC_FIELD_BITS) - 1
    count = 2 ** (level + 1)
    register = [(total >> (_EC_FIELD_BITS * x)) & mask for x in range(count)]
    return [-value % 929 for value in reversed(register)]


def _fits(data_words):
    # The length descriptor counts itself, the data and the padding (not the
    # error correction) and is at most 928; 928 + 64 codewords fit in 30 x 90.
    return 1 + len(data_words) <= MAX_CODE_WORDS


def _symbol_modules(columns, rows, ratio):
    return _ROW_OVERHEAD_MODULES + 17 * columns, rows * ratio


def _choose_columns(codeword_count, ec_count, ratio):
    best = None
    for columns in range(1, _MAX_COLUMNS + 1):
        rows = math.ceil(codeword_count / columns)
        if not MIN_ROWS <= rows <= MAX_ROWS or rows * columns - ec_count > MAX_CODE_WORDS:
            continue
        width, height = _symbol_modules(columns, rows, ratio)
        distance = abs(math.log(width / height / TARGET_ASPECT))
        if best is None or distance < best[0]:
            best = (distance, columns)
    return best[1] if best else None


def _codewords(data, columns, ratio):
    """Return (columns, the symbol's high-level codewords) for ``data``."""
    ec_count = 2 ** (SECURITY_LEVEL + 1)
    data_words = _byte_compaction(data)
    if not _fits(data_words):
        raise DocumentError(
            reason=(
                f"the TED text is {len(data)} bytes, more than the {MAX_PDF417_BYTES} a PDF417 symbol holds "
                f"in byte compaction with error correction level {SECURITY_LEVEL}: a TED is about 700-900 "
                "bytes, check what was stamped"
            )
        )
    if columns is None:
        columns = _choose_columns(1 + len(data_words) + ec_count, ec_count, ratio)
        if columns is None:
            raise DocumentError(reason=f"the TED text ({len(data)} bytes) fits no PDF417 symbol of 1 to 30 columns")
    elif not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= _MAX_COLUMNS:
        raise ValueError(f"a PDF417 symbol has 1 to {_MAX_COLUMNS} data columns, not {columns!r}")
    remainder = (1 + len(data_words) + ec_count) % columns
    padding = [PADDING_CODE_WORD] * (columns - remainder) if remainder else []
    length_descriptor = 1 + len(data_words) + len(padding)
    rows = (length_descriptor + ec_count) // columns
    if length_descriptor > MAX_CODE_WORDS or not MIN_ROWS <= rows <= MAX_ROWS:
        raise DocumentError(
            reason=(
                f"the TED text ({len(data)} bytes) needs {rows} rows of {columns} columns, "
                f"outside PDF417's {MIN_ROWS}-{MAX_ROWS} rows: use more or fewer columns"
            )
        )
    words = [length_descriptor, *data_words, *padding]
    words += _error_correction(words, SECURITY_LEVEL)
    return columns, words


def _check_render_parameters(scale, ratio, quiet_zone):
    for name, value, minimum in (("scale", scale, 1), ("ratio", ratio, 1), ("quiet_zone", quiet_zone, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")


def _matrix_image(matrix, scale_x, scale_y):
    """A 1-bit image of ``matrix`` (rows of booleans, True = black module)."""
    width = len(matrix[0])
    row_bytes = (width + 7) // 8
    raster = bytearray()
    for row in matrix:
        bits = 0
        for dark in row:
            bits = (bits << 1) | bool(dark)
        raster += (bits << (row_bytes * 8 - width)).to_bytes(row_bytes, "big")
    image = Image.frombytes("1", (width, len(matrix)), bytes(raster), "raw", "1;I")  # "1;I": a set bit is black
    return image.resize((width * scale_x, len(matrix) * scale_y), Image.Resampling.NEAREST)


def _png(image):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ted_pdf417_png(ted_text, *, scale=DEFAULT_SCALE, ratio=DEFAULT_RATIO, columns=None, quiet_zone=DEFAULT_QUIET_ZONE):
    """Return the stamp ``ted_text`` as a PDF417 barcode, PNG bytes (1-bit).

    ``ted_text`` is the flattened TED as ISO-8859-1 bytes (a ``str`` is encoded
    to ISO-8859-1).  ``scale`` is the pixels per module (X-dimension), ``ratio``
    the row height in modules (Y/X), ``columns`` the data columns (``None``:
    chosen so the symbol is about 3:1, see the module docstring) and
    ``quiet_zone`` the white border in modules.  Error correction is level 5
    and the data is in Byte Compaction Mode, as the SII requires.

    Raises :class:`DocumentError` when the text is empty or does not fit in a
    PDF417 symbol.
    """
    data = _ted_bytes(ted_text)
    _check_render_parameters(scale, ratio, quiet_zone)
    columns, words = _codewords(data, columns, ratio)
    rows = [words[start : start + columns] for start in range(0, len(words), columns)]

    width, _ = _symbol_modules(columns, len(rows), 1)
    full_width = width + 2 * quiet_zone
    row_bytes = (full_width + 7) // 8
    raster = bytearray()
    for row in encode_rows(rows, columns, SECURITY_LEVEL):
        bits = 0
        for codeword in row:  # 17-module patterns (the stop pattern 18), each starting with a bar
            bits = (bits << codeword.bit_length()) | codeword
        bits <<= row_bytes * 8 - quiet_zone - width  # the left quiet zone is the leading zero bits
        raster += bits.to_bytes(row_bytes, "big")
    # "1;I": a set bit is black.  One pixel per module and row, then NEAREST
    # scaling to whole pixels per module; the quiet zone is ratio rows high.
    symbol = Image.frombytes("1", (full_width, len(rows)), bytes(raster), "raw", "1;I")
    symbol = symbol.resize((full_width * scale, len(rows) * ratio * scale), Image.Resampling.NEAREST)
    margin = quiet_zone * scale
    image = Image.new("1", (symbol.width, symbol.height + 2 * margin), 1)
    image.paste(symbol, (0, margin))
    return _png(image)


RECEIPT_DOTS = 576
"""Printable width of an 80 mm thermal receipt printer: 72 mm at 203 dpi."""

RECEIPT_SCALE = 2
"""Dots per module on a receipt: one dot (0.125 mm) is under the SII's 0.17 mm minimum X, and a
symbol drawn at a fractional number of dots per module does not decode (seen: 1.5)."""

RECEIPT_MAX_COLUMNS = (RECEIPT_DOTS // RECEIPT_SCALE - _ROW_OVERHEAD_MODULES - 2 * DEFAULT_QUIET_ZONE) // 17


def ted_pdf417_receipt_png(ted_text):
    """The stamp for a receipt of an 80 mm thermal printer (576 dots), PNG bytes.

    As :func:`ted_pdf417_png`, but narrow enough to be drawn at whole dots per module across the
    receipt: at most ``RECEIPT_MAX_COLUMNS`` data columns (12) at ``RECEIPT_SCALE`` pixels per
    module, so the image (≤ 558 px with its quiet zone) is printed at its own size, never stretched
    or squeezed by a fraction.  A TED too long for that many columns and 90 rows falls back to the
    default layout (the widest TED of a boleta is far shorter).
    """
    data = _ted_bytes(ted_text)
    try:
        # As wide as the receipt allows: the fewest rows, the shortest stamp.
        return ted_pdf417_png(data, scale=RECEIPT_SCALE, columns=RECEIPT_MAX_COLUMNS)
    except DocumentError:
        return ted_pdf417_png(data)


def ted_qr_png(ted_text, *, scale=4, border=4, error_correction="M"):
    """Return the stamp ``ted_text`` as a QR code, PNG bytes (1-bit).

    Some companies print the stamp as a QR code instead of (or besides) the
    PDF417 the SII specifies.  The data goes in Byte mode, exactly the
    ISO-8859-1 bytes (QR's default interpretation); ``error_correction`` is
    ``"M"`` (15%, the smaller symbol: a TED needs version ~23) or ``"Q"``
    (25%).  ``scale`` is pixels per module, ``border`` the quiet zone in modules
    (4 is the QR minimum).
    """
    import qrcode
    from qrcode.exceptions import DataOverflowError
    from qrcode.util import MODE_8BIT_BYTE, QRData

    levels = {"M": qrcode.constants.ERROR_CORRECT_M, "Q": qrcode.constants.ERROR_CORRECT_Q}
    if error_correction not in levels:
        raise ValueError(f"error_correction must be 'M' or 'Q', not {error_correction!r}")
    _check_render_parameters(scale, 1, border)
    data = _ted_bytes(ted_text)
    if len(data) > _QR_MAX_BYTES[error_correction]:  # qrcode itself fails with a bare ValueError
        raise DocumentError(
            reason=f"the TED text is {len(data)} bytes, more than the {_QR_MAX_BYTES[error_correction]} "
            f"a QR code with error correction {error_correction} holds"
        )
    # The mask is chosen by the standard's penalty rules: qrcode tries all
    # eight in pure Python, ~40 of the ~55 ms this takes for a TED.  A fixed
    # mask would be faster but may leave finder-like patterns that hinder readers.
    code = qrcode.QRCode(error_correction=levels[error_correction], box_size=scale, border=border)
    code.add_data(QRData(data, mode=MODE_8BIT_BYTE))
    try:
        code.make(fit=True)
    except DataOverflowError:
        raise DocumentError(
            reason=f"the TED text is {len(data)} bytes, more than a QR code with error correction "
            f"{error_correction} can hold"
        ) from None
    return _png(_matrix_image(code.get_matrix(), scale, scale))  # get_matrix() includes the border
