"""Typed errors of the SII engine.

Every error carries a stable ``code`` and the ``params`` its message was built
from, so a caller (the Odoo layer, the CLI) can translate it or react to one
kind of defect without parsing an English sentence.
"""


class SiiEngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "engine"
    template = "SII engine error"

    def __init__(self, message=None, **params):
        self.params = params
        if message is None:
            message = self.template.format(**params) if params else self.template
        super().__init__(message)

    @property
    def message(self):
        return str(self)


# --- RUT ---------------------------------------------------------------------


class RutError(SiiEngineError):
    code = "rut_invalid"
    template = "{rut!r} is not a valid Chilean RUT (check the digits and the verifier)"


class FieldRutError(RutError):
    """A RUT that is wrong in a named field (same code: callers translate it as any RutError)."""

    template = "{field}: {rut!r} is not a valid Chilean RUT (check the digits and the verifier)"


# --- XML input ---------------------------------------------------------------


class XmlInputError(SiiEngineError):
    code = "xml_invalid"
    template = "The XML could not be read: {reason}"


class InputFileError(SiiEngineError):
    code = "input_file"
    template = "{path}: cannot read this {what}: {reason}"


# --- certificates ------------------------------------------------------------


class CertificateError(SiiEngineError):
    code = "certificate"
    template = "The certificate cannot be used"


class CertificateFormatError(CertificateError):
    code = "certificate_not_pkcs12"
    template = "The file is not a PKCS#12 certificate (.pfx or .p12)"


class CertificatePasswordError(CertificateError):
    code = "certificate_wrong_password"
    template = "The certificate password is wrong"


class CertificateNoKeyError(CertificateError):
    code = "certificate_no_private_key"
    template = "The PKCS#12 file holds no private key (export it again with its key)"


class CertificateExpiredError(CertificateError):
    code = "certificate_expired"
    template = "The certificate expired on {not_after}"


class CertificateNotYetValidError(CertificateError):
    code = "certificate_not_yet_valid"
    template = "The certificate is valid only from {not_before}"


class CertificateKeyTypeError(CertificateError):
    code = "certificate_not_rsa"
    template = "The certificate's key is {kind}: SII signatures (rsa-sha1) need an RSA key"


class CertificateNoRutError(CertificateError):
    code = "certificate_no_rut"
    template = "The certificate names no RUT of its holder (SubjectAltName OID 1.3.6.1.4.1.8321.1 or subject serialNumber)"


# --- CAF ---------------------------------------------------------------------


class CafError(SiiEngineError):
    code = "caf"
    template = "The CAF cannot be used"


class CafFormatError(CafError):
    code = "caf_malformed"
    template = "The CAF file is malformed: {reason}"


class NotACafError(CafError):
    code = "caf_not_a_caf"
    template = "The file is not a CAF issued by the SII (its root is <{root}>, expected <AUTORIZACION>)"


class CafUntrustedKeyError(CafError):
    code = "caf_untrusted_key"
    template = "The CAF is signed with SII key IDK {idk}, which is not trusted here"


class CafSignatureError(CafError):
    code = "caf_tampered"
    template = (
        "The CAF signature (FRMA) does not verify with the SII key IDK {idk}: "
        "the file was altered or not issued by the SII"
    )


class CafTrustedKeyError(CafError):
    code = "caf_trusted_key_invalid"
    template = "The SII key {source} cannot be trusted: {reason}"


class CafKeyMismatchError(CafError):
    code = "caf_key_mismatch"
    template = "The CAF private key (RSASK) does not match its public key (RSAPK)"


# --- TED / folios ------------------------------------------------------------


class TedError(SiiEngineError):
    code = "ted"
    template = "The electronic stamp (TED) cannot be made"


class FolioOutOfRangeError(TedError):
    code = "folio_out_of_range"
    template = "Folio {folio} is outside the CAF range {first}-{last}"


class CafMismatchError(TedError):
    code = "caf_mismatch"
    template = "The CAF is for RUT {caf_rut} and document type {caf_type}, not for RUT {rut} and type {doc_type}"


# --- documents ---------------------------------------------------------------


class DocumentError(SiiEngineError):
    code = "document_invalid"
    template = "The document data is invalid: {reason}"


class DocumentFieldError(DocumentError):
    """A field of the input has the wrong shape or value; ``field`` is its path (``Encabezado/Receptor``)."""

    code = "document_field_invalid"
    template = "{field}: {reason}"


class AmountError(DocumentFieldError):
    code = "amount_invalid"
    template = "{field}: {value!r} is not an amount the SII accepts ({reason})"


class MissingFieldError(DocumentFieldError):
    """A field the SII requires of this document is missing; ``field`` is its SII tag."""

    code = "document_field_missing"
    template = "The document needs {field}: {reason}"


class FieldValueError(DocumentFieldError):
    """A field holds a value the SII does not accept; ``field`` is its SII tag."""

    code = "document_field_value"
    template = "{field} cannot be {value!r}: {reason}"


class SchemaValidationError(SiiEngineError):
    code = "schema_invalid"
    template = "The XML does not follow the SII schema {schema}: {errors}"

    def __init__(self, schema, errors):
        self.errors = list(errors)
        summary = "; ".join(self.errors[:5])
        super().__init__(schema=schema, errors=summary)


# --- signatures ------------------------------------------------------------------


class SignatureError(SiiEngineError):
    code = "signature"
    template = "The XML signature cannot be made: {reason}"


class SignatureVerificationError(SiiEngineError):
    code = "signature_invalid"
    template = "The XML signature does not verify: {reason}"


class SignatureProfileError(SignatureVerificationError):
    """A signature outside the SII's XMLDSig profile: refused before xmlsec sees it."""

    code = "signature_outside_profile"
    template = "The XML signature is outside the SII's profile and was not processed: {reason}"


# --- envelopes ---------------------------------------------------------------


class EnvelopeError(SiiEngineError):
    code = "envelope_invalid"
    template = "The envelope cannot be built: {reason}"


# --- certification ---------------------------------------------------------------


class SetFileError(SiiEngineError):
    """A line of an SII test set (set de pruebas) the parser does not understand."""

    code = "set_file_invalid"
    template = "Set de pruebas, line {line}: {reason}"
