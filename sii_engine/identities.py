"""Stand-in identities for tests, the SII simulator and the demo.

* :class:`TestAuthority` plays the SII: it has its own RSA key under an IDK the
  real SII never uses, and issues CAF files signed with it. Such CAFs verify
  only where that key is trusted (the simulator environment), never with the
  SII's certification or production keys.
* :func:`make_pkcs12` makes a self-signed signing certificate carrying a RUT
  in the SubjectAltName as Chilean CAs do.

Nothing here is a real person's or company's key.
"""

import base64
import datetime
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree

from . import rut as rut_module
from .certificate import RUT_OID, rut_other_name_value
from .xmlutil import clean_text, flatten

TEST_IDK = 9999


def _b64_int(value):
    return base64.b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).decode("ascii")


@dataclass
class TestAuthority:
    """A stand-in for the SII's CAF-signing authority."""

    __test__ = False  # not a pytest test class

    idk: int = TEST_IDK
    private_key: rsa.RSAPrivateKey = field(default=None, repr=False)

    def __post_init__(self):
        if self.private_key is None:
            self.private_key = rsa.generate_private_key(65537, 1024, default_backend())

    @property
    def public_key(self):
        return self.private_key.public_key()

    @property
    def public_key_pem(self):
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def private_key_pem(self):
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @classmethod
    def from_private_key_pem(cls, pem, idk=TEST_IDK):
        return cls(idk=idk, private_key=serialization.load_pem_private_key(pem, None, default_backend()))

    def trusted_keys(self):
        """The mapping :func:`sii_engine.caf.load_caf` takes as ``trusted_keys``."""
        return {self.idk: self.public_key}

    def issue_caf(self, rut, company_name, document_type, first, last, authorized_on=None, caf_key=None):
        """Return the bytes of a CAF file as the SII hands them out (ISO-8859-1, no encoding declared)."""
        authorized_on = authorized_on or datetime.date.today()
        caf_key = caf_key or rsa.generate_private_key(3, 512, default_backend())
        numbers = caf_key.public_key().public_numbers()

        root = etree.Element("AUTORIZACION")
        caf = etree.SubElement(root, "CAF", version="1.0")
        da = etree.SubElement(caf, "DA")
        for tag, text in (
            ("RE", rut_module.normalize(rut)),
            ("RS", clean_text(company_name, 40)),
            ("TD", str(int(document_type))),
        ):
            etree.SubElement(da, tag).text = text
        rng = etree.SubElement(da, "RNG")
        etree.SubElement(rng, "D").text = str(first)
        etree.SubElement(rng, "H").text = str(last)
        etree.SubElement(da, "FA").text = authorized_on.isoformat()
        rsapk = etree.SubElement(da, "RSAPK")
        etree.SubElement(rsapk, "M").text = _b64_int(numbers.n)
        etree.SubElement(rsapk, "E").text = _b64_int(numbers.e)
        etree.SubElement(da, "IDK").text = str(self.idk)
        signature = self.private_key.sign(flatten(da), padding.PKCS1v15(), hashes.SHA1())
        etree.SubElement(caf, "FRMA", algoritmo="SHA1withRSA").text = base64.b64encode(signature).decode()
        private_pem = caf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public_pem = caf_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        etree.SubElement(root, "RSASK").text = private_pem.decode("ascii")
        etree.SubElement(root, "RSAPUBK").text = public_pem.decode("ascii")
        etree.indent(root, space="")
        return b'<?xml version="1.0"?>\n' + etree.tostring(root, encoding="ISO-8859-1", xml_declaration=False)


def make_pkcs12(
    rut,
    name,
    password="test",
    not_before=None,
    valid_days=365,
    with_rut=True,
    key_size=2048,
    private_key=None,
):
    """Return the bytes of a self-signed PKCS#12 signing certificate for ``rut``."""
    private_key = private_key or rsa.generate_private_key(65537, key_size, default_backend())
    not_before = not_before or (datetime.datetime.utcnow() - datetime.timedelta(days=1))
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CL"),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + datetime.timedelta(days=valid_days))
    )
    if with_rut:
        other_name = x509.OtherName(RUT_OID, rut_other_name_value(rut_module.normalize(rut)))
        builder = builder.add_extension(x509.SubjectAlternativeName([other_name]), critical=False)
    certificate = builder.sign(private_key, hashes.SHA256(), default_backend())
    encryption = (
        serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"signer", private_key, certificate, None, encryption)


def make_certificate_only_pkcs12(rut, name, password="test"):
    """A PKCS#12 that holds a certificate but no private key (a common export mistake)."""
    private_key = rsa.generate_private_key(65537, 1024, default_backend())
    full = pkcs12.load_key_and_certificates(make_pkcs12(rut, name, password, private_key=private_key), password.encode())
    return pkcs12.serialize_key_and_certificates(
        None, None, None, [full[1]], serialization.BestAvailableEncryption(password.encode())
    )
