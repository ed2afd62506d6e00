# Sourced by the bench runners: a throwaway Odoo 18 database with this checkout installed as
# l10n_cl_dte, dropped on exit. The runner sets DB (and PORT when it serves HTTP) before sourcing.
#
# Settings (environment): ODOO_SRC (required), ODOO_PYTHON (default $ODOO_SRC/../venv/bin/python,
# else python3), PGHOST PGPORT PGUSER PGPASSWORD (default 127.0.0.1:5432, odoo/odoo),
# ODOO_TEMPLATE_DB (copy it instead of installing l10n_cl from scratch), BENCH_KEEP_DB=1.
: "${ODOO_SRC:?set ODOO_SRC to an Odoo 18.0 tree}"
: "${DB:?the runner sets DB}"
ODOO_PYTHON=${ODOO_PYTHON:-$( [ -x "$ODOO_SRC/../venv/bin/python" ] && echo "$ODOO_SRC/../venv/bin/python" || echo python3 )}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-odoo} PGPASSWORD=${PGPASSWORD:-odoo}

# Odoo finds an addon by its directory name: expose this checkout as l10n_cl_dte.
work=$(mktemp -d)
server_pid=
cleanup() {
    status=$?
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
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
http_interface = 127.0.0.1
http_port = ${PORT:-8069}
data_dir = $work/data
max_cron_threads = 0
CONF
# odoo-bin [shell] OPTIONS: the subcommand must come first.
odoo_bin() {
    local command=()
    if [ "${1:-}" = shell ]; then command=(shell); shift; fi
    "$ODOO_PYTHON" "$ODOO_SRC/odoo-bin" "${command[@]}" -c "$work/odoo.conf" -d "$DB" "$@"
}

# An Odoo server on 127.0.0.1:$PORT for the bench (threaded, one process), started in the background and
# stopped on exit; extra odoo-bin options as arguments. Its log is $work/server.log.
start_server() {
    "$ODOO_PYTHON" "$ODOO_SRC/odoo-bin" -c "$work/odoo.conf" -d "$DB" --http-interface=127.0.0.1 \
        --http-port="$PORT" --workers=0 --max-cron-threads=0 --log-level=warn "$@" > "$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 120); do
        if curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/health"; then return; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then tail -30 "$work/server.log"; exit 1; fi
        sleep 0.5
    done
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
