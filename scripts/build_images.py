#!/usr/bin/env python3
"""Build the session images canfar-desktop ships recipes for, without any container registry.

The base image comes from Debian packages (debootstrap), every other image from a Dockerfile under
resources/images/<name>/ that starts FROM its parent: the base, or the recipe named in the folder's
`parent` file (the Java desktop applications share one Java layer that way). Each image is tagged
with a hash of its recipe (and of its parent's tag), so a second run finds the tag and skips the
build; `latest` points at the newest build so the app and the CLI find it by name. The run ends
with each image's size and build time.
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
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "resources" / "images"
REPO = "canfar-desktop"
# What a plain run builds, in this order: the gate in front of sessions that have no login of their own, the
# session images, the desktop applications, the stand-ins for the CARTA and Firefly images (which cannot be
# pulled everywhere) that the tests launch.
SESSION_IMAGES = ("gate", "notebook", "desktop", "contributed", "ds9", "topcat", "aladin", "carta-standin",
                  "firefly-standin")
CA_BUNDLES = (
    os.environ.get("CANFAR_EXTRA_CA", ""),
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
)


@dataclass
class Built:
    name: str
    ref: str
    size: int
    seconds: float | None  # None: found by its recipe hash, not built


def recipe_hash(folder: Path, parent: str = "") -> str:
    """Hash every file of a recipe (names, modes and bytes) plus the parent image's tag; files Python or an
    editor leave beside it (bytecode, dotfiles) are not part of the recipe."""
    digest = hashlib.sha256(parent.encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _incidental(p.relative_to(folder))):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _incidental(relative: Path) -> bool:
    return any(part == "__pycache__" or part.startswith(".") for part in relative.parts) or relative.suffix == ".pyc"


def parent_of(name: str) -> str:
    """The recipe an image starts from: the folder's `parent` file, else the base."""
    marker = RECIPES / name / "parent"
    return marker.read_text().strip() if marker.is_file() else "base"


def has_image(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def size_of(client: docker.DockerClient, ref: str) -> int:
    return int(client.images.get(ref).attrs.get("Size", 0))


def build_base(client: docker.DockerClient) -> Built:
    """Import a minimal Debian root file system as the base image."""
    folder = RECIPES / "base"
    ref = f"{REPO}/base:{recipe_hash(folder)}"
    if has_image(client, ref):
        print(f"base: {ref} is present, skipping")
        return Built("base", ref, size_of(client, ref), None)
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
    seconds = time.monotonic() - started
    print(f"base: built {ref} in {seconds:.0f} s")
    return Built("base", ref, size_of(client, ref), seconds)


def ca_bundle() -> bytes:
    """The host's CA bundle, handed to pip inside builds (proxies that intercept TLS need it)."""
    for candidate in CA_BUNDLES:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_bytes()
    return b""


def build_image(client: docker.DockerClient, name: str, parent: str) -> Built:
    folder = RECIPES / name
    ref = f"{REPO}/{name}:{recipe_hash(folder, parent)}"
    seconds: float | None = None
    if has_image(client, ref):
        print(f"{name}: {ref} is present, skipping")
    else:
        started = time.monotonic()
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            tar.add(folder, arcname=".", filter=lambda info: None if _incidental(Path(info.name)) else info)
            bundle = ca_bundle()
            info = tarfile.TarInfo("extra-ca.crt")
            info.size = len(bundle)
            tar.addfile(info, io.BytesIO(bundle))
        context.seek(0)
        print(f"{name}: building {ref} from {parent}")
        try:
            for chunk in client.api.build(fileobj=context, custom_context=True, tag=ref,
                                          buildargs={"BASE": parent}, rm=True, forcerm=True,
                                          decode=True):
                if "error" in chunk:
                    sys.exit(f"{name}: build failed: {chunk['error'].strip()}")
                line = chunk.get("stream", "").rstrip()
                if line.startswith("Step "):
                    print(f"{name}:   {line[:160]}")
        except docker.errors.APIError as exc:
            sys.exit(f"{name}: build failed: {exc.explanation or exc}")
        seconds = time.monotonic() - started
        print(f"{name}: built {ref} in {seconds:.0f} s")
    client.images.get(ref).tag(f"{REPO}/{name}", "latest")
    drop_older_builds(client, name, ref)
    return Built(name, ref, size_of(client, ref), seconds)


def drop_older_builds(client: docker.DockerClient, name: str, keep: str) -> None:
    """Untag earlier builds of a recipe so they do not pile up; one a container still uses stays."""
    for image in client.images.list(name=f"{REPO}/{name}"):
        for tag in image.tags:
            if tag != keep and not tag.endswith(":latest") and tag.startswith(f"{REPO}/{name}:"):
                try:
                    client.images.remove(tag, noprune=False)
                except docker.errors.APIError:
                    pass


def build_order(names: list[str]) -> list[str]:
    """The requested recipes with the parents they need, parents first."""
    order: list[str] = []

    def visit(name: str, seen: tuple[str, ...]) -> None:
        if name in order or name == "base":
            return
        if name in seen:
            sys.exit(f"recipe {name} is its own parent (through {' -> '.join(seen)})")
        visit(parent_of(name), (*seen, name))
        order.append(name)

    for name in names:
        visit(name, ())
    return order


def summary(done: list[Built], started: float) -> None:
    """Each image's size and build time, as the last thing printed."""
    print("\nimage                                         size    built")
    for b in done:
        when = f"{b.seconds:5.0f} s" if b.seconds is not None else "cached"
        print(f"{b.ref:<44} {b.size / 1e6:6.0f} MB  {when}")
    print(f"total {time.monotonic() - started:.0f} s (sizes count shared layers once per image)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", default=list(SESSION_IMAGES),
                        help=f"which images to build (default: {' '.join(SESSION_IMAGES)})")
    args = parser.parse_args()
    known = sorted(p.name for p in RECIPES.iterdir() if (p / "Dockerfile").is_file())
    unknown = set(args.images) - set(known)
    if unknown:
        sys.exit(f"unknown image recipe(s): {', '.join(sorted(unknown))}; known: {' '.join(known)}")
    try:
        client = docker.from_env(timeout=900)
        client.ping()
    except docker.errors.DockerException as exc:
        sys.exit(f"Docker is not reachable ({exc}); start it and run again")
    started = time.monotonic()
    base = build_base(client)
    done = [base]
    refs = {"base": base.ref}
    for name in build_order(args.images):
        built = build_image(client, name, refs[parent_of(name)])
        refs[name] = built.ref
        done.append(built)
    summary(done, started)


if __name__ == "__main__":
    main()
