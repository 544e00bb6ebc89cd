"""A desktop's applications as pure data: the menu, the request line, the container they join."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from canfar_desktop.core.backends.shapes import container_config
from canfar_desktop.core.desktop_apps import (
    MANIFEST,
    REQUEST_MARK,
    app_images,
    app_name,
    desktop_storage,
    entry_id,
    menu_entries,
    parse_request,
)
from canfar_desktop.core.host import ImageInfo
from canfar_desktop.core.kinds import DESKTOP_APP, get_kind, is_batch
from canfar_desktop.core.plan import LaunchRequest, Mount, Storage, build_plan
from canfar_desktop.core.record import replace

DS9 = ImageInfo("canfar-desktop/ds9:latest", frozenset({"desktop-app"}), 1, "1", "SAOImage DS9", "sha256:d")
TOPCAT = ImageInfo("images.canfar.net/skaha/topcat:4.8", frozenset({"desktop-app"}), 1, "1", "", "sha256:t")


def test_menu_lists_each_application_and_hides_those_gone() -> None:
    files = menu_entries([DS9, TOPCAT], previous=[entry_id("canfar-desktop/aladin:latest"), "unrelated.desktop"])
    ds9 = files[entry_id(DS9.ref)].decode()
    assert "Name=SAOImage DS9\n" in ds9 and "Exec=canfar-app-launch canfar-desktop/ds9:latest\n" in ds9
    assert "Categories=X-CANFAR-AstroSoftware;" in ds9
    assert "Name=topcat:4.8\n" in files[entry_id(TOPCAT.ref)].decode(), "CANFAR's naming when there is no title"
    assert b"Hidden=true" in files[entry_id("canfar-desktop/aladin:latest")]
    assert "unrelated.desktop" not in files, "only entries the app wrote are ever hidden"
    assert files[MANIFEST].decode().split() == [entry_id(DS9.ref), entry_id(TOPCAT.ref),
                                                entry_id("canfar-desktop/aladin:latest")]
    assert app_name(DS9) == "SAOImage DS9"
    assert app_images([DS9, ImageInfo("n:1", frozenset({"notebook"}), 1, "1", "")]) == [DS9]


def test_request_lines_are_parsed_strictly() -> None:
    good = REQUEST_MARK + '{"id": "0123456789abcdef", "image": "canfar-desktop/ds9:latest"}'
    assert parse_request(good) == {"id": "0123456789abcdef", "image": "canfar-desktop/ds9:latest"}
    for bad in ("127.0.0.1 - - GET " + good, REQUEST_MARK + "{", REQUEST_MARK + '{"id": "x", "image": "a"}',
                REQUEST_MARK + '{"id": "0123456789abcdef", "image": "a b; rm -rf /"}', REQUEST_MARK + "[1]"):
        assert parse_request(bad) is None, bad


def test_application_shares_the_desktops_storage_and_network() -> None:
    inspected = {"Mounts": [
        {"Type": "bind", "Source": "/data/arc/home/ada", "Destination": "/arc/home/ada"},
        {"Type": "bind", "Source": "/data/arc/projects", "Destination": "/arc/projects"},
        {"Type": "volume", "Name": "canfar-scratch-abcd1234", "Source": "/var/lib/docker/v/_data",
         "Destination": "/scratch"},
    ]}
    storage = desktop_storage(inspected, "ada")
    assert storage.scratch == Mount("canfar-scratch-abcd1234", "/scratch", type="volume")
    plan = build_plan(LaunchRequest("desktop-app", "canfar-desktop/ds9:latest", "ds9-abcd1234"), DESKTOP_APP,
                      session_id="efgh5678", secret="s" * 48, user="ada", uid=1000, gid=1000, storage=storage,
                      host_cpus=4, host_ram_gb=16, now=datetime(2025, 1, 1, tzinfo=UTC), lifetime=timedelta(days=4))
    assert plan.command is None and plan.entrypoint is None, "the application image's own command"
    assert plan.environment["DISPLAY"] == ":1" and plan.ports == {}
    body = container_config(replace(plan, network="container:desk123", hostname=""))
    assert body["HostConfig"]["NetworkMode"] == "container:desk123"
    assert "Hostname" not in body and "Entrypoint" not in body and body["ExposedPorts"] == {}
    assert is_batch("desktop-app"), "no page to wait for, no slot of the session limit"


def test_kind_supplied_commands_clear_the_entrypoint_in_the_engine_body() -> None:
    storage = Storage(Mount("/h", "/arc/home/ada"), Mount("/p", "/arc/projects"), Mount("/s", "/scratch"))
    plan = build_plan(LaunchRequest("carta", "cartavis/carta:4.1", "c"), get_kind("carta"), session_id="abcd1234",
                      secret="s" * 48, user="ada", uid=1000, gid=1000, storage=storage, host_cpus=4, host_ram_gb=16,
                      now=datetime(2025, 1, 1, tzinfo=UTC), lifetime=timedelta(days=4))
    body = container_config(plan)
    assert body["Entrypoint"] == [] and body["Cmd"][0] == "carta"
    assert body["Hostname"] == "c" and not body["HostConfig"]["NetworkMode"].startswith("container:")
    user_cmd = build_plan(LaunchRequest("carta", "cartavis/carta:4.1", "c", command=("carta", "--help")),
                          get_kind("carta"), session_id="abcd1234", secret="s" * 48, user="ada", uid=1000, gid=1000,
                          storage=storage, host_cpus=4, host_ram_gb=16, now=datetime(2025, 1, 1, tzinfo=UTC),
                          lifetime=timedelta(days=4))
    assert "Entrypoint" not in container_config(user_cmd), "a command the person gives goes to the image's entrypoint"
