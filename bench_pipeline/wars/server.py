"""The images over HTTP on 127.0.0.1, served by the project itself (a thread, a free port).

The article downloads from a public photo service; here the pipeline runs
against a local server so it needs no outside network and measures the same
steps: an HTTP GET per image, then decode and resize.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per image on stderr would drown the progress output


class ImageServer:
    """`with ImageServer(folder) as server: server.url` -> 'http://127.0.0.1:<port>/'."""

    def __init__(self, folder: Path, host: str = "127.0.0.1"):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self._httpd = ThreadingHTTPServer((host, 0), handler)  # port 0: the OS picks a free one
        self._httpd.daemon_threads = True
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
