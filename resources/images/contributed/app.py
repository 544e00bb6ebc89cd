"""A minimal contributed web app: lists the files under /arc so a user can see their storage."""

import html
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        rows = []
        for top in ("/arc/home", "/arc/projects", "/scratch"):
            try:
                names = sorted(os.listdir(top))
            except OSError as exc:
                names = [f"({exc.strerror})"]
            rows.append(f"<h2>{html.escape(top)}</h2><ul>"
                        + "".join(f"<li>{html.escape(n)}</li>" for n in names) + "</ul>")
        body = ("<!doctype html><title>Arc browser</title><h1>Arc browser</h1>"
                + "".join(rows)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 5000), Handler).serve_forever()
