"""Running the simulator on a real socket, in a background thread.

>>> with start_simulator() as sii:          # 127.0.0.1, ephemeral port
...     requests.get(sii.base_url + "/DTEWS/CrSeed.jws?WSDL")

The server is stdlib ``wsgiref`` made multi-threaded; its request handler
gives the application a way to drop a connection with a TCP RST (the
``reset`` fault) and logs nothing but method and path (never a token).
"""

import logging
import socket
import socketserver
import struct
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .app import ABORT_KEY, SiiSimulator

_logger = logging.getLogger(__name__)
SOCKET_TIMEOUT = 30  # a client that declares more bytes than it sends is cut off after this


class _Handler(WSGIRequestHandler):
    timeout = SOCKET_TIMEOUT

    def get_environ(self):
        environ = super().get_environ()
        environ[ABORT_KEY] = self._abort
        return environ

    def _abort(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.server.aborted.add(self.connection)

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        _logger.debug("%s %s", self.address_string(), self.requestline.split("?")[0])

    def log_request(self, code="-", size="-"):
        _logger.debug("%s %s %s", self.command, (self.path or "").split("?")[0], code)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        self.aborted = set()
        super().__init__(*args, **kwargs)

    def shutdown_request(self, request):
        if request in self.aborted:  # no FIN first: close with the RST the linger setting gives
            self.aborted.discard(request)
            self.close_request(request)
            return
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        _logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class RunningSimulator:
    """A simulator serving on a socket: ``base_url``, ``app``, ``stop()``; a context manager."""

    def __init__(self, app, host, port):
        self.app = app
        self._server = _ThreadingServer((host, port), _Handler)
        self._server.set_app(app)
        self.host, self.port = self._server.server_address[:2]
        self.base_url = f"http://{self.host}:{self.port}"
        app.base_url = self.base_url
        self._thread = threading.Thread(target=self._server.serve_forever, name="sii-simulator", daemon=True)
        self._thread.start()

    def stop(self):
        self.app.stopping.set()  # wakes requests sleeping in a timeout fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def serve_forever(self):
        """Block until interrupted (the demo's entry point)."""
        try:
            self._thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


def start_simulator(app=None, host="127.0.0.1", port=0, **settings):
    """Start ``app`` (default: a new :class:`SiiSimulator` built with ``settings``) in a thread."""
    if app is None:
        app = SiiSimulator(**settings)
    elif settings:
        raise TypeError("give either a simulator or the settings to build one, not both")
    return RunningSimulator(app, host, port)
