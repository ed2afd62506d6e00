"""The SII engine: Chilean electronic tax documents without Odoo.

RUT, certificates, CAF, TED, DTE XML, XMLDSig, envelopes, schemas, barcodes,
the SII transport and a local SII simulator. Nothing here imports ``odoo``:
the addon's models call it, and so can any Python program (see ``cli``).
"""

__version__ = "1.0.0"
