"""Diagnosis rules that cannot be caused for real on a shared machine, checked on the figures they read.

Host memory pressure needs most of the machine's RAM taken (every other process on it would suffer),
and "no labelled image" needs an engine without the project's images; the engines the other tests use
have them. The rules are pure decisions on /proc/meminfo and on an image list, so they are fed those.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from canfar_desktop.core import diagnostics
from canfar_desktop.core.host import ImageInfo
from canfar_desktop.core.settings import HostConfig

GB = 1024**2  # /proc/meminfo counts kB


def host_with_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, total_kb: int, available_kb: int) -> Any:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal:       {total_kb} kB\nMemFree:        1000 kB\nMemAvailable:   {available_kb} kB\n")
    real = diagnostics.meminfo
    monkeypatch.setattr(diagnostics, "meminfo", lambda: real(meminfo))
    return SimpleNamespace(host_config=lambda host: HostConfig(name="local", url="unix:///var/run/docker.sock"))


@pytest.mark.parametrize(("available_gb", "level", "verdict", "figure"), [
    (8.0, "ok", "enough memory available", "8 GB used of 16 GB, 8 GB available"),
    (2.0, "warn", "the host is under memory pressure", "14 GB used of 16 GB, 2 GB available"),  # under 15 %
    (0.7, "fail", "almost no memory left on the host", "15.3 GB used of 16 GB, 717 MB available"),  # under 5 %
    (0.4, "fail", "almost no memory left on the host", "15.6 GB used of 16 GB, 410 MB available"),
])
def test_host_memory_pressure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, available_gb: float, level: str,
                              verdict: str, figure: str) -> None:
    service = host_with_memory(tmp_path, monkeypatch, 16 * GB, int(available_gb * GB))
    check = diagnostics.check_host_memory(service, None)
    assert (check.id, check.level, check.verdict, check.figure) == ("host-memory", level, verdict, figure)
    assert (check.hint != "") == (level != "ok")


def test_host_memory_is_not_guessed_for_remote_hosts_or_without_figures(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    remote = SimpleNamespace(host_config=lambda host: HostConfig(name="big", url="ssh://me@workstation"))
    assert diagnostics.check_host_memory(remote, "big").level == "info"
    service = host_with_memory(tmp_path, monkeypatch, 0, 0)
    assert diagnostics.check_host_memory(service, None).verdict == "not measurable on this system"


def images_host(images: list[ImageInfo]) -> Any:
    return SimpleNamespace(host=lambda name=None: SimpleNamespace(images=lambda: images))


def test_a_host_without_labelled_images_is_told_how_to_get_them() -> None:
    unlabelled = [ImageInfo(ref="debian:12", kinds=frozenset(), size=1, created="", title=""),
                  ImageInfo(ref="python:3.12", kinds=frozenset(), size=1, created="", title="")]
    check = diagnostics.check_images(images_host(unlabelled), None)
    assert (check.level, check.verdict) == ("warn", "no image on this host is labelled for a session kind")
    assert "make images" in check.hint
    one = [*unlabelled, ImageInfo(ref="me/lab:1", kinds=frozenset({"notebook", "carta"}), size=1, created="", title="")]
    check = diagnostics.check_images(images_host(one), None)
    assert (check.level, check.verdict, check.figure) == ("ok", "images for: carta, notebook", "1 labelled image(s)")
