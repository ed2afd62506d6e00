"""Verify what arrives from outside — a DTE, an envelope or a CAF — and explain each failure.

:func:`verify_file` reads the bytes (only through :func:`sii_engine.xmlutil.parse`),
works out what they are and runs every check that applies, collecting them
in a :class:`Report` instead of stopping at the first problem:

* a DTE: schema, its XML signature, its TED (the CAF's FRMA with the trusted
  SII keys, the folio range, RUT and type, the FRMT), whether the TED says
  what the document says, and the totals recomputed from the XML;
* an envelope (EnvioDTE / EnvioBOLETA): schema, the envelope's signature, the
  sender (``RutEnvia``) against the signing certificate, the Caratula counts
  and issuer, then every DTE as above;
* a CAF file: the SII's FRMA, the key pair (RSASK/RSAPK) and the expiry.

When a signature does not verify, the check says why: the signed content was
changed (its digest differs), or the embedded certificate is not the key that
signed (a common defect of sample files), or the signature value is wrong.

No printing and no global state: the local SII simulator and the Odoo layer
call this too. :meth:`Report.format` gives the text the CLI prints.
"""

import base64
import datetime
import functools
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from .amounts import parse_amount
from .caf import CERTIFICATION_IDK, PRODUCTION_IDK, parse_caf_element, sii_trusted_keys
from .certificate import holder_rut
from .document import BOLETA_TYPES, EXEMPT_TYPES, EXPORT_TYPES
from .envelope import MAX_DOCUMENTS
from .errors import (
    AmountError,
    CafError,
    CafSignatureError,
    CafTrustedKeyError,
    CafUntrustedKeyError,
    CertificateError,
    RutError,
    SchemaValidationError,
    SignatureProfileError,
    SignatureVerificationError,
    SiiEngineError,
    XmlInputError,
)
from .identities import TEST_IDK
from .rut import normalize as _normalize_rut
from .schema import schema_for, validation_errors
from .signature import (
    MAX_SIGNER_KEY_BITS,
    dte_body,
    signatures_of,
    standalone,
    unsigned_content,
    verify,
    verify_dte,
    without_sii_namespace,
)
from .ted import verify_ted
from .totals import ADDITIONAL_TAXES, EXPORT_DECIMALS, round_amount
from .xmlutil import DSIG_NS, SII_NS, children, find, findtext, local, parse

CAF = "CAF"
DTE = "DTE"
ENVIO_DTE = "EnvioDTE"
ENVIO_BOLETA = "EnvioBOLETA"

# Check names, stable for callers that react to one kind of defect.
FORMAT = "format"
SCHEMA = "schema"
SIGNATURE = "signature"
UNSIGNED = "unsigned content"  # added only when something is signed by nobody
SENDER = "sender"
COVER_COUNTS = "cover counts"
COVER_ISSUER = "cover issuer"
UNIQUE = "unique documents"
TED = "TED"
TED_DATA = "TED data"
TOTALS = "totals"
CAF_SIGNATURE = "CAF signature"
KEY_PAIR = "key pair"
EXPIRY = "expiry"

# Other SII files someone may feed in by mistake: name them rather than say "unknown".
_OTHER_SII_ROOTS = {
    "RespuestaDTE": "an acknowledgement of receipt or result (RespuestaDTE)",
    "EnvioRecibos": "a receipt of goods (EnvioRecibos, Ley 19.983)",
    "ConsumoFolios": "a daily folio report (ConsumoFolios / RCOF)",
    "LibroCompraVenta": "a purchase or sales ledger (LibroCompraVenta)",
    "LibroGuia": "a dispatch guide ledger (LibroGuia)",
    "LibroBoleta": "a boleta ledger (LibroBoleta)",
    "RESULTADO_ENVIO": "an SII upload result (RESULTADO_ENVIO)",
    "RECEPCIONDTE": "an SII upload receipt (RECEPCIONDTE)",
    "TED": "a bare electronic stamp (TED)",
    "Envelope": "a SOAP envelope",
}
_DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256,
}
_SIGNATURE_METHODS = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
}


@dataclass(frozen=True)
class Check:
    """One verification: what was checked (``name``) on what (``subject``), and why it failed."""

    name: str
    subject: str
    ok: bool
    detail: str = ""
    skipped: bool = False  # could not be checked (``ok`` stays True; ``detail`` says why)

    @property
    def status(self):
        return "skip" if self.skipped else ("ok" if self.ok else "FAIL")


