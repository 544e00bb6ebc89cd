"""Recent launches and presets (core/recent.py): name patterns, the list's order and size, pinning, and
saving onto the settings file as it is now (the app and the CLI never drop each other's entries)."""

from __future__ import annotations

from canfar_desktop.core import recent
from canfar_desktop.core.launch import generate_name
from canfar_desktop.core.plan import LaunchRequest
from canfar_desktop.core.settings import AppPaths, RecentLaunch, Resources, load_settings, save_settings


def req(name: str, kind: str = "notebook", image: str = "img:1", cores: float = 2) -> LaunchRequest:
    return LaunchRequest(kind=kind, image=image, name=name, resources=Resources(mode="fixed", cores=cores, ram_gb=4),
                         host="local")


def test_name_patterns() -> None:
    assert recent.pattern_of("notebook", generate_name("notebook")) == ""
    assert recent.pattern_of("notebook", "notebook-ab12") == ""  # the CLI's generated names
    assert recent.pattern_of("notebook", "fit-3") == "fit-{n}"
    assert recent.pattern_of("notebook", "galaxy") == "galaxy"
    assert recent.pattern_of("desktop", "notebook-vega-42") == "notebook-vega-{n}"  # another kind's: a real name


def test_names_from_patterns() -> None:
    assert recent.name_for("", ["x"]) is None
    assert recent.name_for("galaxy", []) == "galaxy"
    assert recent.name_for("galaxy", ["Galaxy", "galaxy-1"]) == "galaxy-2"
    assert recent.name_for("fit-{n}", ["fit-1", "fit-3"]) == "fit-2"
    assert recent.name_for("a" * 32, ["a" * 32]) is None  # no numbered name fits in 32 characters


def test_recent_list_is_newest_first_without_twins_and_ten_long() -> None:
    entries: list[RecentLaunch] = []
    for i in range(12):
        entries = recent.with_launch(entries, recent.from_request(req(f"s{i}", cores=i + 1), "local"))
    assert len(entries) == recent.MAX_RECENT
    assert [e.resources.cores for e in entries] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    again = recent.with_launch(entries, recent.from_request(req("s5", cores=6), "local"))
    assert [e.resources.cores for e in again][:3] == [6, 12, 11] and len(again) == recent.MAX_RECENT


def test_describe() -> None:
    text = recent.describe(recent.from_request(req("fit-2", image="reg/canfar-desktop/notebook:latest"), "local"))
    assert text == "notebook · notebook:latest · 2 cores · 4 GB · local · fit-N"


def test_record_goes_onto_the_file_as_it_is_now(paths: AppPaths) -> None:
    app, _ = load_settings(paths)
    cli, _ = load_settings(paths)
    recent.record(paths, cli, req("from-cli"))
    recent.record(paths, app, req("from-app"))  # the app's copy never saw the CLI's entry
    on_file, _ = load_settings(paths)
    assert [e.name_pattern for e in on_file.recent_launches] == ["from-app", "from-cli"]
    assert [e.name_pattern for e in app.recent_launches] == ["from-app", "from-cli"]
    # a later save of the app's other settings keeps both
    app.session_limit = 5
    save_settings(paths, app)
    assert [e.name_pattern for e in load_settings(paths)[0].recent_launches] == ["from-app", "from-cli"]


def test_pin_and_unpin(paths: AppPaths) -> None:
    settings, _ = load_settings(paths)
    recent.record(paths, settings, req("fit-1"))
    entry = settings.recent_launches[0]
    recent.pin(paths, settings, entry)
    recent.pin(paths, settings, entry)  # once
    assert [p.title for p in load_settings(paths)[0].presets] == ["fit"]
    assert recent.is_pinned(settings, entry)
    recent.unpin(paths, settings, entry)
    assert load_settings(paths)[0].presets == [] and not recent.is_pinned(settings, entry)


def test_unknown_fields_and_kinds_in_the_file_do_not_break_the_settings(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text('{"recent_launches": [{"kind": "gone-kind", "future": 1}], "presets": []}')
    settings, warning = load_settings(paths)
    assert warning is None and settings.recent_launches[0].kind == "gone-kind"
