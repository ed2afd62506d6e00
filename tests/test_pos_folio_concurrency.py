import threading

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..sii_engine import identities
from .committed_company import (
    CommittedRowsCase,
    archive_committed_company,
    create_chilean_company,
    open_tills,
    paid_order_data,
)

ORDERS_PER_TILL = 8
WORKER_TIMEOUT = 120


@tagged("post_install", "-at_install")
class TestPosFolioConcurrency(CommittedRowsCase):
    """Two tills synchronising paid orders at once, each request in its own transaction (as two Odoo
    workers serve them), never stamp two boletas with one folio and lose no sale."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.authority = identities.TestAuthority()
        cls.addClassCleanup(cls._remove_committed_rows)
        cls.created = {}
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            parameters = env["ir.config_parameter"]
            cls.created["previous_key"] = parameters.get_param("l10n_cl_dte.simulator_sii_public_key")
            cls.created["previous_idk"] = parameters.get_param("l10n_cl_dte.simulator_sii_idk")
            parameters.set_param("l10n_cl_dte.simulator_sii_public_key", cls.authority.public_key_pem.decode())
            parameters.set_param("l10n_cl_dte.simulator_sii_idk", str(cls.authority.idk))
            cr.commit()
            cls.refs = create_chilean_company(env, cls.authority, "POS Concurrency Co", caf_types=(39,))
            cls.created["company"] = cls.refs["company"]
            cls.sessions = open_tills(env, cls.refs, ("Caja 1", "Caja 2"))
            cr.commit()


    @classmethod
    def _remove_committed_rows(cls):
        with cls.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            parameters = env["ir.config_parameter"]
            if "previous_key" in cls.created:
                parameters.set_param("l10n_cl_dte.simulator_sii_public_key", cls.created["previous_key"] or False)
                parameters.set_param("l10n_cl_dte.simulator_sii_idk", cls.created["previous_idk"] or False)
            if company_id := cls.created.get("company"):
                archive_committed_company(env, company_id)
            cr.commit()

    def till(self, session_id, pricelist_id, method_id, results, errors):
        """One till: each order is one request, committed; a serialization failure is retried as Odoo does."""
        try:
            with self.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.refs["company"]]})
                for index in range(ORDERS_PER_TILL):
                    data = paid_order_data(self.refs, (session_id, pricelist_id, method_id), index, SUPERUSER_ID)
                    for _attempt in range(10):
                        try:
                            with mute_logger("odoo.sql_db"):
                                answer = env["pos.order"].sync_from_ui([dict(data)])
                            cr.commit()
                            results.append(answer["pos.order"][0]["id"])
                            break
                        except psycopg2.errors.SerializationFailure:
                            cr.rollback()
                            env.invalidate_all()
                            results.append("retried")
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(repr(error))

    def test_two_tills_syncing_at_once_never_share_a_folio(self):
        results, errors = [], []
        tills = [threading.Thread(target=self.till, args=(*session, results, errors)) for session in self.sessions]
        for till in tills:
            till.start()
        for till in tills:
            till.join(WORKER_TIMEOUT)
        self.assertFalse(errors)
        order_ids = [result for result in results if result != "retried"]
        self.assertEqual(len(order_ids), 2 * ORDERS_PER_TILL, "every sale is kept")
        with self.cursor() as cr:
            cr.execute(
                "SELECT session_id, l10n_cl_dte_folio, l10n_cl_dte_status FROM pos_order WHERE id IN %s",
                (tuple(order_ids),),
            )
            rows = cr.fetchall()
        folios = sorted(row[1] for row in rows)
        self.assertEqual(folios, list(range(1, 2 * ORDERS_PER_TILL + 1)), "one folio each, none skipped or shared")
        self.assertEqual({row[2] for row in rows}, {"to_send"})
        self.assertEqual(len({row[0] for row in rows}), 2, "both tills sold")