@dataclass
class Report:
    """Every check run on one file. ``kind`` is CAF, DTE, EnvioDTE, EnvioBOLETA or ``None``."""

    kind: str = None
    checks: list = field(default_factory=list)

    @property
    def ok(self):
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failures(self):
        return [check for check in self.checks if not check.ok]

    @property
    def subjects(self):
        return list(dict.fromkeys(check.subject for check in self.checks))

    def add(self, name, subject, ok, detail="", skipped=False):
        check = Check(name=name, subject=subject, ok=bool(ok), detail=detail, skipped=skipped)
        self.checks.append(check)
        return check

    def skip(self, name, subject, detail):
        return self.add(name, subject, True, detail, skipped=True)

    def find(self, name, subject=None):
        """The checks called ``name`` (on ``subject`` when given)."""
        return [c for c in self.checks if c.name == name and (subject is None or c.subject == subject)]

    def get(self, name, subject=None):
        """The one check called ``name`` (on ``subject``), or ``None``."""
        found = self.find(name, subject)
        return found[0] if found else None

    def as_dict(self):
        return {"kind": self.kind, "ok": self.ok, "checks": [asdict(check) for check in self.checks]}

    def format(self):
        """The report as text: one line per check, details indented below failures."""
        width_subject = max((len(c.subject) for c in self.checks), default=0)
        width_name = max((len(c.name) for c in self.checks), default=0)
        lines = [f"{self.kind or 'Unknown file'}:"]
        for check in self.checks:
            detail_lines = (check.detail or "").splitlines() or [""]
            head = f"  {check.status:<4}  {check.subject:<{width_subject}}  {check.name:<{width_name}}  "
            lines.append((head + detail_lines[0]).rstrip())
            indent = " " * len(head)
            lines.extend(f"{indent}{line}" for line in detail_lines[1:])
        failed = len(self.failures)
        total = len(self.checks)
        if self.ok:
            lines.append(f"OK: all {total} checks passed.")
        else:
            lines.append(f"FAILED: {failed} of {total} checks failed.")
        return "\n".join(lines)


# --- entry points ------------------------------------------------------------------------------


def verify_file(data, trusted_keys=None, *, today=None):
    """Verify the bytes of a DTE, an EnvioDTE/EnvioBOLETA or a CAF file.

    ``trusted_keys`` maps IDK to the RSA public key that signs CAFs under it;
    by default the SII's own keys (IDK 100 certification, 300 production).
    ``today`` (a date) is when CAF expiry is judged. Never raises for a defect
    of the file: every defect is a failed :class:`Check`.
    """
    report = Report()
    try:
        root = parse(data)
    except XmlInputError as error:
        report.add(FORMAT, "file", False, f"not readable as XML: {error.params.get('reason', error)}")
        return report
    return verify_element(root, trusted_keys, today=today, report=report)


def verify_element(root, trusted_keys=None, *, today=None, report=None):
    """As :func:`verify_file`, for a root element already parsed with :func:`xmlutil.parse`."""
    report = report if report is not None else Report()
    trusted_keys = sii_trusted_keys() if trusted_keys is None else trusted_keys
    tag = local(root.tag)
    try:
        _verify_kind(report, root, tag, trusted_keys, today)
    except Exception as error:  # a defect of the verifier itself: still a failed check, never a traceback
        report.add(FORMAT, "file", False,
                   f"the verifier could not finish ({type(error).__name__}: {error}); the file is not accepted")
    return report


def _verify_kind(report, root, tag, trusted_keys, today):
    if tag == "AUTORIZACION":
        report.kind = CAF
        _verify_caf(report, root, trusted_keys, today or datetime.date.today())
    elif tag == "DTE":
        report.kind = DTE
        _verify_single_dte(report, root, trusted_keys)
    elif tag in (ENVIO_DTE, ENVIO_BOLETA):
        report.kind = tag
        _verify_envelope(report, root, trusted_keys)
    else:
        what = _OTHER_SII_ROOTS.get(tag)
        detail = f"the root element is <{tag}>"
        if what:
            detail += f", {what}"
        detail += "; expected <AUTORIZACION> (a CAF), <DTE>, <EnvioDTE> or <EnvioBOLETA>"
        report.add(FORMAT, "file", False, detail)


# --- DTEs and envelopes -----------------------------------------------------------------------


_body = dte_body


def document_subject(dte):
    """``T33F60`` for a DTE, from its IdDoc (the ``ID`` attribute is the issuer's choice)."""
    body = _body(dte)
    document_type = findtext(body, "Encabezado/IdDoc/TipoDTE", "?") if body is not None else "?"
    folio = findtext(body, "Encabezado/IdDoc/Folio", "?") if body is not None else "?"
    return f"T{document_type.strip()}F{folio.strip()}"


def _namespace(element):
    return etree.QName(element).namespace


def _verify_single_dte(report, dte, trusted_keys):
    subject = document_subject(dte)
    if _body(dte) is None:
        report.add(FORMAT, subject, False, "the <DTE> holds no <Documento>, <Exportaciones> or <Liquidacion>")
        return
    namespace = _namespace(dte)
    detail = f"a DTE ({subject})"
    if namespace is None:
        detail += ", in no namespace (the SII's schema wants xmlns=\"http://www.sii.cl/SiiDte\")"
    elif namespace != SII_NS:
        detail += f", in the namespace {namespace!r}, not the SII's"
    report.add(FORMAT, subject, True, detail)
    _check_schema(report, dte, subject)
    _check_document(report, dte, subject, trusted_keys)


