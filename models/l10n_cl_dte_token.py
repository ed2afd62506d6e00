import logging
from contextlib import contextmanager

import psycopg2

from odoo import fields, models, modules
from odoo.tools import SQL

from ..sii_engine.transport.tokens import CachedToken, TokenCache

_logger = logging.getLogger(__name__)


class L10nClDteToken(models.Model):
    """SII session tokens kept between cron runs and workers.

    Keyed by environment, service family, company RUT and certificate
    fingerprint (never the certificate itself). Only the server reads this
    table, as superuser.
    """

    _name = "l10n_cl_dte.token"
    _description = "SII Session Token"
    _log_access = False

    key = fields.Char(required=True, index=True)
    token = fields.Char(required=True)
    issued_at = fields.Float(required=True)
    expires_at = fields.Float(required=True)

    _sql_constraints = [("key_unique", "unique(key)", "One token per key.")]


class DatabaseTokenCache(TokenCache):
    """The engine's token cache over :class:`L10nClDteToken`.

    Each read and write is a short transaction of its own, so a cron holding
    its documents locked through an upload never collides with another worker
    over a token; two workers renewing at once both keep the token in hand.
    """

    def __init__(self, env):
        self.env = env

    @contextmanager
    def _cursor(self):
        if modules.module.current_test:
            # Tests run in one transaction that must not be committed: a savepoint keeps a
            # refused write from aborting it.
            with self.env.cr.savepoint(flush=False):
                yield self.env.cr
            return
        with self.env.registry.cursor() as cr:
            yield cr

    def get(self, key):
        with self._cursor() as cr:
            cr.execute(SQL("SELECT token, issued_at, expires_at FROM l10n_cl_dte_token WHERE key = %s", str(key)))
            row = cr.fetchone()
        return CachedToken(*row) if row else None

    def set(self, key, cached):
        try:
            with self._cursor() as cr:
                self._write(cr, key, cached)
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.UniqueViolation):
            # Another worker stored or dropped a token of this key meanwhile: its token is as good.
            _logger.info("SII token of %s stored by another worker meanwhile", key.environment)

    @staticmethod
    def _write(cr, key, cached):
        if cached is None:
            cr.execute(SQL("DELETE FROM l10n_cl_dte_token WHERE key = %s", str(key)), log_exceptions=False)
            return
        cr.execute(
            SQL(
                """
                INSERT INTO l10n_cl_dte_token (key, token, issued_at, expires_at) VALUES (%s, %s, %s, %s)
                ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, issued_at = EXCLUDED.issued_at,
                                                expires_at = EXCLUDED.expires_at
                """,
                str(key), cached.token, cached.issued_at, cached.expires_at,
            ),
            log_exceptions=False,  # a concurrent renewal is expected and handled by the caller
        )
