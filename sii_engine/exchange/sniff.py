"""What a received file is, from its root element: the inbox's first question.

:func:`sniff` parses the bytes once, safely (:func:`sii_engine.xmlutil.parse`),
and hands the parsed root on with its verdict, so the reader that follows
(:func:`sii_engine.verify.verify_element` for an EnvioDTE,
:func:`~.read.read_answer`, :func:`~.read.read_receipts`) does not parse again.
"""

from .. import rut as rut_module
from ..errors import RutError, XmlInputError
from ..xmlutil import MAX_INPUT_BYTES, findtext, local, parse
from .models import Sniffed

ENVIO_DTE = "EnvioDTE"  # DTEs from a supplier
RESPUESTA_DTE = "RespuestaDTE"  # a customer's reception or commercial answer to our DTEs
ENVIO_RECIBOS = "EnvioRecibos"  # a customer's receipt of goods (Ley 19.983)
UNRECOGNISED = "unrecognised"

_KINDS = (ENVIO_DTE, RESPUESTA_DTE, ENVIO_RECIBOS)
# Where each kind names its sender and its addressee (the company whose inbox it belongs to).
_COVER = {
    ENVIO_DTE: ("SetDTE/Caratula", "RutEmisor", "RutReceptor"),
    RESPUESTA_DTE: ("Resultado/Caratula", "RutResponde", "RutRecibe"),
    ENVIO_RECIBOS: ("SetRecibos/Caratula", "RutResponde", "RutRecibe"),
}


def sniff(data, *, max_bytes=MAX_INPUT_BYTES):
    """A :class:`~.models.Sniffed`: ``kind`` and, when the bytes are XML, the parsed ``root``.

    Never raises for what the bytes hold: unreadable, refused (DOCTYPE,
    entities, too large) or another root all come back ``UNRECOGNISED`` with
    the ``reason``.
    """
    try:
        root = parse(data, max_bytes=max_bytes)
    except XmlInputError as error:
        return Sniffed(kind=UNRECOGNISED, reason=str(error))
    tag = local(root.tag)
    if tag in _KINDS:
        cover, sender, addressee = _COVER[tag]
        return Sniffed(kind=tag, root=root, root_tag=tag, sender_rut=_rut(root, f"{cover}/{sender}"),
                       addressee_rut=_rut(root, f"{cover}/{addressee}"))
    return Sniffed(kind=UNRECOGNISED, root=root, root_tag=tag, reason=f"the root element is <{tag}>")


def _rut(root, path):
    try:
        return rut_module.normalize(findtext(root, path))
    except RutError:
        return None
