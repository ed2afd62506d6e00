#!/usr/bin/env bash
# Runs bench/bench_odoo_pos.py (POS orders synchronised with and without boletas, and the time from payment to
# receipt over HTTP) on a real Odoo 18 and PostgreSQL, in a throwaway database that is dropped at the end.
#
#   ODOO_SRC=/path/to/odoo [ODOO_TEMPLATE_DB=cl_template_nodemo] bench/run_odoo_pos.sh [--quick]
#
# Settings (environment):
#   ODOO_SRC          an Odoo 18.0 tree (required)
#   ODOO_PYTHON       a Python with Odoo's requirements and ours (default: $ODOO_SRC/../venv/bin/python, else python3)
#   PGHOST PGPORT PGUSER PGPASSWORD   PostgreSQL (default 127.0.0.1:5432)
#   ODOO_BENCH_DB     database to create, bench in and drop (default bench_pos; dropped first)
#   ODOO_TEMPLATE_DB  copy this database (l10n_cl installed) instead of installing l10n_cl from scratch
#   ODOO_HTTP_PORT    port of the Odoo server started on 127.0.0.1 that the POS calls go to (default 8099)
#   BENCH_KEEP_DB=1   keep the database (and print its name) instead of dropping it
#   The bench itself reads BENCH_QUICK (--quick sets it), BENCH_ORDERS (200), BENCH_BATCH (20), BENCH_WARMUP (10),
#   BENCH_STEP_ORDERS (40), BENCH_HTTP_ORDERS (100), BENCH_TARGET_MS (30): see bench/bench_odoo_pos.py.
set -euo pipefail
cd "$(dirname "$0")/.."
for argument in "$@"; do
    case $argument in
        --quick) export BENCH_QUICK=1 ;;
        *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
    esac
done
DB=${ODOO_BENCH_DB:-bench_pos}
PORT=${ODOO_HTTP_PORT:-8099}
. bench/throwaway_odoo.sh

# The server the POS synchronises with, as in production (threaded, one process): the bench logs in as its
# cashier and calls sync_from_ui over JSON-RPC.
start_server --db-filter="^$DB\$"

echo "== bench (odoo-bin shell --no-http; POS calls over HTTP to http://127.0.0.1:$PORT)"
status=0
BENCH_HTTP_URL="http://127.0.0.1:$PORT" odoo_bin shell --no-http --log-level=warn < bench/bench_odoo_pos.py || status=$?
if grep -q "ERROR\|Traceback" "$work/server.log"; then
    echo "== server log (errors)"; grep -A15 "ERROR\|Traceback" "$work/server.log" | head -60
fi
exit "$status"
