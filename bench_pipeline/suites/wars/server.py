"""The images over HTTP on 127.0.0.1, served by the project itself (a thread, a free port).

The article downloads from a public photo service; here the pipeline runs
against a local server so it needs no outside network and measures the same
steps: an HTTP GET per image, then decode and resize.
"""

from __future__ import annotations

import functools
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Daft downloads over up to 32 connections at once. With socketserver's default
# listen backlog of 5 the kernel drops the surplus connection attempts and the
# clients wait out TCP retransmits: measured here, 200 images took Daft 30-60 s
# instead of about 1 s. The backlog must hold every connection a client opens.
LISTEN_BACKLOG = 256


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per image on stderr would drown the progress output


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away mid-response; its own error (if any) is the engine's status
        super().handle_error(request, client_address)


class ImageServer:
    """`with ImageServer(folder) as server: server.url` -> 'http://127.0.0.1:<port>/'."""

    def __init__(self, folder: Path, host: str = "127.0.0.1"):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._httpd = _Server((host, 0), handler)  # port 0: the OS picks a free one
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="image-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> ImageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
