"""XML attachments of incoming e-mail, kept byte for byte for the DTE inbox.

Odoo's gateway decodes a ``text/*`` attachment into text, assuming UTF-8 when
the part names no charset. A DTE is ISO-8859-1: decoded that way its accented
letters are lost and its signatures no longer verify, the most common reason
an inbox "does not process the XML". The exact bytes of every XML attachment
are kept in the attachment's ``info`` (``l10n_cl_dte_raw``); nothing else
changes for other modules.
"""

from odoo import models

RAW_KEY = "l10n_cl_dte_raw"


def is_xml_part(part):
    name = (part.get_filename() or "").lower()
    return name.endswith(".xml") or part.get_content_type() in ("text/xml", "application/xml")


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    def _message_parse_extract_payload(self, message, message_dict, save_original=False):
        result = super()._message_parse_extract_payload(message, message_dict, save_original=save_original)
        if message.get_content_maintype() != "multipart":
            return result
        raw_by_name = {}
        for part in message.walk():
            if part.get_content_maintype() != "multipart" and part.get_filename() and is_xml_part(part):
                raw_by_name.setdefault(part.get_filename(), []).append(part.get_payload(decode=True))
        for attachment in result["attachments"]:
            queue = raw_by_name.get(attachment.fname)
            if queue and isinstance(attachment.info, dict):
                attachment.info[RAW_KEY] = queue.pop(0)
        return result
