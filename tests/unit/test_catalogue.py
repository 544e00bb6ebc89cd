"""The image catalogue's rules: which kinds an image serves, CANFAR's images always offered, one entry per image."""

from __future__ import annotations

from canfar_desktop.core import catalogue
from canfar_desktop.core.catalogue import CANFAR_IMAGES, PullResult, classify, entries, image_choices, kinds_by_name
from canfar_desktop.core.host import ImageInfo
from canfar_desktop.core.kinds import KINDS


def image(ref: str, kinds: set[str] | None = None, title: str = "", digest: str = "") -> ImageInfo:
    return ImageInfo(ref=ref, kinds=frozenset(kinds or ()), size=123_000_000, created="1764000000", title=title,
                     digest=digest or f"sha256:{abs(hash(ref))}")


def test_names_say_kinds_when_no_label_does() -> None:
    assert kinds_by_name("quay.io/jupyter/scipy-notebook:2024-10-07") == ("notebook",)
    assert kinds_by_name("images.canfar.net/skaha/astroml:24.07") == ("notebook",)
    assert kinds_by_name("cartavis/carta:4.1") == ("carta",)
    assert kinds_by_name("ipac/firefly:release-2024.3.2") == ("firefly",)
    assert kinds_by_name("consol/debian-xfce-vnc") == ("desktop",)
    assert kinds_by_name("images.canfar.net/skaha/desktop-app-base:1") == ()
    assert kinds_by_name("postgres:16") == ()


def test_canfar_image_for_every_kind_is_offered_even_when_a_local_one_exists() -> None:
    local = [image("canfar-desktop/notebook:latest", {"notebook"}), image("postgres:16")]
    found = entries(local)
    for kind in ("notebook", "desktop", "carta", "firefly"):
        refs = [e.ref for e in found if kind in e.kinds]
        assert KINDS[kind].default_image in refs, kind
    canfar = next(e for e in found if e.ref == KINDS["notebook"].default_image)
    assert canfar.origin == "CANFAR" and not canfar.pulled and canfar.size is None and canfar.age() is None
    assert "postgres:16" not in [e.ref for e in found], "an image that serves no kind is left out"
    assert image_choices("notebook", local) == ["canfar-desktop/notebook:latest", KINDS["notebook"].default_image]


def test_a_pulled_canfar_image_is_known_by_its_reference() -> None:
    pulled = image(KINDS["carta"].default_image)  # CANFAR's registry labels are not in the image itself
    assert classify(pulled) == (("carta",), "CANFAR")
    entry = next(e for e in entries([pulled]) if e.ref == pulled.ref)
    assert entry.pulled and entry.size == 123_000_000 and entry.age() is not None


def test_stand_ins_are_marked_and_never_a_kinds_default() -> None:
    standin = image("canfar-desktop/carta-standin:latest", title="CARTA stand-in for tests (not CARTA)")
    kinds, origin = classify(standin)
    assert kinds == ("carta",) and origin == "stand-in"
    assert not standin.kinds, "no kinds label: the launcher's default for carta stays CANFAR's image"
    entry = next(e for e in entries([standin]) if e.ref == standin.ref)
    assert not entry.can_pull and "not the real" in entry.description


def test_one_entry_per_image_the_latest_tag_preferred() -> None:
    same = "sha256:1"
    found = entries([image("canfar-desktop/ds9:22d85ddd4f91", {"desktop-app"}, digest=same),
                     image("canfar-desktop/ds9:latest", {"desktop-app"}, digest=same)])
    assert [e.ref for e in found if "desktop-app" in e.kinds] == ["canfar-desktop/ds9:latest"]


def test_every_canfar_default_is_in_the_catalogue() -> None:
    assert {k.ref for k in CANFAR_IMAGES} == {KINDS[k].default_image for k in ("notebook", "desktop", "carta", "firefly")}
    assert KINDS["firefly"].default_image.endswith(":2025.2"), "CANFAR tags Firefly by upstream version"


def test_update_says_whether_the_image_changed() -> None:
    assert PullResult("x:1", "", "sha256:a").describe() == "x:1 pulled"
    assert PullResult("x:1", "sha256:a", "sha256:a").describe() == "x:1 is already up to date"
    assert PullResult("x:1", "sha256:a", "sha256:b").changed
    assert catalogue.repository_name("images.canfar.net/skaha/astroml@sha256:00") == "astroml"
