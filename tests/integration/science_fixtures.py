"""The images the science tests need beyond the three session images, and small helpers they share.

`make images` builds them all (the desktop applications DS9, TOPCAT and Aladin, and the CARTA and
Firefly stand-ins); a test that needs one that is missing fails and says so.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pytest

SCIENCE_IMAGES = {
    "ds9": "canfar-desktop/ds9:latest",
    "topcat": "canfar-desktop/topcat:latest",
    "aladin": "canfar-desktop/aladin:latest",
    "carta": "canfar-desktop/carta-standin:latest",
    "firefly": "canfar-desktop/firefly-standin:latest",
}


def need_images(docker_engine: Any, session_images: dict[str, str]) -> dict[str, str]:
    """Every image the science tests use, by role; a missing one fails the test and says how to build it."""
    import docker.errors

    missing = []
    for ref in SCIENCE_IMAGES.values():
        try:
            docker_engine.images.get(ref)
        except docker.errors.ImageNotFound:
            missing.append(ref)
    if missing:
        pytest.fail(f"Images missing: {', '.join(missing)}; build them with make images", pytrace=False)
    return {**session_images, **SCIENCE_IMAGES}


def exec_in(docker_engine: Any, container_id: str, argv: list[str], user: str | None = None,
            env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run a command in a container as its session user (or `user`); returns the exit code and output."""
    container = docker_engine.containers.get(container_id)
    code, out = container.exec_run(argv, user=user or container.attrs["Config"]["User"], environment=env or {},
                                   demux=False)
    return int(code), (out or b"").decode(errors="replace")


def write_fits(path: Path, size: int = 256) -> Path:
    """A FITS image (32-bit floats) of a few Gaussian sources on a faint background, written by hand so
    the test needs no astropy; readable by DS9, astropy and every FITS reader."""
    cards = [("SIMPLE", "T"), ("BITPIX", "-32"), ("NAXIS", "2"), ("NAXIS1", str(size)), ("NAXIS2", str(size)),
             ("OBJECT", "'canfar-desktop test field'"), ("BUNIT", "'counts  '")]
    header = "".join(f"{k:<8}= {v:>20}".ljust(80) for k, v in cards) + "END".ljust(80)
    header = header.ljust(((len(header) + 2879) // 2880) * 2880)
    sources = [(0.5, 0.5, 12.0, 1000.0), (0.25, 0.7, 5.0, 400.0), (0.75, 0.3, 8.0, 600.0), (0.6, 0.8, 3.0, 300.0)]
    values = []
    for y in range(size):
        for x in range(size):
            v = 10.0 + 3.0 * math.sin(x * 12.9898 + y * 78.233) ** 2
            for sx, sy, width, peak in sources:
                d2 = (x - sx * size) ** 2 + (y - sy * size) ** 2
                v += peak * math.exp(-d2 / (2 * width * width))
            values.append(v)
    data = struct.pack(f">{len(values)}f", *values)
    data += b"\0" * ((2880 - len(data) % 2880) % 2880)
    path.write_bytes(header.encode("ascii") + data)
    path.chmod(0o644)
    return path


def make_wheel(folder: Path, name: str, value: str) -> Path:
    """A pure-Python wheel of one module (`name.VALUE == value`), built by hand: pip installs it offline."""
    import base64
    import hashlib
    import zipfile

    wheel = folder / f"{name}-1.0-py3-none-any.whl"
    files = {
        f"{name}.py": f"VALUE = {value!r}\n",
        f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for arc, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{arc},sha256={digest},{len(text.encode())}")
    record.append(f"{name}-1.0.dist-info/RECORD,,")
    files[f"{name}-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(wheel, "w") as z:
        for arc, text in files.items():
            z.writestr(arc, text)
    wheel.chmod(0o644)
    return wheel
