"""Identities that are the same on every run, for the golden-file tests.

The golden tests compare the whole DTE with a file: the keys inside it (the
CAF's RSAPK, the signer's RSAKeyValue) must not change from one run to the
next. The keys are *derived* from a seed here, every run, rather than stored:
no private key is committed, and none of them is anyone's real key.
"""

import datetime
import random

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives.asymmetric import rsa

from ..sii_engine import identities

_SMALL_PRIMES = [p for p in range(3, 2000, 2) if all(p % d for d in range(3, int(p ** 0.5) + 1, 2))]


def _is_probable_prime(number, rng, rounds=40):
    if any(number % prime == 0 for prime in _SMALL_PRIMES):
        return number in _SMALL_PRIMES
    odd, twos = number - 1, 0
    while odd % 2 == 0:
        odd, twos = odd // 2, twos + 1
    for _round in range(rounds):
        witness = pow(rng.randrange(2, number - 1), odd, number)
        if witness in (1, number - 1):
            continue
        for _square in range(twos - 1):
            witness = pow(witness, 2, number)
            if witness == number - 1:
                break
        else:
            return False
    return True


def seeded_rsa_key(seed, bits, exponent=65537):
    """The RSA key of ``bits`` bits that ``seed`` always gives."""
    rng = random.Random(f"l10n_cl_dte {seed} {bits} {exponent}")

    def prime():
        while True:
            candidate = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            if candidate % exponent != 1 and _is_probable_prime(candidate, rng):
                return candidate

    p, q = prime(), prime()
    private = pow(exponent, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p, q=q, d=private, dmp1=private % (p - 1), dmq1=private % (q - 1), iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(exponent, p * q),
    )
    return numbers.private_key(default_backend())


def fixed_authority():
    """The stand-in SII (IDK 9999) with the same key on every run."""
    return identities.TestAuthority(private_key=seeded_rsa_key("stand-in SII", 1024))


def fixed_caf(authority, rut, company_name, document_type, first, last, authorized_on):
    """A CAF whose key and FRMA are the same on every run (CAF keys are RSA-512, exponent 3)."""
    return authority.issue_caf(
        rut, company_name, document_type, first, last, authorized_on=authorized_on,
        caf_key=seeded_rsa_key(f"CAF {document_type}", 512, exponent=3),
    )


def fixed_pkcs12(rut, name, password):
    """A signing certificate with the same key on every run (its serial number still changes)."""
    return identities.make_pkcs12(
        rut, name, password, private_key=seeded_rsa_key(f"signer {rut}", 2048),
        not_before=datetime.datetime(2026, 1, 1), valid_days=3650,
    )