def _verify_envelope(report, root, trusted_keys):
    set_dte = find(root, "SetDTE")
    if set_dte is None:
        report.add(FORMAT, "envelope", False, f"the <{local(root.tag)}> has no <SetDTE>")
        return
    documents = children(set_dte, "DTE")
    limit = MAX_DOCUMENTS[local(root.tag)]
    if len(documents) > limit:
        # Counted before anything is verified: the work below grows with the documents.
        report.add(
            FORMAT, "envelope", False,
            f"an {local(root.tag)} holding {len(documents)} documents: the SII takes at most {limit} per "
            f"{local(root.tag)}, so it was not verified further",
        )
        return
    subjects = [document_subject(dte) for dte in documents]
    listed = ", ".join(subjects[:10]) + (f" and {len(subjects) - 10} more" if len(subjects) > 10 else "")
    report.add(
        FORMAT, "envelope", True, f"an {local(root.tag)} holding {len(documents)} document(s): {listed or 'none'}"
    )
    _check_schema(report, root, "envelope")
    certificate_pem = _check_signature(report, "envelope", root)
    _check_unsigned(report, "envelope", root)
    cover = find(set_dte, "Caratula")
    if cover is None:
        report.add(COVER_COUNTS, "envelope", False, "the envelope has no <Caratula>")
    else:
        _check_sender(report, cover, certificate_pem)
        _check_cover_counts(report, cover, documents)
        _check_cover_issuer(report, cover, documents, subjects)
    repeated = sorted(subject for subject, count in Counter(subjects).items() if count > 1)
    if repeated:
        report.add(UNIQUE, "envelope", False,
                   f"{', '.join(repeated)} appear(s) more than once: the SII rejects a repeated document")
    else:
        report.add(UNIQUE, "envelope", True, "no document appears twice")
    for dte, subject in zip(documents, subjects, strict=True):
        if _body(dte) is None:
            report.add(FORMAT, subject, False, "the <DTE> holds no <Documento>, <Exportaciones> or <Liquidacion>")
            continue
        _check_document(report, dte, subject, trusted_keys)


def _check_document(report, dte, subject, trusted_keys):
    body = _body(dte)
    _check_dte_signature(report, subject, dte)
    _check_unsigned(report, subject, dte)
    _check_ted(report, subject, body, trusted_keys)
    _check_ted_data(report, subject, body)
    _check_totals(report, subject, body)


def _check_schema(report, root, subject):
    try:
        name = schema_for(root)
        errors = validation_errors(root, name)
    except SchemaValidationError as error:
        report.add(SCHEMA, subject, False, str(error))
        return
    if not errors:
        report.add(SCHEMA, subject, True, f"valid against {name}")
        return
    detail = f"{len(errors)} error(s) against {name}:\n" + "\n".join(errors[:50])
    if len(errors) > 50:
        detail += f"\n... and {len(errors) - 50} more"
    if _namespace(root) is None:
        detail += "\n(the root element is in no namespace: the SII's schemas are for xmlns=\"http://www.sii.cl/SiiDte\")"
    report.add(SCHEMA, subject, False, detail)


# --- signatures ----------------------------------------------------------------------------------


# What verifying a malformed signature can raise besides SignatureVerificationError
# (a Modulus that is not base64, an empty element...).
_SIGNATURE_FAILURES = (SignatureVerificationError, ValueError, TypeError, AttributeError)


def _check_signature(report, subject, root):
    """The signature of an envelope (over its SetDTE, in place). Returns the signer's PEM or None."""
    try:
        pem = verify(root)
    except _SIGNATURE_FAILURES as error:
        report.add(SIGNATURE, subject, False, _explain_signature_failure([("", root)], error))
        return None
    report.add(SIGNATURE, subject, True, "valid, " + _describe_signer(pem))
    return pem


def _check_unsigned(report, subject, root):
    """Whatever hangs off ``root`` beside the part its signature covers: nobody vouches for it."""
    others = unsigned_content(root)
    if others:
        names = ", ".join(f"<{local(child.tag)}>" for child in others[:10])
        more = f" and {len(others) - 10} more" if len(others) > 10 else ""
        part = dte_body(root) if local(root.tag) == "DTE" else find(root, "SetDTE")
        beside = f"beside the signed <{local(part.tag)}>" if part is not None else "beside its signature"
        report.add(UNSIGNED, subject, False,
                   f"{names}{more} {beside} in <{local(root.tag)}> is signed by nobody: nothing vouches for it")


def _check_dte_signature(report, subject, dte):
    try:
        pem = verify_dte(dte)
    except _SIGNATURE_FAILURES as error:
        first_error = error
    else:
        report.add(SIGNATURE, subject, True, "valid, " + _describe_signer(pem))
        return
    if _namespace(dte) is None:
        variants = [("", standalone(dte)), ("with the SII namespace restored", _with_sii_namespace(dte))]
        if signatures_of(dte):
            try:
                pem = verify(variants[1][1])
            except _SIGNATURE_FAILURES:
                pass
            else:
                report.add(
                    SIGNATURE, subject, True,
                    f"valid once the SII namespace is restored: the DTE was signed in xmlns=\"{SII_NS}\" and this "
                    "copy lost that declaration (nothing else changed), " + _describe_signer(pem),
                )
                return
    elif _namespace(dte) == SII_NS:
        variants = [("", standalone(dte)), ("without the SII namespace", without_sii_namespace(dte))]
    else:
        variants = [("", standalone(dte))]
    report.add(SIGNATURE, subject, False, _explain_signature_failure(variants, first_error))


def _with_sii_namespace(dte):
    """A no-namespace DTE put (back) into the SII namespace, as the issuer may have signed it."""
    data = etree.tostring(dte)
    start = data.index(b"<DTE") + len(b"<DTE")
    return etree.fromstring(data[:start] + f' xmlns="{SII_NS}"'.encode() + data[start:])


@functools.lru_cache(maxsize=64)
def _describe_signer(pem):
    """Remembered per certificate: an envelope's documents have one or two signers."""
    try:
        certificate = x509.load_pem_x509_certificate(pem, default_backend())
    except ValueError:
        return "signer's certificate unreadable"
    return _describe_certificate(certificate)


