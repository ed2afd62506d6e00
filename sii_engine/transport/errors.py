"""Typed errors of the SII transport.

Each error has a stable ``code`` and the ``params`` its message was built from
(see :class:`sii_engine.errors.SiiEngineError`). What a caller does with them:

* :class:`SiiUnavailable` — the SII could not be reached or gave no usable
  answer, even after the retries. Nothing was decided: try later. For an
  upload it is raised only when the envelope certainly did not reach the SII
  (connection refused, 429/503 answers).
* :class:`UploadOutcomeUnknown` — the envelope was sent but no readable answer
  came back (timeout or reset after sending, 5xx, HTML...). The SII may hold
  it: **do not send it again**; check the documents' status first.
* :class:`UploadRejected` — the SII answered the upload with a STATUS other
  than 0 (or the boleta API refused it): it did not take the envelope.
* :class:`AuthenticationError` — getting a seed or a token failed with an SII
  answer (bad signature, unknown certificate...).
* :class:`TokenRejected` — the SII refused the token even after one renewal.
* :class:`StatusQueryError` — the SII answered a status query with an error
  about the query itself (unknown track id, user not authorised...).
"""

from ..errors import SiiEngineError


class TransportError(SiiEngineError):
    """Base of every error of the SII transport."""

    code = "sii_transport"
    template = "The SII service failed"
    #: True when repeating the same call later may succeed.
    transient = False


class SiiUnavailable(TransportError):
    code = "sii_unavailable"
    template = "The SII service {service} at {url} gave no usable answer after {attempts} attempt(s): {reason}"
    transient = True


class UploadOutcomeUnknown(TransportError):
    code = "sii_upload_outcome_unknown"
    template = (
        "The envelope {file_name} was sent to {url} but no readable answer came back ({reason}): "
        "the SII may have received it. Do not send it again before checking the documents' status."
    )
    transient = False


class UploadRejected(TransportError):
    code = "sii_upload_rejected"
    template = "The SII refused the envelope {file_name}: STATUS {status} ({meaning}){detail}"

    def __init__(self, status, meaning, file_name, errors=(), transient=False, **params):
        self.status = str(status)
        self.meaning = meaning
        self.errors = tuple(errors)
        self.transient = transient
        detail = (": " + "; ".join(self.errors)) if self.errors else ""
        super().__init__(status=self.status, meaning=meaning, file_name=file_name, detail=detail, **params)


class UploadAlreadyReceived(UploadRejected):
    """STATUS 99: the SII already holds this very file; look up the first upload's status."""

    code = "sii_upload_already_received"


class AuthenticationError(TransportError):
    code = "sii_authentication"
    template = "The SII refused the authentication at {service}: ESTADO {status} ({glosa})"


class TokenRejected(TransportError):
    code = "sii_token_rejected"
    template = "The SII refused the token at {service} even after getting a new one: {status} ({glosa})"


class StatusQueryError(TransportError):
    code = "sii_status_query"
    template = "The SII refused the status query at {service}: {status} ({glosa})"


class TokenInvalid(TransportError):
    """Internal signal: the SII says the token is unknown or expired (renew once, then TokenRejected)."""

    code = "sii_token_invalid"
    template = "The SII does not accept the token at {service}: {status} ({glosa})"

    def __init__(self, service, status, glosa, final_error=None):
        #: What to raise if a new token does not help either (default: TokenRejected).
        self.final_error = final_error
        super().__init__(service=service, status=status, glosa=glosa)

    def give_up(self):
        return self.final_error or TokenRejected(**self.params)


class RetryableFault(TransportError):
    """Internal signal for the retry loop: a transport fault worth another attempt.

    ``sent`` tells whether the request may have reached the server (a timeout
    or reset after the request was written): that decides, for an upload,
    between retrying and :class:`UploadOutcomeUnknown`. ``retry_after`` is the
    delay the server asked for (Retry-After), in seconds.
    """

    code = "sii_transport_fault"
    template = "{reason}"
    transient = True

    def __init__(self, reason, *, sent=True, retry_after=None, status_code=None):
        self.reason = reason
        self.sent = sent
        self.retry_after = retry_after
        self.status_code = status_code
        super().__init__(reason=reason)


class AnswerUnreadable(RetryableFault):
    """An answer that is not what the SII service sends (HTML page, plain text, broken XML, missing fields)."""

    code = "sii_answer_unreadable"
