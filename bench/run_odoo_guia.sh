#!/usr/bin/env bash
# Runs bench/bench_odoo_guia.py (validating a 20-line delivery with and without its guía 52) on a real
# Odoo 18 and PostgreSQL, in a throwaway database.
#
#   ODOO_SRC=/path/to/odoo [ODOO_TEMPLATE_DB=cl_template_nodemo] bench/run_odoo_guia.sh
#
# Settings: as bench/run_odoo_posting.sh (ODOO_SRC, ODOO_PYTHON, PG*, ODOO_BENCH_DB, ODOO_TEMPLATE_DB,
# BENCH_KEEP_DB); the bench reads BENCH_DELIVERIES (40), BENCH_LINES (20), BENCH_WARMUP (3), BENCH_TARGET
# (1.25), BENCH_QUICK=1.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${ODOO_BENCH_DB:-l10n_cl_dte_bench_guia}
. bench/throwaway_odoo.sh

echo "== bench (odoo-bin shell)"
odoo_bin shell --no-http --log-level=warn < bench/bench_odoo_guia.py
