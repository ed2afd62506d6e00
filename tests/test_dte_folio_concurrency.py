import base64
import threading
import time
import uuid

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..sii_engine import identities
from .committed_company import CommittedRowsCase
from .common import TestClDteCommon

RUT = "76192083-9"


@tagged("post_install", "-at_install")
class TestFolioConcurrency(CommittedRowsCase):
    """Two workers posting at once, each in its own database transaction, never share a folio.

    The test commits real rows through separate connections (as two Odoo
    workers would) and removes them afterwards.
    """

    def setUp(self):
        super().setUp()
        authority = identities.TestAuthority()
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.company = env["res.company"].create({
                "name": f"Concurrency Co {uuid.uuid4().hex[:8]}", "vat": RUT, "country_id": env.ref("base.cl").id,
                "l10n_cl_dte_environment": "simulator",
            })
            parameters = env["ir.config_parameter"]
            self.previous_key = parameters.get_param("l10n_cl_dte.simulator_sii_public_key")
            self.previous_idk = parameters.get_param("l10n_cl_dte.simulator_sii_idk")
            parameters.set_param("l10n_cl_dte.simulator_sii_public_key", authority.public_key_pem.decode())
            parameters.set_param("l10n_cl_dte.simulator_sii_idk", str(authority.idk))
            self.caf = env["l10n_cl_dte.caf"].create({
                "company_id": self.company.id,
                "file": base64.b64encode(authority.issue_caf(RUT, "Concurrency Co", 33, 1, 100)),
            })
            self.document_type_id = env.ref("l10n_cl.dc_a_f_dte").id
            self.company_id, self.caf_id = self.company.id, self.caf.id
            cr.commit()
        self.addCleanup(self._remove_committed_rows)


    def _remove_committed_rows(self):
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["l10n_cl_dte.caf"].browse(self.caf_id).active = False  # it issued folios: kept
            parameters = env["ir.config_parameter"]
            parameters.set_param("l10n_cl_dte.simulator_sii_public_key", self.previous_key or False)
            parameters.set_param("l10n_cl_dte.simulator_sii_idk", self.previous_idk or False)
            env["res.company"].browse(self.company_id).active = False
            cr.commit()

    def _take_folio_in_own_transaction(self, results, hold_seconds):
        """What one worker's posting does: reserve a folio, keep the transaction open a while,
        commit; on a serialization failure, roll back and start over, as Odoo retries a request."""
        with self.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(self.company_id)
            document_type = env["l10n_latam.document.type"].browse(self.document_type_id)
            for _attempt in range(5):
                try:
                    with mute_logger("odoo.sql_db"):
                        _caf, folio = env["l10n_cl_dte.caf"]._l10n_cl_dte_take_folio(company, document_type)
                    time.sleep(hold_seconds)
                    cr.commit()
                    results.append(folio)
                    return
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()
                    env.invalidate_all()
                    results.append("retried")

    def test_two_workers_never_get_the_same_folio(self):
        results = []
        workers = [
            threading.Thread(target=self._take_folio_in_own_transaction, args=(results, 0.5)),
            threading.Thread(target=self._take_folio_in_own_transaction, args=(results, 0.0)),
        ]
        workers[0].start()
        time.sleep(0.1)  # the first worker holds the CAF row when the second arrives
        workers[1].start()
        for worker in workers:
            worker.join(30)
        self.assertEqual(sorted(r for r in results if r != "retried"), [1, 2])
        self.assertIn("retried", results, "the second worker must have waited for the first one's row lock")
        with self.cursor() as cr:
            cr.execute("SELECT next_folio FROM l10n_cl_dte_caf WHERE id = %s", (self.caf_id,))
            self.assertEqual(cr.fetchone()[0], 3)


@tagged("post_install", "-at_install")
class TestFolioUniqueInDatabase(TestClDteCommon):
    """Whatever path writes a folio, the database refuses a second document with it."""

    def test_database_refuses_a_folio_issued_twice(self):
        first, second = self.make_invoice(), self.make_invoice()
        self.env.flush_all()
        # Both rows are complete, valid invoices: the only thing wrong with the write is the shared folio.
        with self.assertRaises(psycopg2.errors.UniqueViolation) as caught, mute_logger("odoo.sql_db"), \
                self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE account_move SET l10n_cl_dte_folio = 999999 WHERE id IN %s", [(first.id, second.id)]
            )
        self.assertEqual(caught.exception.diag.constraint_name, "account_move_l10n_cl_dte_folio_unique")
        # The same folio on another document type is another document: accepted.
        second.l10n_latam_document_type_id = self.doc_34
        self.env.flush_all()
        self.env.cr.execute("UPDATE account_move SET l10n_cl_dte_folio = 999999 WHERE id IN %s", [(first.id, second.id)])