def _describe_certificate(certificate):
    return f"signed by {_certificate_summary(certificate)}"


def _certificate_summary(certificate):
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    name = names[0].value if names else certificate.subject.rfc4514_string()
    try:
        rut = f", RUT {holder_rut(certificate)}"
    except CertificateError:
        rut = ""
    return (
        f"{name}{rut}, certificate valid {certificate.not_valid_before.date()}"
        f" to {certificate.not_valid_after.date()}"
    )


@dataclass
class _Diagnosis:
    uri: str
    digest_ok: bool
    certificate_ok: bool = False
    key_value_ok: bool = False
    certificate: object = None


def _explain_signature_failure(variants, error):
    """Say why a signature failed: content changed, certificate not the signer, or bad value.

    ``variants`` are (label, root) forms the signed content may have had; the
    explanation uses the one whose digest matches, if any.
    """
    if isinstance(error, SignatureProfileError):
        return f"not processed, outside the SII's signature profile: {error.params.get('reason', error)}"
    diagnoses = []
    for label, root in variants:
        try:
            diagnosis = _diagnose(root)
        except Exception:  # a diagnosis is a courtesy: never let it hide the real error
            diagnosis = None
        if diagnosis is not None:
            diagnoses.append((label, diagnosis))
    if not diagnoses:
        return _reason(error)
    matching = [(label, d) for label, d in diagnoses if d.digest_ok]
    if not matching:
        uri = diagnoses[0][1].uri
        return (
            f"the signed element {uri} was changed after signing: its digest no longer matches the "
            "DigestValue (an amount, a name or some other content differs from what was signed)"
        )
    label, diagnosis = matching[0]
    signed_as = f" (it was signed {label})" if label else ""
    certificate = diagnosis.certificate
    described = _certificate_summary(certificate) if certificate else "unreadable"
    if diagnosis.certificate_ok:
        return f"{_reason(error)}{signed_as}"
    if diagnosis.key_value_ok:
        return (
            f"the embedded X509Certificate ({described}) is not the signing key: the content of {diagnosis.uri} is "
            f"intact{signed_as} and the SignatureValue verifies with the RSAKeyValue key, which is not the "
            "certificate's key, so nothing identifies who signed"
        )
    return (
        f"the content of {diagnosis.uri} is intact{signed_as}, but the SignatureValue verifies neither with the "
        f"embedded X509Certificate ({described}) nor with the RSAKeyValue: the SignatureValue or the SignedInfo "
        "was altered, or the certificate was replaced"
    )


def _diagnose(root):
    found = signatures_of(root)
    if not found:
        return None
    signature = found[-1]
    signed_info = signature.find(f"{{{DSIG_NS}}}SignedInfo")
    reference = signed_info.find(f"{{{DSIG_NS}}}Reference")
    uri = reference.get("URI", "")
    if not uri.startswith("#"):
        return None
    target = root if root.get("ID") == uri[1:] else next(
        (e for e in root.iter() if isinstance(e.tag, str) and e.get("ID") == uri[1:]), None
    )
    if target is None:
        return None
    transforms = [t.get("Algorithm", "") for t in reference.iter(f"{{{DSIG_NS}}}Transform")]
    c14n_algorithm = next((t for t in transforms if "c14n" in t), "")
    digest_method = _DIGESTS[reference.find(f"{{{DSIG_NS}}}DigestMethod").get("Algorithm")]
    digest = hashes.Hash(digest_method(), default_backend())
    digest.update(_c14n(target, c14n_algorithm))
    declared = base64.b64decode("".join(reference.findtext(f"{{{DSIG_NS}}}DigestValue").split()))
    diagnosis = _Diagnosis(uri=uri, digest_ok=digest.finalize() == declared)
    if not diagnosis.digest_ok:
        return diagnosis

    method = signed_info.find(f"{{{DSIG_NS}}}SignatureMethod").get("Algorithm")
    hash_class = _SIGNATURE_METHODS[method]
    canonical = signed_info.find(f"{{{DSIG_NS}}}CanonicalizationMethod").get("Algorithm", "")
    signed_bytes = _c14n(signed_info, canonical)
    value = base64.b64decode("".join(signature.findtext(f"{{{DSIG_NS}}}SignatureValue").split()))
    certificate_text = signature.findtext(f".//{{{DSIG_NS}}}X509Certificate")
    if certificate_text:
        try:
            certificate = x509.load_der_x509_certificate(
                base64.b64decode("".join(certificate_text.split())), default_backend()
            )
        except ValueError:
            certificate = None
        if certificate is not None:
            diagnosis.certificate = certificate
            diagnosis.certificate_ok = _rsa_verifies(certificate.public_key(), value, signed_bytes, hash_class)
    modulus = signature.findtext(f".//{{{DSIG_NS}}}Modulus")
    exponent = signature.findtext(f".//{{{DSIG_NS}}}Exponent")
    if modulus and exponent and _b64_int(modulus).bit_length() <= MAX_SIGNER_KEY_BITS:
        numbers = rsa.RSAPublicNumbers(_b64_int(exponent), _b64_int(modulus))
        diagnosis.key_value_ok = _rsa_verifies(numbers.public_key(default_backend()), value, signed_bytes, hash_class)
    return diagnosis


