#!/usr/bin/env bash
# Runs bench/bench_odoo_reception.py (a supplier's EnvioDTE of 500 facturas turned into verified draft vendor
# bills, against posting invoices with the DTE step) on a real Odoo 18 and PostgreSQL, in a throwaway database.
#
#   ODOO_SRC=/path/to/odoo [ODOO_TEMPLATE_DB=cl_template_nodemo] bench/run_odoo_reception.sh
#
# Settings (environment):
#   ODOO_SRC          an Odoo 18.0 tree (required)
#   ODOO_PYTHON       a Python with Odoo's requirements and ours (default: $ODOO_SRC/../venv/bin/python, else python3)
#   PGHOST PGPORT PGUSER PGPASSWORD   PostgreSQL (default 127.0.0.1:5432)
#   ODOO_BENCH_DB     database to create, bench in and drop (default l10n_cl_dte_bench_reception; dropped first)
#   ODOO_TEMPLATE_DB  copy this database (l10n_cl installed) instead of installing l10n_cl from scratch
#   BENCH_KEEP_DB=1   keep the database (and print its name) instead of dropping it
#   The bench itself reads BENCH_DOCUMENTS (500), BENCH_LINES (10), BENCH_INVOICES (60), BENCH_WARMUP (3),
#   BENCH_TARGET (1.0), BENCH_SEED (13), BENCH_STEPS (100), BENCH_PROFILE (0: off): see bench/bench_odoo_reception.py.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${ODOO_BENCH_DB:-l10n_cl_dte_bench_reception}
. bench/throwaway_odoo.sh

echo "== bench (odoo-bin shell --no-http)"
odoo_bin shell --no-http --log-level=warn < bench/bench_odoo_reception.py
