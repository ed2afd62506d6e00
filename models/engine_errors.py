"""Translate the SII engine's typed errors into messages for Odoo users.

The engine (pure Python, no Odoo) raises errors with a stable ``code`` and the
``params`` of their message; here each code gets a translatable sentence that
says what to fix.
"""

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

MESSAGES = {
    "rut_invalid": _lt("%(rut)s is not a valid Chilean RUT: check its digits and verifier."),
    "rut_invalid_field": _lt("%(field)s: %(rut)s is not a valid Chilean RUT: check its digits and verifier."),
    "xml_invalid": _lt("The XML file could not be read: %(reason)s"),
    "input_file": _lt("%(path)s: cannot read this %(what)s: %(reason)s"),
    "certificate_not_pkcs12": _lt("The file is not a PKCS#12 certificate (.pfx or .p12)."),
    "certificate_wrong_password": _lt("The certificate password is wrong."),
    "certificate_no_private_key": _lt(
        "The certificate file holds no private key: export it again including its private key."
    ),
    "certificate_expired": _lt("The certificate expired on %(not_after)s: upload a valid one."),
    "certificate_not_yet_valid": _lt("The certificate is valid only from %(not_before)s."),
    "certificate_not_rsa": _lt(
        "The certificate's key is %(kind)s: the SII's signatures need an RSA key. Ask the certification "
        "authority for a certificate with an RSA key."
    ),
    "certificate_no_rut": _lt(
        "The certificate does not name its holder's RUT: it is not a certificate for the SII."
    ),
    "caf_malformed": _lt("The CAF file is malformed: %(reason)s"),
    "caf_not_a_caf": _lt("The file is not a CAF issued by the SII (its root element is <%(root)s>)."),
    "caf_untrusted_key": _lt(
        "The CAF is signed with SII key IDK %(idk)s, which is not the key of this company's SII environment: "
        "check that the CAF was requested in the environment the company uses."
    ),
    "caf_tampered": _lt(
        "The CAF signature does not verify with the SII key IDK %(idk)s: the file was altered or not issued by the SII."
    ),
    "caf_trusted_key_invalid": _lt("The SII key %(source)s cannot be trusted: %(reason)s"),
    "caf_key_mismatch": _lt("The CAF's private key does not match its public key: the file was altered."),
    "folio_out_of_range": _lt("Folio %(folio)s is outside the CAF range %(first)s-%(last)s."),
    "caf_mismatch": _lt(
        "The CAF is for RUT %(caf_rut)s and document type %(caf_type)s, not for RUT %(rut)s and type %(doc_type)s."
    ),
    "document_invalid": _lt("The electronic document cannot be issued: %(reason)s"),
    "document_field_invalid": _lt("The electronic document cannot be issued: %(field)s: %(reason)s"),
    "document_field_missing": _lt("The electronic document cannot be issued: it needs %(field)s: %(reason)s"),
    "document_field_value": _lt("The electronic document cannot be issued: %(field)s cannot be %(value)s: %(reason)s"),
    "amount_invalid": _lt(
        "The electronic document cannot be issued: %(field)s: %(value)s is not an amount the SII accepts (%(reason)s)."
    ),
    "schema_invalid": _lt("The electronic document does not follow the SII schema: %(errors)s"),
    "signature": _lt("The document could not be signed: %(reason)s"),
    "signature_invalid": _lt("The signature does not verify: %(reason)s"),
    "signature_outside_profile": _lt(
        "The signature is outside the SII's signature profile and was not processed: %(reason)s"
    ),
    "envelope_invalid": _lt("The envelope cannot be built: %(reason)s"),
    "sii_unavailable": _lt(
        "The SII service %(service)s gave no usable answer after %(attempts)s attempt(s): %(reason)s"
    ),
    "sii_upload_outcome_unknown": _lt(
        "The envelope was sent but the SII's answer was lost: its documents are checked with the SII "
        "before anything is sent again."
    ),
    "sii_upload_rejected": _lt("The SII refused the envelope %(file_name)s: STATUS %(status)s (%(meaning)s)%(detail)s"),
    "sii_upload_already_received": _lt("The SII already holds this envelope: its status is checked instead."),
    "sii_authentication": _lt("The SII refused the authentication at %(service)s: %(status)s (%(glosa)s)"),
    "sii_token_rejected": _lt("The SII refused the session even after a new one: %(status)s (%(glosa)s)"),
    "sii_token_invalid": _lt("The SII does not accept the session at %(service)s: %(status)s (%(glosa)s)"),
    "set_file_invalid": _lt("Set de pruebas, line %(line)s: %(reason)s"),
    "sii_status_query": _lt("The SII refused the status query at %(service)s: %(status)s (%(glosa)s)"),
}


def engine_error_message(env, error):
    """A translated message for an engine error, falling back to the engine's own text."""
    code = getattr(error, "code", None)
    if code == "rut_invalid" and "field" in getattr(error, "params", {}):
        code = "rut_invalid_field"  # the engine names the field of a wrong RUT: so does the message
    message = MESSAGES.get(code)
    if message is None:
        return str(error)
    try:
        return message._translate(env.lang or "en_US") % dict(error.params)
    except (KeyError, TypeError, ValueError):
        return str(error)