def _c14n(element, algorithm):
    # Canonicalizing a subelement in place makes lxml emit spurious xmlns="" on its
    # children; a re-parsed copy carries the in-scope namespaces on its root instead.
    return etree.tostring(
        etree.fromstring(etree.tostring(element)),
        method="c14n",
        exclusive="exc-c14n" in algorithm,
        with_comments=algorithm.endswith("WithComments"),
    )


def _rsa_verifies(key, value, data, hash_class):
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(value, data, padding.PKCS1v15(), hash_class())
    except (InvalidSignature, ValueError):
        return False
    return True


def _b64_int(text):
    return int.from_bytes(base64.b64decode("".join(text.split())), "big")


# --- TED -----------------------------------------------------------------------------------------


class _NoCheck:
    def verify(self, *args, **kwargs):
        return None


class _UncheckedKeys(Mapping):
    """A ``trusted_keys`` that accepts any IDK without checking the FRMA.

    Only to read a CAF, or check the rest of a TED, once its FRMA has been
    reported as failed: never to decide that a CAF is authentic.
    """

    def __getitem__(self, idk):
        return _NoCheck()

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


def _idk_label(idk):
    return {
        CERTIFICATION_IDK: "the SII's certification key",
        PRODUCTION_IDK: "the SII's production key",
        TEST_IDK: "the stand-in test key of sii_engine.identities, never valid at the SII",
    }.get(idk, "an IDK the SII does not use (it signs with 100 in certification and 300 in production)")


def _explain_caf_trust(error, trusted_keys):
    if isinstance(error, CafTrustedKeyError):
        return str(error)
    idk = error.params.get("idk")
    trusted = ", ".join(str(key) for key in sorted(trusted_keys)) or "none"
    if isinstance(error, CafUntrustedKeyError):
        detail = f"the CAF is signed under IDK {idk} ({_idk_label(idk)}), which is not trusted here"
        detail += f" (trusted: {trusted})"
        if idk == TEST_IDK:
            detail += "; to accept test material, trust the stand-in key (--trusted-key 9999=PEM)"
        elif idk in (CERTIFICATION_IDK, PRODUCTION_IDK):
            detail += "; the document belongs to the other SII environment"
        return detail
    return (
        f"the CAF's FRMA does not verify with the key trusted for IDK {idk} ({_idk_label(idk)}): "
        "the CAF was altered or was not issued by that authority"
    )


def _check_ted(report, subject, body, trusted_keys):
    ted = find(body, "TED")
    if ted is None:
        report.add(TED, subject, False, "the document has no <TED> (electronic stamp)")
        return
    try:
        stamp = verify_ted(ted, trusted_keys)
    except (CafUntrustedKeyError, CafSignatureError) as error:
        detail = _explain_caf_trust(error, trusted_keys)
        try:
            verify_ted(ted, _UncheckedKeys())
        except (SiiEngineError, ValueError, TypeError) as other:
            detail += f"; besides, {_lower_first(_reason(other))}"
        else:
            detail += "; apart from that the stamp is consistent (FRMT matches DD, folio within the CAF range)"
        report.add(TED, subject, False, detail)
        return
    except SiiEngineError as error:
        report.add(TED, subject, False, _reason(error))
        return
    except (ValueError, TypeError) as error:  # e.g. an FRMT or a key that is not base64
        report.add(TED, subject, False, f"the TED cannot be read: {error}")
        return
    caf = stamp.caf
    report.add(
        TED, subject, True,
        f"stamp valid: folio {stamp.data.folio} within CAF {caf.document_type} {caf.first_folio}-{caf.last_folio} "
        f"of {caf.rut}, authorised {caf.authorized_on}, FRMA by IDK {caf.idk} ({_idk_label(caf.idk)})",
    )


def _reason(error):
    """The error's message, without the generic prefix when it has a specific reason."""
    if isinstance(error, SignatureVerificationError) and "reason" in error.params:
        return error.params["reason"]
    if not isinstance(error, SiiEngineError):
        return f"the signature cannot be read ({type(error).__name__}: {error})"
    return str(error)


def _lower_first(text):
    return text[:1].lower() + text[1:]


def _same_rut(left, right):
    try:
        return _normalize_rut(left) == _normalize_rut(right)
    except RutError:
        return (left or "").strip().upper() == (right or "").strip().upper()


def _same_int(left, right):
    try:
        return int(left) == int(right)
    except (TypeError, ValueError):
        return False


def _same_amount(ted_amount, document_amount, exact=False):
    """MNT against MntTotal: rounded to pesos, or ``exact`` on exports (whose MNT carries the decimals)."""
    if ted_amount is None or document_amount is None:
        return False
    try:
        document_total = parse_amount(document_amount, "MntTotal")
        return parse_amount(ted_amount, "TED/DD/MNT") == (document_total if exact else round_amount(document_total))
    except (AmountError, ArithmeticError):
        return False


def _same_exact_amount(ted_amount, document_amount):
    return _same_amount(ted_amount, document_amount, exact=True)


