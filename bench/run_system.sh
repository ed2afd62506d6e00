#!/usr/bin/env bash
# The system-level test (tests/test_system_level.py) at the issue's full size, on a real Odoo 18 and
# PostgreSQL: 8 processes issue 504 documents at once (4 posting facturas, 4 tills synchronising boletas),
# after the same work per process by one poster and one till (the baseline, in the same run); then 4 cron
# processes send all of them through a storm of SII faults; then an uploading process is killed.
# The suite runs the same test with 16 documents per process (128 documents).
#
#   ODOO_SRC=/path/to/odoo [ODOO_TEMPLATE_DB=tmpl] bench/run_system.sh
#
# Settings (environment): those of scripts/odoo-test (ODOO_SRC, ODOO_PYTHON, PG*, ODOO_TEMPLATE_DB,
# ODOO_HTTP_PORT), ODOO_BENCH_DB (default l10n_cl_dte_bench_system, dropped first and kept after),
# BENCH_DOCUMENTS_PER_PROCESS (63).
# Prints the figures the test logs: folios (documents, rate, rolled back, retries), the fault storm
# (documents, SII calls, faults by share and kind, uploads per envelope, duplicates) and the crash.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') ($(nproc 2>/dev/null || echo '?') CPUs)"
status=0
L10N_CL_DTE_SYSTEM_DOCUMENTS_PER_PROCESS=${BENCH_DOCUMENTS_PER_PROCESS:-63} L10N_CL_DTE_SYSTEM_BASELINE=1 \
    ODOO_TEST_DB=${ODOO_BENCH_DB:-l10n_cl_dte_bench_system} ODOO_TEST_TAGS=/l10n_cl_dte:TestSystemLevel \
    ODOO_TEST_LOG="$log" scripts/odoo-test > /dev/null || status=$?
grep -E "test_system_level: (folios|fault storm|crash|bench):" "$log" | sed -E 's/^.*test_system_level: //'
grep -Eo "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -1 || true
grep -E "(FAIL|ERROR): " "$log" || true
echo "== load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
exit "$status"
