"""Worker processes for the system-level tests: Odoo workers as a deployment runs them.

Each worker is a process forked from the test process, as Odoo's prefork
server forks its workers from a process that has loaded the registry: it
starts at once (a new interpreter would load the registry again, ~6 s each,
~85 s for eight on a 2-core machine) and then has nothing in common with the
test process but the database and the SII simulator's port. It opens its own
database connections (never the ones it inherited), runs outside test mode
(the crons commit each batch, the token cache commits on its own connection),
sends HTTP requests without the test harness's guard, and can be killed with
SIGKILL like any worker.

A worker runs the jobs it is sent, one at a time: ``function(registry, *args)``
for a module-level ``function`` (it is sent by name), and answers its result
or the job's traceback. Its log goes to a file of its own, quoted when a job
fails.

Fork only at a quiet moment (no HTTP request or database work in flight in
the test process): the child has only the forking thread, and a lock another
thread held at that instant would stay held in it.
"""

import contextlib
import logging
import multiprocessing
import os
import signal
import time
import traceback

import requests

import odoo
from odoo import sql_db
from odoo.modules.registry import Registry
from odoo.tests import common as test_common
from odoo.tests.common import get_db_name

_inherited_pools = []  # the test process's connections: kept referenced, never used nor closed here


class WorkerFailed(Exception):
    pass


class Worker:
    """One forked worker process and the pipe to it."""

    def __init__(self, name, log_dir):
        context = multiprocessing.get_context("fork")
        self.name = name
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child_end, get_db_name(), self.log_path), name=name, daemon=True
        )
        self.process.start()
        child_end.close()

    @property
    def pid(self):
        return self.process.pid

    def submit(self, function, *args):
        self.connection.send((function, args))

    def result(self, timeout):
        """The result of the job submitted last; raises WorkerFailed with the job's traceback."""
        if not self.connection.poll(timeout):
            raise WorkerFailed(f"{self.name}: no answer within {timeout} s\n{self.log_tail()}")
        try:
            done, value = self.connection.recv()
        except EOFError:
            raise WorkerFailed(f"{self.name} died (exit code {self.process.exitcode})\n{self.log_tail()}") from None
        if not done:
            raise WorkerFailed(f"{self.name}: {value}\n{self.log_tail()}")
        return value

    def run(self, function, *args, timeout=300):
        self.submit(function, *args)
        return self.result(timeout)

    def kill(self):
        """SIGKILL: the process ends at once, mid-transaction, mid-request, without a word."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.join(10)

    def stop(self):
        if self.process.is_alive():
            with contextlib.suppress(OSError):
                self.connection.send(None)
            self.process.join(10)
            if self.process.is_alive():
                self.kill()
        self.connection.close()

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-lines:])
        except OSError:
            return ""


def run_together(workers, jobs, timeout=600):
    """Submit ``jobs[i]`` = (function, *args) to ``workers[i]`` at once; return their results in order."""
    for worker, (function, *args) in zip(workers, jobs, strict=True):
        worker.submit(function, *args)
    deadline = time.monotonic() + timeout
    return [worker.result(max(deadline - time.monotonic(), 1)) for worker in workers]


# --- in the worker ------------------------------------------------------------------------


def _serve(connection, dbname, log_path):
    try:
        registry = _become_a_worker(dbname, log_path)
    except BaseException:  # noqa: BLE001 - said to the test, which fails on it
        connection.send((False, traceback.format_exc()))
        os._exit(1)
    while True:
        try:
            message = connection.recv()
        except EOFError:
            break
        if message is None:
            break
        function, args = message
        try:
            value = function(registry, *args)
        except BaseException:  # noqa: BLE001
            logging.getLogger(__name__).exception("job %s failed", function.__name__)
            connection.send((False, traceback.format_exc()))
            continue
        connection.send((True, value))
    connection.close()
    # Skip the interpreter's clean-up: it would close the inherited connections, whose
    # PostgreSQL sessions belong to the test process.
    os._exit(0)


def _become_a_worker(dbname, log_path):
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    # Outside test mode: the crons commit each batch, tokens are stored on their own connection.
    odoo.modules.module.current_test = None
    # The test harness's guard on outgoing requests (it raises short timeouts to 10 s).
    requests.Session.send = test_common._super_send
    registry = Registry.registries[dbname]
    assert registry.test_cr is None, "a worker cannot run inside an HttpCase's test transaction"
    _inherited_pools.append((sql_db._Pool, sql_db._Pool_readonly))
    sql_db._Pool = sql_db._Pool_readonly = None
    registry._db = sql_db.db_connect(dbname)
    registry._db_readonly = None
    return registry