def _check_ted_data(report, subject, body):
    dd = find(body, "TED/DD")
    if dd is None:
        report.skip(TED_DATA, subject, "not checked: there is no TED/DD")
        return
    header = find(body, "Encabezado")
    pairs = (
        ("RE", "Emisor/RUTEmisor", "RUTEmisor", _same_rut),
        ("TD", "IdDoc/TipoDTE", "TipoDTE", _same_int),
        ("F", "IdDoc/Folio", "Folio", _same_int),
        ("FE", "IdDoc/FchEmis", "FchEmis", lambda a, b: (a or "").strip() == (b or "").strip()),
        ("RR", "Receptor/RUTRecep", "RUTRecep", _same_rut),
        ("MNT", "Totales/MntTotal", "MntTotal", _same_exact_amount if local(body.tag) == "Exportaciones" else _same_amount),
    )
    mismatches = []
    for ted_tag, path, tag, same in pairs:
        in_ted = findtext(dd, ted_tag)
        in_document = findtext(header, path) if header is not None else None
        if not same(in_ted, in_document):
            mismatches.append(f"TED {ted_tag} is {in_ted!r} but the document's {tag} is {in_document!r}")
    if mismatches:
        report.add(
            TED_DATA, subject, False,
            "the stamp does not certify this document: " + "; ".join(mismatches),
        )
    else:
        report.add(TED_DATA, subject, True, "RE, TD, F, FE, RR and MNT match the document")


# --- totals --------------------------------------------------------------------------------------


class _Unreadable(ValueError):
    pass


def _amount(element, path, where=""):
    """The amount at ``path`` under ``element``, bounded (:func:`~.amounts.parse_amount`); ``where``
    names the element in the message (``Detalle[3]``)."""
    return _amount_text(findtext(element, path) if element is not None else None, path, where)


def _amount_text(text, name, where=""):
    if text is None or not text.strip():
        return None
    try:
        return parse_amount(text, f"{where}/{name}" if where else name)
    except AmountError as error:
        raise _Unreadable(str(error)) from None


def _fields(element):
    """``{local name: text}`` of the children of ``element`` (the first of each name): a line's
    fields read in one pass rather than one search per field."""
    fields = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            fields.setdefault(tag.rpartition("}")[2], child.text)
    return fields


_TOTALS = "Encabezado/Totales"


class TotalsProblem(str):
    """A problem :func:`totals_problems` finds: its text, and ``kind``, the amount it is about
    (``line_amount``, ``net_amount``, ``exempt_amount``, ``vat_amount``, ``additional_tax``, ``total_amount``)."""

    def __new__(cls, kind, text, line=None):
        problem = super().__new__(cls, text)
        problem.kind = kind
        problem.line = line  # the line's number, for a line_amount
        return problem


def _money(value, decimals):
    return format(value, "f") if decimals else str(int(value))


def _check_totals(report, subject, body):
    try:
        problems, summary = totals_problems(body)
    except _Unreadable as error:
        report.add(TOTALS, subject, False, f"cannot recompute: {error}")
        return
    except (ArithmeticError, ValueError, TypeError) as error:  # absurd numbers the schema also refuses
        report.add(TOTALS, subject, False, f"cannot recompute: an amount is out of range or unreadable ({error!r})")
        return
    if problems is None:
        report.skip(TOTALS, subject, f"not checked: {summary}")
    elif problems:
        report.add(TOTALS, subject, False, "; ".join(problems))
    else:
        report.add(TOTALS, subject, True, summary)


