#!/usr/bin/env bash
# Runs bench/bench_odoo_posting.py (posting with and without the DTE step, invoice PDF/HTML rendering)
# on a real Odoo 18 and PostgreSQL, in a throwaway database.
#
#   ODOO_SRC=/path/to/odoo [ODOO_TEMPLATE_DB=cl_template_nodemo] bench/run_odoo_posting.sh
#
# Settings (environment):
#   ODOO_SRC          an Odoo 18.0 tree (required)
#   ODOO_PYTHON       a Python with Odoo's requirements and ours (default: $ODOO_SRC/../venv/bin/python, else python3)
#   PGHOST PGPORT PGUSER PGPASSWORD   PostgreSQL (default 127.0.0.1:5432)
#   ODOO_BENCH_DB     database to create, bench in and drop (default l10n_cl_dte_bench; dropped first)
#   ODOO_TEMPLATE_DB  copy this database (l10n_cl installed) instead of installing l10n_cl from scratch
#   ODOO_HTTP_PORT    port of the Odoo server started on 127.0.0.1 to serve the report's CSS to
#                     wkhtmltopdf (default: a free port)
#   BENCH_KEEP_DB=1   keep the database (and print its name) instead of dropping it
#   The bench itself reads BENCH_INVOICES (300), BENCH_LINES (5), BENCH_BLOCK (1), BENCH_WARMUP (5),
#   BENCH_BATCH (50), BENCH_PDF (20), BENCH_PROFILE (auto|1|0), BENCH_PROFILE_INVOICES (40), BENCH_TARGET (1.25),
#   BENCH_SEED (18): see bench/bench_odoo_posting.py.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${ODOO_BENCH_DB:-l10n_cl_dte_bench}
PORT=${ODOO_HTTP_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
. bench/throwaway_odoo.sh

# A copied database keeps the template's compiled asset bundles, whose files stay in the template's
# filestore: drop them so the server compiles the report CSS again into this run's data_dir.
psql -q -d "$DB" -c "DELETE FROM ir_attachment WHERE url LIKE '/web/assets/%'"

# wkhtmltopdf fetches the report's CSS over HTTP, as in production: serve it from 127.0.0.1.
start_server

echo "== bench (odoo-bin shell, report CSS from http://127.0.0.1:$PORT)"
BENCH_REPORT_URL="http://127.0.0.1:$PORT" odoo_bin shell --no-http --log-level=warn < bench/bench_odoo_posting.py
