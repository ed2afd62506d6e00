"""Issue 14 benchmark: what issuing its guía (52) adds to validating a delivery.

Run it through ``odoo-bin shell`` (stdin) in a throwaway database with l10n_cl_dte installed;
bench/run_odoo_guia.sh does all of that. Everything happens in one transaction, rolled back at the end.

One Chilean company set up as the tests do (bench/odoo_harness.py) with a CAF of type 52. BENCH_DELIVERIES
deliveries of BENCH_LINES lines each (20 by default) are validated one by one with ``button_validate`` as the
administrator, in two modes alternating in ABBA order:

* guía: the delivery type issues guías (valued at the products' prices) and the company issues DTEs:
  validating takes a folio, builds, stamps, signs and schema-validates the guía and stores its XML;
* baseline: the same delivery, the company without DTE settings and the type issuing no guía.

The record cache is emptied before each validation (each is a new request); the timing covers
``button_validate`` and ``cr.flush()``. It prints the medians and the ratio guía/baseline against BENCH_TARGET.
"""

import os
import sys

from odoo import Command
from odoo.addons.l10n_cl_dte.bench import odoo_harness as harness
from odoo.addons.l10n_cl_dte.bench.odoo_harness import log, ms
from odoo.addons.l10n_cl_dte.sii_engine import identities

env = globals().get("env")
if env is None:
    sys.exit("Run this through odoo-bin shell with a database: bench/run_odoo_guia.sh")

N_DELIVERIES = harness.setting("BENCH_DELIVERIES", 40, quick=6)
N_LINES = harness.setting("BENCH_LINES", 20)
WARMUP = harness.setting("BENCH_WARMUP", 3, quick=1)
TARGET = float(os.environ.get("BENCH_TARGET", "1.25"))

harness.banner(env, "guía bench", f", {N_DELIVERIES} deliveries of {N_LINES} lines per mode")
authority = identities.TestAuthority()
company, vat = harness.bench_company(env, authority, "Guías Bench SpA", {52: 2 * (N_DELIVERIES + WARMUP) + 10})
admin = env.ref("base.user_admin")
env = env(user=admin, context=dict(env.context, allowed_company_ids=[company.id]))
customers = harness.chilean_customers(env, 7, "Guia")
products = env["product.product"].create([
    {"name": f"Producto {index:02d}", "is_storable": True, "lst_price": 1000.0 + 37 * index,
     "default_code": f"P{index:03d}", "taxes_id": [Command.set(vat.ids)]}
    for index in range(N_LINES)
])
warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1) or env["stock.warehouse"].create(
    {"name": "Bodega Bench", "code": "BNCH", "company_id": company.id})
out_type = warehouse.out_type_id
stock_location = warehouse.lot_stock_id
customers_location = env.ref("stock.stock_location_customers")


def delivery(index):
    picking = env["stock.picking"].create({
        "picking_type_id": out_type.id,
        "partner_id": customers[index % len(customers)].id,
        "location_id": stock_location.id,
        "location_dest_id": customers_location.id,
        "move_ids": [Command.create({
            "name": product.name, "product_id": product.id, "product_uom_qty": 1 + line % 4,
            "product_uom": product.uom_id.id, "location_id": stock_location.id,
            "location_dest_id": customers_location.id,
        }) for line, product in enumerate(products)],
    })
    picking.action_confirm()
    for move in picking.move_ids:
        move.quantity = move.product_uom_qty
    picking.move_ids.picked = True
    env.flush_all()
    return picking


def set_mode(mode):
    harness.set_electronic_documents(env, company, mode == "guia")
    out_type.write({"l10n_cl_dte_guia": mode == "guia", "l10n_cl_dte_valuation": "product"})
    env.flush_all()


def validate(mode, index):
    set_mode(mode)
    picking = delivery(index)
    env.invalidate_all()
    with harness.Measure() as measure:
        result = picking.button_validate()
        env.cr.flush()
    assert result is True and picking.state == "done"
    assert bool(picking.l10n_cl_dte_folio) == (mode == "guia")
    return measure


harness.start_sql_counters()
for index in range(WARMUP):
    validate("guia", index)
    validate("baseline", index)
samples = {"guia": harness.Sample(), "baseline": harness.Sample()}
for index, mode in enumerate(harness.abba(N_DELIVERIES, "guia", "baseline")):
    samples[mode].add_measure(validate(mode, index))
env.cr.rollback()

for mode, sample in samples.items():
    log(f"{mode:>9}: median {ms(sample.median()):.1f} ms, mean {ms(sample.mean()):.1f} ms, "
        f"p90 {ms(sample.quantile(90)):.1f} ms per delivery of {N_LINES} lines ({sample.count} deliveries)")
ratio = samples["guia"].median() / samples["baseline"].median()
log(f"ratio guía/baseline (medians): {ratio:.2f} (target <= {TARGET:.2f}): {'OK' if ratio <= TARGET else 'MISSED'}")