def totals_problems(body):
    """Recompute the totals from the lines: ``(problems, summary)``; ``problems`` is None if not checkable.

    Each problem is a :class:`TotalsProblem`: its text, and the amount it is about (``kind``),
    by which the SII simulator chooses its answer.
    """
    header = find(body, "Encabezado")
    totals = find(header, "Totales") if header is not None else None
    try:
        document_type = int(findtext(header, "IdDoc/TipoDTE"))
    except (TypeError, ValueError):
        return None, "no TipoDTE"
    if totals is None:
        return None, "no <Totales>"
    if document_type == 43:
        return None, "a liquidación-factura's totals include commissions this check does not model"
    currency = (findtext(totals, "TpoMoneda") or "").strip()
    decimals = EXPORT_DECIMALS if document_type in EXPORT_TYPES and currency not in ("", "PESO CL") else False
    boleta_gross = document_type in BOLETA_TYPES and (findtext(header, "IdDoc/IndMntNeto") or "").strip() != "2"
    all_exempt = document_type in EXEMPT_TYPES
    problems = []

    taxable = exempt = Decimal(0)
    taxed_by_code = {}
    for number, line in enumerate((c for c in body if isinstance(c.tag, str) and local(c.tag) == "Detalle"), 1):
        where = f"Detalle[{number}]"
        fields = _fields(line)
        amount = _amount_text(fields.get("MontoItem"), "MontoItem", where)
        indicator = (fields.get("IndExe") or "").strip()
        if amount is None:
            amount = Decimal(0)
        price = _amount_text(fields.get("PrcItem"), "PrcItem", where)
        if price is not None:
            quantity = _amount_text(fields.get("QtyItem"), "QtyItem", where)
            expected = round_amount(
                (Decimal(1) if quantity is None else quantity) * price
                - (_amount_text(fields.get("DescuentoMonto"), "DescuentoMonto", where) or 0)
                + (_amount_text(fields.get("RecargoMonto"), "RecargoMonto", where) or 0),
                decimals,
            )
            if abs(expected - amount) > (Decimal("0.01") if decimals else Decimal(1)):
                problems.append(TotalsProblem(
                    "line_amount",
                    f"line {number}: MontoItem {_money(amount, True)} is not QtyItem x PrcItem - DescuentoMonto "
                    f"+ RecargoMonto = {_money(expected, decimals)}",
                    line=number,
                ))
        if indicator in ("2", "6"):  # not billable: outside the totals
            continue
        if indicator not in ("", "0", "1"):
            return None, f"line {number} has IndExe {indicator}, whose effect on the totals is not modelled"
        if indicator == "1" or all_exempt:
            exempt += amount
        else:
            taxable += amount
            code = (fields.get("CodImpAdic") or "").strip()
            if code:
                taxed_by_code[int(code)] = taxed_by_code.get(int(code), Decimal(0)) + amount

    lines_taxable, lines_exempt = taxable, exempt
    adjustments = []
    adjustment_items = (c for c in body if isinstance(c.tag, str) and local(c.tag) == "DscRcgGlobal")
    for number, item in enumerate(adjustment_items, 1):
        indicator = (findtext(item, "IndExeDR") or "").strip()
        if indicator == "2":
            continue
        on_exempt = indicator == "1" or all_exempt
        value = _amount(item, "ValorDR", f"DscRcgGlobal[{number}]") or Decimal(0)
        if (findtext(item, "TpoValor") or "").strip() == "%":
            value = round_amount((lines_exempt if on_exempt else lines_taxable) * value / 100, decimals)
        signed = -value if (findtext(item, "TpoMov") or "").strip() == "D" else value
        adjustments.append(signed)
        if on_exempt:
            exempt += signed
        else:
            taxable += signed

    net = _amount(totals, "MntNeto", _TOTALS) or Decimal(0)
    exempt_total = _amount(totals, "MntExe", _TOTALS) or Decimal(0)
    vat = _amount(totals, "IVA", _TOTALS) or Decimal(0)
    vat_rate = _amount(totals, "TasaIVA", _TOTALS)
    total = _amount(totals, "MntTotal", _TOTALS)
    if total is None:
        return [TotalsProblem("total_amount", "there is no MntTotal")], ""
    adjusted = " with the global discounts/surcharges" if adjustments else ""

    if boleta_gross:
        if net + vat != taxable:
            problems.append(TotalsProblem(
                "net_amount",
                f"MntNeto + IVA = {net + vat}, but the taxable lines (gross prices){adjusted} add up to {taxable}",
            ))
        expected_total = net + exempt_total + vat
    elif document_type in EXPORT_TYPES:  # every line is exempt
        expected_total = exempt_total
    else:
        if net != taxable:
            problems.append(TotalsProblem("net_amount", f"MntNeto is {_money(net, decimals)}, but the taxable lines' "
                                          f"MontoItem{adjusted} add up to {_money(taxable, decimals)}"))
        if net and vat_rate is not None:
            expected_vat = round_amount(net * vat_rate / 100)
            if vat != expected_vat:
                problems.append(TotalsProblem("vat_amount", f"IVA is {vat}, but round(MntNeto x TasaIVA / 100) = "
                                              f"round({net} x {vat_rate} / 100) = {expected_vat}"))
        expected_total = net + exempt_total + vat
        for tax in (c for c in totals if isinstance(c.tag, str) and local(c.tag) == "ImptoReten"):
            try:
                code = int(findtext(tax, "TipoImp"))
            except (TypeError, ValueError):
                return None, "an ImptoReten has no readable TipoImp"
            amount = _amount(tax, "MontoImp", f"{_TOTALS}/ImptoReten") or Decimal(0)
            rate = _amount(tax, "TasaImp", f"{_TOTALS}/ImptoReten")
            if code not in ADDITIONAL_TAXES:
                return None, f"the additional tax {code} is not known here (whether it adds or is retained)"
            if rate is not None and code in taxed_by_code:
                expected_tax = round_amount(taxed_by_code[code] * rate / 100)
                if amount != expected_tax:
                    problems.append(TotalsProblem("additional_tax", f"ImptoReten {code} is {amount}, but {rate}% of "
                                                  f"its lines' {taxed_by_code[code]} is {expected_tax}"))
            expected_total += -amount if ADDITIONAL_TAXES[code][1] else amount
        expected_total -= _amount(totals, "CredEC", _TOTALS) or Decimal(0)
    if exempt_total != exempt:
        problems.append(TotalsProblem("exempt_amount", f"MntExe is {_money(exempt_total, decimals)}, but the exempt "
                                      f"lines{adjusted} add up to {_money(exempt, decimals)}"))
    if total != expected_total:
        problems.append(TotalsProblem("total_amount", f"MntTotal is {_money(total, decimals)}, but MntNeto + MntExe + "
                                      f"IVA + additional taxes - retained = {_money(expected_total, decimals)}"))
    summary = (
        f"lines and totals agree (MntNeto {_money(net, decimals)}, MntExe {_money(exempt_total, decimals)}, "
        f"IVA {vat}, MntTotal {_money(total, decimals)})"
    )
    return problems, summary


# --- envelope cover ------------------------------------------------------------------------------


def _check_sender(report, cover, certificate_pem):
    sender = findtext(cover, "RutEnvia")
    if certificate_pem is None:
        report.skip(SENDER, "envelope", "not checked: the envelope's signature does not verify")
        return
    try:
        signer = holder_rut(x509.load_pem_x509_certificate(certificate_pem, default_backend()))
    except (CertificateError, ValueError):
        report.skip(SENDER, "envelope", "not checked: the signing certificate names no RUT")
        return
    if _same_rut(sender, signer):
        report.add(SENDER, "envelope", True, f"RutEnvia {sender} is the holder of the signing certificate")
    else:
        report.add(SENDER, "envelope", False,
                   f"RutEnvia is {sender!r}, but the envelope was signed with the certificate of {signer}")


