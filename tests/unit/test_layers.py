"""The layering contract, read from the source: who may import what.

- core never imports Qt, the CLI, the UI or the API server;
- only core/backends/ imports the Docker SDK or paramiko;
- the UI never imports the backend modules;
- the package imports where fcntl, os.geteuid and AF_UNIX are missing (Windows);
- what differs between systems (uids, account names, file locks, Unix sockets) is used in
  core/platform.py only.
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
        "assert platform.user_ids() is None and platform.user_name(0) is None\n"
        "from canfar_desktop.core.settings import default_gid, default_uid\n"
        "assert (default_uid(), default_gid()) == (1000, 1000)\n"
        "from canfar_desktop.core.instance import send_to_running_app\n"
        "from canfar_desktop.core.paths import AppPaths\n"
        "from pathlib import Path\n"
        "assert send_to_running_app(AppPaths(Path('/nonexistent'), Path('/nonexistent'), Path('/nonexistent')),"
        " {'ping': True}, timeout=0.2) is False\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


POSIX_ONLY = {"fcntl", "pwd", "grp", "msvcrt"}
POSIX_CALLS = {("os", "getuid"), ("os", "geteuid"), ("os", "getgid"), ("os", "getegid"), ("os", "getgroups"),
               ("socket", "AF_UNIX")}


def test_system_specifics_live_in_core_platform_only() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "core" / "platform.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and {a.name for a in node.names} & POSIX_ONLY:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports a system-specific module")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and (node.value.id, node.attr) in POSIX_CALLS:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert found == []
