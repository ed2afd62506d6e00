"""``POST /cgi_dte/UPL/DTEUpload``: the EnvioDTE upload and its RECEPCIONDTE answer.

Answer shape (tests/fixtures/sii_responses/06 and 07): RUTSENDER, RUTCOMPANY,
FILE, TIMESTAMP, STATUS, then TRACKID when STATUS is 0, or DETAIL/ERROR lines
for STATUS 7 and 8.
"""

from xml.sax.saxutils import escape

from . import codes, sii_time
from .http import text_response, xml_response
from .upload import receive

REALM = "soap"
KIND = "EnvioDTE"


def handle(simulator, request):
    if request.method != "POST":
        return text_response("Method Not Allowed", status=405)
    outcome = receive(simulator, request, realm=REALM, kind=KIND, forced_status=request.forced_upload_status)
    return xml_response(recepcion_xml(outcome))


def recepcion_xml(outcome):
    lines = [
        '<?xml version="1.0" ?>',
        "<RECEPCIONDTE>",
        f"<RUTSENDER>{escape(outcome.sender_rut or '')}</RUTSENDER>",
        f"<RUTCOMPANY>{escape(outcome.company_rut or '')}</RUTCOMPANY>",
        f"<FILE>{escape(outcome.file_name)}</FILE>",
        f"<TIMESTAMP>{sii_time.local(outcome.timestamp).strftime('%Y-%m-%d %H:%M:%S')}</TIMESTAMP>",
        f"<STATUS>{outcome.status}</STATUS>",
    ]
    if outcome.status == codes.UPLOAD_OK:
        lines.append(f"<TRACKID>{outcome.track_id}</TRACKID>")
    elif outcome.errors and outcome.status in (codes.UPLOAD_SCHEMA, codes.UPLOAD_SIGNATURE):
        lines.append("<DETAIL>")
        lines += [f"<ERROR>{escape(error)}</ERROR>" for error in outcome.errors]
        lines.append("</DETAIL>")
    lines.append("</RECEPCIONDTE>")
    return "\n".join(lines) + "\n"