def _check_cover_counts(report, cover, documents):
    declared = Counter()
    for item in cover:
        if isinstance(item.tag, str) and local(item.tag) == "SubTotDTE":
            try:
                declared[int(findtext(item, "TpoDTE"))] += int(findtext(item, "NroDTE"))
            except (TypeError, ValueError):
                report.add(COVER_COUNTS, "envelope", False, "a SubTotDTE has no readable TpoDTE or NroDTE")
                return
    actual = Counter()
    for dte in documents:
        try:
            actual[int(findtext(_body(dte), "Encabezado/IdDoc/TipoDTE"))] += 1
        except (TypeError, ValueError):
            continue
    if declared == actual:
        counts = ", ".join(f"{count} of type {kind}" for kind, count in sorted(actual.items()))
        report.add(COVER_COUNTS, "envelope", True, f"SubTotDTE matches the documents ({counts or 'none'})")
        return
    problems = [
        f"type {kind}: SubTotDTE says {declared.get(kind, 0)}, the envelope holds {actual.get(kind, 0)}"
        for kind in sorted(set(declared) | set(actual))
        if declared.get(kind, 0) != actual.get(kind, 0)
    ]
    report.add(COVER_COUNTS, "envelope", False, "the Caratula's counts are wrong: " + "; ".join(problems))


def _check_cover_issuer(report, cover, documents, subjects):
    issuer = findtext(cover, "RutEmisor")
    others = []
    for dte, subject in zip(documents, subjects, strict=True):
        body = _body(dte)
        rut = findtext(body, "Encabezado/Emisor/RUTEmisor") if body is not None else None
        if not _same_rut(issuer, rut):
            others.append(f"{subject} is issued by {rut}")
    if others:
        report.add(COVER_ISSUER, "envelope", False,
                   f"the Caratula's RutEmisor is {issuer}, but " + "; ".join(others))
    else:
        report.add(COVER_ISSUER, "envelope", True, f"every document is issued by RutEmisor {issuer}")


# --- CAF files -----------------------------------------------------------------------------------


def caf_subject(root):
    da = find(root, "CAF/DA")
    if da is None:
        return "CAF"
    document_type, first, last = (findtext(da, path, "?").strip() for path in ("TD", "RNG/D", "RNG/H"))
    return f"CAF {document_type} {first}-{last}"


def _verify_caf(report, root, trusted_keys, today):
    subject = caf_subject(root)
    caf_element = find(root, "CAF")
    if caf_element is None:
        report.add(FORMAT, subject, False, "the <AUTORIZACION> has no <CAF>")
        return
    try:
        unverified = parse_caf_element(caf_element, _UncheckedKeys())
    except (CafError, ValueError) as error:
        report.add(FORMAT, subject, False, str(error))
        return
    report.add(
        FORMAT, subject, True,
        f"a CAF for RUT {unverified.rut} ({unverified.company_name}), document type {unverified.document_type}, "
        f"folios {unverified.first_folio}-{unverified.last_folio}, authorised {unverified.authorized_on}",
    )
    try:
        caf = parse_caf_element(caf_element, trusted_keys)
    except CafError as error:
        report.add(CAF_SIGNATURE, subject, False, _explain_caf_trust(error, trusted_keys))
    else:
        report.add(CAF_SIGNATURE, subject, True, f"FRMA verifies with IDK {caf.idk} ({_idk_label(caf.idk)})")
    _check_caf_keys(report, subject, root, unverified.public_key)
    expiry = unverified.expires_on
    if expiry is None:
        report.add(EXPIRY, subject, True, f"folios of type {unverified.document_type} do not expire")
    elif today > expiry:
        report.add(
            EXPIRY, subject, False,
            f"authorised on {unverified.authorized_on}: its unused folios expired on {expiry} "
            "(the SII voids folios of this type six months after their authorisation)",
        )
    else:
        report.add(EXPIRY, subject, True, f"usable until {expiry} ({(expiry - today).days} days left)")


def _check_caf_keys(report, subject, root, public_key):
    rsask = findtext(root, "RSASK")
    if not rsask or not rsask.strip():
        report.add(KEY_PAIR, subject, False,
                   "the file has no private key (<RSASK>): documents cannot be stamped with it "
                   "(a CAF copied out of a TED has none)")
        return
    try:
        private_key = serialization.load_pem_private_key(rsask.strip().encode("ascii"), None, default_backend())
    except (ValueError, TypeError, UnicodeEncodeError):
        report.add(KEY_PAIR, subject, False, "the private key (<RSASK>) cannot be read")
        return
    expected = public_key.public_numbers()
    if private_key.public_key().public_numbers() != expected:
        report.add(KEY_PAIR, subject, False, "the private key (RSASK) does not match the public key (RSAPK) "
                                             "the SII signed: the file was altered")
        return
    published = findtext(root, "RSAPUBK")
    if published and published.strip():
        try:
            key = serialization.load_pem_public_key(published.strip().encode("ascii"), default_backend())
        except (ValueError, TypeError, UnicodeEncodeError):
            key = None
        if key is None or key.public_numbers() != expected:
            report.add(KEY_PAIR, subject, False, "RSAPUBK is not the public key (RSAPK) the SII signed")
            return
    report.add(KEY_PAIR, subject, True, f"RSASK matches RSAPK ({expected.n.bit_length()}-bit RSA)")
