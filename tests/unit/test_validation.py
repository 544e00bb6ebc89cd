from __future__ import annotations

import pytest

from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.settings import Resources
from canfar_desktop.core.validation import (
    NAME_MAX,
    normalize_image,
    parse_env,
    parse_size_gb,
    validate_name,
    validate_resources,
)


@pytest.mark.parametrize("name", ["a", "galaxy-photometry", "ALMA-2", "x" * NAME_MAX])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(("name", "message"), [
    ("", "empty"), ("my session", "' '"), ("é", "'é'"), ("a_b", "'_'"), ("x" * (NAME_MAX + 1), "characters long"),
    ("semi;colon", "';'"),
])
def test_invalid_names_say_why(name: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_name(name)
    assert message in str(info.value)
    assert info.value.hint


@pytest.mark.parametrize(("ref", "expected"), [
    ("skaha/astroml", "images.canfar.net/skaha/astroml:latest"),
    ("images.canfar.net/skaha/carta:5.1.0", "images.canfar.net/skaha/carta:5.1.0"),
    ("quay.io/jupyter/scipy-notebook", "quay.io/jupyter/scipy-notebook:latest"),
    ("localhost:5000/team/app:v1", "localhost:5000/team/app:v1"),
    ("canfar-desktop/notebook:latest", "canfar-desktop/notebook:latest"),
    ("ubuntu@sha256:" + "a" * 64, "ubuntu@sha256:" + "a" * 64),
])
def test_image_references(ref: str, expected: str) -> None:
    assert normalize_image(ref) == expected


@pytest.mark.parametrize("ref", ["", "Upper/Case", "a b", "image:", "image::tag", "-leading", "a/" + "b" * 300,
                                 "x:tag with space"])
def test_bad_image_references(ref: str) -> None:
    with pytest.raises(ValidationError):
        normalize_image(ref)


def test_env_entries() -> None:
    assert parse_env(["A=1", "B_2=x=y", "EMPTY="]) == {"A": "1", "B_2": "x=y", "EMPTY": ""}
    for bad in ["NOEQUALS", "1X=2", "A-B=1", "=v"]:
        with pytest.raises(ValidationError):
            parse_env([bad])
    with pytest.raises(ValidationError, match="secret"):
        parse_env(["JUPYTER_TOKEN=mine"], reserved=("JUPYTER_TOKEN",))


def test_resources_against_host() -> None:
    ok = Resources(mode="fixed", cores=2, ram_gb=4)
    assert validate_resources(ok, host_cpus=2, host_ram_gb=8, host_gpus=0) is ok
    with pytest.raises(ValidationError, match="this host has 2"):
        validate_resources(Resources(mode="fixed", cores=4, ram_gb=4), 2, 8, 0)
    with pytest.raises(ValidationError, match="GB of RAM"):
        validate_resources(Resources(mode="fixed", cores=1, ram_gb=64), 2, 8, 0)
    with pytest.raises(ValidationError, match="GPU"):
        validate_resources(Resources(gpus=1), 2, 8, 0)
    # flexible sessions are capped by the host, not refused
    assert validate_resources(Resources(mode="flexible", cores=64, ram_gb=512), 2, 8, None)


@pytest.mark.parametrize(("text", "gb"), [("16", 16.0), ("16G", 16.0), ("512M", 0.5), ("1T", 1024.0), ("0.25", 0.25)])
def test_sizes(text: str, gb: float) -> None:
    assert parse_size_gb(text) == pytest.approx(gb)


@pytest.mark.parametrize("text", ["", "lots", "-1", "0", "nan", "inf"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_size_gb(text)
