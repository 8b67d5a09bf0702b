"""Test-only static server: serves ui/ with mock.js injected before app.js.

Usage: python3 tests/ui-mock/serve.py PORT
The shipped ui/index.html is never modified; the mock is added to the response only.
"""

import http.server
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
MOCK = pathlib.Path(__file__).resolve().parent / "mock.js"
# A real preview of the poster, as the app draws it, for the Affiche screen.
PREVIEW = pathlib.Path(__file__).resolve().parent / "poster-preview.png"


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(UI), **kwargs)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            html = (UI / "index.html").read_text(encoding="utf-8")
            html = html.replace(
                '<script type="module" src="app.js"></script>',
                '<script src="/__mock.js"></script>\n    <script type="module" src="app.js"></script>',
            )
            self._send(html.encode("utf-8"), "text/html; charset=utf-8")
        elif path == "/__mock.js":
            self._send(MOCK.read_bytes(), "text/javascript; charset=utf-8")
        elif path == "/__poster-preview.png":
            self._send(PREVIEW.read_bytes(), "image/png")
        else:
            super().do_GET()

    def _send(self, body, content_type):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        # The same policy as tauri.conf.json, so that a CSP violation shows up here too.
        self.send_header(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'",
        )
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
