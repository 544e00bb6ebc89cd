"""A read-only container registry on 127.0.0.1 serving images the test saved from the engine.

No registry is reachable from the test machines, and the engine pulls over plain HTTP only from a
registry on the loopback: this one speaks the part of the distribution API a pull uses (`/v2/`,
manifests and blobs, GET and HEAD), with gzip-compressed layers, so `image pull` and `image update`
run for real. `publish(ref, name, tag)` serves an image of the engine under `name:tag`, replacing
whatever was served there before (how an upstream image changes).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CHUNK = 64 * 1024


class Registry:
    def __init__(self, engine: Any, slow_s: float = 0.0) -> None:
        self.engine = engine
        self.slow_s = slow_s  # a pause after each 64 KB of a blob
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], bytes] = {}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self, body: bytes | None) -> None:
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                kind = MANIFEST if "/manifests/" in self.path else "application/octet-stream"
                self.send_header("Content-Type", kind if self.path != "/v2/" else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.end_headers()
                if self.command == "GET":
                    for start in range(0, len(body), CHUNK):  # slowly, when asked: a pull in progress to watch
                        self.wfile.write(body[start:start + CHUNK])
                        if registry.slow_s and "/blobs/" in self.path:
                            time.sleep(registry.slow_s)

            def do_GET(self) -> None:
                self._answer(registry.lookup(self.path))

            def do_HEAD(self) -> None:
                self._answer(registry.lookup(self.path))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def lookup(self, path: str) -> bytes | None:
        if path == "/v2/":
            return b"{}"
        head, _, last = path.rpartition("/")
        if head.endswith("/blobs"):
            return self.blobs.get(last)
        if head.endswith("/manifests"):
            name = head[len("/v2/"):-len("/manifests")]
            if last.startswith("sha256:"):
                return next((m for m in self.manifests.values()
                             if "sha256:" + hashlib.sha256(m).hexdigest() == last), None)
            return self.manifests.get((name, last))
        return None

    def _blob(self, data: bytes) -> dict[str, Any]:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    def publish(self, ref: str, name: str, tag: str) -> None:
        """Serve the engine's image `ref` as `name:tag` (its layers gzip-compressed, as registries keep them)."""
        with tarfile.open(fileobj=io.BytesIO(b"".join(self.engine.images.get(ref).save()))) as saved:
            manifest = json.loads(saved.extractfile("manifest.json").read())[0]  # type: ignore[union-attr]
            config = saved.extractfile(manifest["Config"]).read()  # type: ignore[union-attr]
            layers = []
            for layer in manifest["Layers"]:
                raw = saved.extractfile(layer).read()  # type: ignore[union-attr]
                layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                               **self._blob(gzip.compress(raw, compresslevel=1))})
        body = {"schemaVersion": 2, "mediaType": MANIFEST,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **self._blob(config)},
                "layers": layers}
        self.manifests[(name, tag)] = json.dumps(body).encode()

    def close(self) -> None:
        self.slow_s = 0.0
        self.server.shutdown()
        self.server.server_close()


def build_payload_image(engine: Any, tag: str, megabytes: int = 4) -> str:
    """A small image of one layer of random bytes (it does not compress: a pull has bytes to count)."""
    import os
    import secrets

    payload = os.urandom(megabytes * 1024 * 1024)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        recipe = f"FROM scratch\nCOPY payload /payload\nLABEL test.unique={secrets.token_hex(8)}\n".encode()
        for name, data in (("Dockerfile", recipe), ("payload", payload)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    engine.images.build(fileobj=context, custom_context=True, tag=tag, rm=True)
    return tag
