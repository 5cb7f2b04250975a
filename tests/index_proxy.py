"""A PEP 503 index on 127.0.0.1 that proxies PyPI's simple API, for the docker tier.

It stands in for a company mirror (Artifactory, Nexus) or a private index: every page and every
file goes through it (file links are rewritten to point back at it), each request is recorded,
and with `credentials` set it answers 401 to any request without that HTTP basic auth.
"""

from __future__ import annotations

import base64
import re
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import HTTPError

from helpers import pypi_simple_url

_FILE_LINK = re.compile(r'href="https://([^/"]+)/')


@dataclass
class IndexProxy:
    port: int
    credentials: str | None
    requests: list[str] = field(default_factory=list)
    unauthorized: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"


def _handler(proxy: IndexProxy, upstream: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            if proxy.credentials is not None:
                expected = "Basic " + base64.b64encode(proxy.credentials.encode()).decode()
                if self.headers.get("Authorization") != expected:
                    proxy.unauthorized += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test index"')
                    self.end_headers()
                    return
            proxy.requests.append(self.path)
            if self.path.startswith("/simple/"):
                target = upstream + self.path[len("/simple/") :]
            elif self.path.startswith("/__upstream/"):
                target = "https://" + self.path[len("/__upstream/") :]
            else:
                self.send_error(404)
                return
            # HTML only, so a single rewrite keeps every file download on this proxy.
            request = urllib.request.Request(target, headers={"Accept": "text/html"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    body = response.read()
                    content_type = response.headers.get("Content-Type", "text/html")
            except HTTPError as error:
                self.send_error(error.code)
                return
            if content_type.startswith("text/html"):
                body = _FILE_LINK.sub(
                    f'href="http://127.0.0.1:{proxy.port}/__upstream/\\1/', body.decode()
                ).encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        # uv asks for a file's headers first (does the server take range requests?), as real
        # mirrors allow; the answer is GET's without the body.
        do_HEAD = do_GET

    return Handler


@contextmanager
def serve_index(credentials: str | None = None, port: int = 0) -> Iterator[IndexProxy]:
    """Serve the proxy in a thread for the duration of the context."""
    proxy = IndexProxy(port=port, credentials=credentials)
    upstream = pypi_simple_url().rstrip("/") + "/"
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(proxy, upstream))
    proxy.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
