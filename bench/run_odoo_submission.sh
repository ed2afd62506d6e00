#!/usr/bin/env bash
# Runs bench/bench_odoo_submission.py (2,000 posted invoices sent and polled to accepted by the scheduled
# actions, against the SII simulator started in the same process) on a real Odoo 18 and PostgreSQL, in a
# throwaway database that is dropped at the end.
#
#   ODOO_SRC=/path/to/odoo [ODOO_TEMPLATE_DB=cl_template_nodemo] bench/run_odoo_submission.sh
#
# Settings (environment):
#   ODOO_SRC          an Odoo 18.0 tree (required)
#   ODOO_PYTHON       a Python with Odoo's requirements and ours (default: $ODOO_SRC/../venv/bin/python, else python3)
#   PGHOST PGPORT PGUSER PGPASSWORD   PostgreSQL (default 127.0.0.1:5432)
#   ODOO_BENCH_DB     database to create, bench in and drop (default l10n_cl_dte_bench_submission; dropped first)
#   ODOO_TEMPLATE_DB  copy this database (l10n_cl installed) instead of installing l10n_cl from scratch
#   BENCH_KEEP_DB=1   keep the database (and print its name) instead of dropping it
#   The bench itself reads BENCH_INVOICES (2000), BENCH_POST_BATCH (100), BENCH_SEED (4),
#   BENCH_MAX_POLL_ROUNDS (10): see bench/bench_odoo_submission.py.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${ODOO_BENCH_DB:-l10n_cl_dte_bench_submission}
. bench/throwaway_odoo.sh

echo "== bench (odoo-bin shell --no-http; the SII simulator runs in the same process)"
odoo_bin shell --no-http --log-level=warn < bench/bench_odoo_submission.py
