from odoo import fields, models

from ..sii_engine.transport.tokens import CachedToken, TokenCache


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
    """The engine's token cache over :class:`L10nClDteToken`, on the caller's cursor."""

    def __init__(self, env):
        self.env = env

    def get(self, key):
        self.env.cr.execute(
            "SELECT token, issued_at, expires_at FROM l10n_cl_dte_token WHERE key = %s", (str(key),)
        )
        row = self.env.cr.fetchone()
        return CachedToken(*row) if row else None

    def set(self, key, cached):
        if cached is None:
            self.env.cr.execute("DELETE FROM l10n_cl_dte_token WHERE key = %s", (str(key),))
            return
        # Two workers may authenticate at once: the last token written wins, both stay valid.
        self.env.cr.execute(
            """
            INSERT INTO l10n_cl_dte_token (key, token, issued_at, expires_at) VALUES (%s, %s, %s, %s)
            ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, issued_at = EXCLUDED.issued_at,
                                            expires_at = EXCLUDED.expires_at
            """,
            (str(key), cached.token, cached.issued_at, cached.expires_at),
        )
