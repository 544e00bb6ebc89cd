"""The `packaging` marker: tests that build the Linux packages and smoke-test them (slow: minutes)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds the .deb and .tar.gz with packaging/build.sh and smoke-tests them (minutes)"
    )
