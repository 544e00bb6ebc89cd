"""The layering contract, read from the source: who may import what.

- core never imports Qt, the CLI, the UI or the API server;
- only core/backends/ imports the Docker SDK or paramiko;
- the UI never imports the backend modules;
- the package imports where fcntl, os.geteuid and AF_UNIX are missing (Windows).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "canfar_desktop"


def imports_of(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(), str(path))
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                found.add(name)
                found.update(f"{name}.{alias.name}" for alias in node.names)
            elif node.module:
                found.add(node.module)
    return found


def files(under: str) -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py"))


def offenders(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for name in imports_of(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    return bad


def test_the_contract_sees_imports() -> None:
    """The checker itself: it finds relative and absolute imports (else every rule below passes vacuously)."""
    found = imports_of(PACKAGE / "core" / "backends" / "docker_engine.py")
    assert "docker" in found and "canfar_desktop.core.host" in found


def test_core_never_imports_qt_cli_ui_or_api() -> None:
    assert offenders(files("core"), ("PySide6", "qasync", "canfar_desktop.ui", "canfar_desktop.cli",
                                      "canfar_desktop.api")) == []


def test_only_backends_import_the_docker_sdk_or_ssh() -> None:
    outside = [p for p in PACKAGE.rglob("*.py") if "backends" not in p.parts]
    assert offenders(outside, ("docker", "paramiko", "requests")) == []


def test_ui_never_imports_backend_modules() -> None:
    assert offenders(files("ui"), ("canfar_desktop.core.backends",)) == []


@pytest.mark.parametrize("module", ["canfar_desktop.cli", "canfar_desktop.ui.app", "canfar_desktop.core.service"])
def test_imports_without_posix_only_modules(module: str) -> None:
    """fcntl, os.geteuid and socket.AF_UNIX hidden, as on Windows: the package still imports."""
    code = (
        "import builtins, os, socket, sys\n"
        "import platformdirs, pydantic  # third-party libraries pick their own Windows code paths there\n"
        "real = builtins.__import__\n"
        "def fake(name, *a, **k):\n"
        "    if name in ('fcntl', 'pwd', 'grp'):\n"
        "        raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = fake\n"
        "for attr in ('geteuid', 'getuid', 'getgid'):\n"
        "    if hasattr(os, attr): delattr(os, attr)\n"
        "if hasattr(socket, 'AF_UNIX'): del socket.AF_UNIX\n"
        f"import {module}\n"
        "from canfar_desktop.core import platform\n"
        "assert platform.effective_uid() is None and not platform.HAS_UNIX_SOCKETS\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
