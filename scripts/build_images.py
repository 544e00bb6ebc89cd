#!/usr/bin/env python3
"""Build the session images canfar-desktop ships recipes for, without any container registry.

The base image comes from Debian packages (debootstrap), every other image from a Dockerfile under
resources/images/<name>/ that starts FROM the base. Each image is tagged with a hash of its recipe
(and of its parent's), so a second run finds the tag and skips the build; `latest` points at the
newest build so the app and the CLI find it by name.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "resources" / "images"
REPO = "canfar-desktop"
SESSION_IMAGES = ("notebook", "desktop", "contributed")
CA_BUNDLES = (
    os.environ.get("CANFAR_EXTRA_CA", ""),
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
)


def recipe_hash(folder: Path, parent: str = "") -> str:
    """Hash every file of a recipe (names and bytes) plus the parent image's tag."""
    digest = hashlib.sha256(parent.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def has_image(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_base(client: docker.DockerClient) -> str:
    """Import a minimal Debian root file system as the base image; returns its reference."""
    folder = RECIPES / "base"
    ref = f"{REPO}/base:{recipe_hash(folder)}"
    if has_image(client, ref):
        print(f"base: {ref} is present, skipping")
        return ref
    if shutil.which("debootstrap") is None:
        sys.exit("debootstrap is missing: install it (apt-get install debootstrap) and run again")
    packages = [
        line.strip()
        for line in (folder / "packages").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="canfar-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        mirror = os.environ.get("CANFAR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
        print(f"base: debootstrap bookworm with {', '.join(packages)}")
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(packages)}", "bookworm",
             str(rootfs), mirror],
            check=True, stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None
        client.api.import_image_from_stream(tar.stdout, repository=f"{REPO}/base", tag=ref.split(":")[1])
        if tar.wait() != 0:
            sys.exit("base: tar of the root file system failed")
    client.images.get(ref).tag(f"{REPO}/base", "latest")
    print(f"base: built {ref} in {time.monotonic() - started:.0f} s")
    return ref


def ca_bundle() -> bytes:
    """The host's CA bundle, handed to pip inside builds (proxies that intercept TLS need it)."""
    for candidate in CA_BUNDLES:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return b""


def build_session_image(client: docker.DockerClient, name: str, base: str) -> str:
    folder = RECIPES / name
    ref = f"{REPO}/{name}:{recipe_hash(folder, base)}"
    if has_image(client, ref):
        print(f"{name}: {ref} is present, skipping")
    else:
        started = time.monotonic()
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            tar.add(folder, arcname=".")
            bundle = ca_bundle()
            info = tarfile.TarInfo("extra-ca.crt")
            info.size = len(bundle)
            tar.addfile(info, io.BytesIO(bundle))
        context.seek(0)
        print(f"{name}: building {ref}")
        try:
            for chunk in client.api.build(fileobj=context, custom_context=True, tag=ref,
                                          buildargs={"BASE": base}, rm=True, forcerm=True,
                                          decode=True):
                if "error" in chunk:
                    sys.exit(f"{name}: build failed: {chunk['error'].strip()}")
                line = chunk.get("stream", "").rstrip()
                if line.startswith("Step "):
                    print(f"{name}:   {line}")
        except docker.errors.APIError as exc:
            sys.exit(f"{name}: build failed: {exc.explanation or exc}")
        print(f"{name}: built {ref} in {time.monotonic() - started:.0f} s")
    client.images.get(ref).tag(f"{REPO}/{name}", "latest")
    return ref


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", default=list(SESSION_IMAGES),
                        help=f"which images to build (default: {' '.join(SESSION_IMAGES)})")
    args = parser.parse_args()
    unknown = set(args.images) - set(SESSION_IMAGES)
    if unknown:
        sys.exit(f"unknown image recipe(s): {', '.join(sorted(unknown))}; known: {' '.join(SESSION_IMAGES)}")
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except docker.errors.DockerException as exc:
        sys.exit(f"Docker is not reachable ({exc}); start it and run again")
    base = build_base(client)
    for name in args.images:
        build_session_image(client, name, base)


if __name__ == "__main__":
    main()
