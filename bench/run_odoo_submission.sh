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
: "${ODOO_SRC:?set ODOO_SRC to an Odoo 18.0 tree}"
ODOO_PYTHON=${ODOO_PYTHON:-$( [ -x "$ODOO_SRC/../venv/bin/python" ] && echo "$ODOO_SRC/../venv/bin/python" || echo python3 )}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-odoo} PGPASSWORD=${PGPASSWORD:-odoo}
DB=${ODOO_BENCH_DB:-l10n_cl_dte_bench_submission}

# Odoo finds an addon by its directory name: expose this checkout as l10n_cl_dte.
work=$(mktemp -d)
cleanup() {
    status=$?
    if [ "${BENCH_KEEP_DB:-}" = 1 ]; then
        echo "kept database $DB (data_dir $work/data)"
    else
        dropdb --if-exists "$DB" || true
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
mkdir "$work/addons"
ln -s "$PWD" "$work/addons/l10n_cl_dte"
cat > "$work/odoo.conf" <<CONF
[options]
addons_path = $ODOO_SRC/addons,$ODOO_SRC/odoo/addons,$work/addons
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
db_password = $PGPASSWORD
data_dir = $work/data
max_cron_threads = 0
CONF
# odoo-bin [shell] OPTIONS: the subcommand must come first.
odoo_bin() {
    local command=()
    if [ "${1:-}" = shell ]; then command=(shell); shift; fi
    "$ODOO_PYTHON" "$ODOO_SRC/odoo-bin" "${command[@]}" -c "$work/odoo.conf" -d "$DB" "$@"
}

echo "== database $DB"
dropdb --if-exists "$DB"
if [ -n "${ODOO_TEMPLATE_DB:-}" ]; then
    createdb -T "$ODOO_TEMPLATE_DB" "$DB"
    modules=l10n_cl_dte
else
    modules=l10n_cl,l10n_cl_dte
fi
echo "   installing $modules${ODOO_TEMPLATE_DB:+ into a copy of $ODOO_TEMPLATE_DB}"
odoo_bin -i "$modules" --without-demo=all --stop-after-init --log-level=warn > "$work/install.log" 2>&1 \
    || { tail -50 "$work/install.log"; exit 1; }

echo "== bench (odoo-bin shell --no-http; the SII simulator runs in the same process)"
odoo_bin shell --no-http --log-level=warn < bench/bench_odoo_submission.py
