"""The image catalogue: every image usable for each kind, on a host, and pulling, updating, removing.

It joins three sources: CANFAR's own images for each kind (whether pulled or not, so they are always
offered), the images this project builds (`make images`), and any other image on the host whose
label (`net.canfar.desktop.kinds`) or name says which kinds it serves — CANFAR keeps its images'
kinds as registry labels that a pulled image does not carry, so a pulled CANFAR image, a Jupyter
image or `cartavis/carta` is recognised by its name. The CLI's `image` verb and the app's catalogue
window show the same entries.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .errors import ValidationError
from .host import ImageInfo, ProgressFn
from .kinds import CARTA, DESKTOP, DESKTOP_APP, FIREFLY, KINDS, NOTEBOOK
from .record import record
from .validation import normalize_image

if TYPE_CHECKING:
    from .service import SessionService

CANFAR_REGISTRY = "images.canfar.net/"
PROJECT_REPO = "canfar-desktop/"
# The kinds an image serves, read from its repository's last name part when it carries no label.
NAME_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("notebook", ("notebook", "jupyter", "astroml")),
    ("desktop", ("desktop", "vnc")),
    ("carta", ("carta",)),
    ("firefly", ("firefly",)),
)
CATALOGUE_KINDS = (*KINDS, DESKTOP_APP.name)  # what the catalogue lists images for, in this order


@record
class Known:
    """An image CANFAR publishes for a kind, described for people choosing one."""

    ref: str
    kind: str
    title: str
    description: str


CANFAR_IMAGES: tuple[Known, ...] = (
    Known(NOTEBOOK.default_image, "notebook", "CANFAR astroml",
          "CANFAR's notebook: JupyterLab with the astronomy and machine-learning Python stack"),
    Known(DESKTOP.default_image, "desktop", "CANFAR desktop",
          "CANFAR's Xfce desktop on TigerVNC (its menu starts applications through CANFAR's own service)"),
    Known(CARTA.default_image, "carta", "CANFAR CARTA 5.1",
          "CARTA, the Cube Analysis and Rendering Tool for Astronomy, as CANFAR runs it"),
    Known(FIREFLY.default_image, "firefly", "CANFAR Firefly 2025.2",
          "IPAC's Firefly viewer for images, catalogues and cutouts, as CANFAR runs it"),
)


@record
class Entry:
    """One image of the catalogue, as the CLI and the app show it."""

    ref: str
    kinds: tuple[str, ...]
    origin: str  # "CANFAR", "this project", "stand-in" (test images of this project), "this host"
    title: str
    description: str
    pulled: bool
    size: int | None  # bytes on the host; None when not pulled
    created: datetime | None  # when the image was built; None when not pulled
    digest: str = ""

    def age(self, now: datetime | None = None) -> float | None:
        """Seconds since the image was built, or None."""
        if self.created is None:
            return None
        return max(0.0, ((now or datetime.now(UTC)) - self.created).total_seconds())

    @property
    def can_pull(self) -> bool:
        """Images this project builds come from `make images`, not from a registry."""
        return self.origin not in ("this project", "stand-in")


@record
class PullResult:
    ref: str
    before: str  # the image id before the pull ("" when it was not on the host)
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def describe(self) -> str:
        if not self.before:
            return f"{self.ref} pulled"
        return f"{self.ref} updated to a new version" if self.changed else f"{self.ref} is already up to date"


def repository_name(ref: str) -> str:
    """The last part of a reference's repository: `images.canfar.net/skaha/astroml:1.0` → `astroml`."""
    last = ref.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def distinct(images: list[ImageInfo]) -> list[ImageInfo]:
    """One record per image: of the tags one image carries (`:latest` and the recipe hash of an image
    built here, say), the `:latest` one, else the shortest."""
    best: dict[str, ImageInfo] = {}
    for image in images:
        key = image.digest or image.ref
        held = best.get(key)
        if held is None or _rank(image.ref) < _rank(held.ref):
            best[key] = image
    return list(best.values())


def _rank(ref: str) -> tuple[int, int, str]:
    return (0 if ref.endswith(":latest") else 1, len(ref), ref)


def kinds_by_name(ref: str) -> tuple[str, ...]:
    """The kinds an image's name says it serves (a desktop *application* is never a desktop)."""
    name = repository_name(ref)
    if "desktop-app" in name:
        return ()
    return tuple(kind for kind, words in NAME_HINTS if any(w in name for w in words))


def _created(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00")[:26])
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def classify(image: ImageInfo) -> tuple[tuple[str, ...], str]:
    """(kinds, origin) of an image on the host; no kinds means the catalogue leaves it out."""
    known = {k.ref: k for k in CANFAR_IMAGES}
    name = repository_name(image.ref)
    stand_in = "stand-in" in image.title.lower() or name.endswith("-standin")
    if image.ref in known:
        return (known[image.ref].kind,), "CANFAR"
    kinds = tuple(k for k in CATALOGUE_KINDS if k in image.kinds) or kinds_by_name(image.ref)
    if stand_in:
        return kinds, "stand-in"
    if image.ref.startswith(PROJECT_REPO):
        return kinds, "this project"
    if image.ref.startswith(CANFAR_REGISTRY):
        return kinds, "CANFAR"
    return kinds, "this host"


def entries(images: list[ImageInfo]) -> list[Entry]:
    """Every catalogue entry for a host's images: CANFAR's for each kind (pulled or not), then the
    host's images that serve a kind. Sorted by kind, then this project's, CANFAR's, the rest."""
    found: dict[str, Entry] = {}
    by_ref = {i.ref: i for i in images}
    images = distinct(images)
    for known in CANFAR_IMAGES:
        local = by_ref.get(known.ref)
        found[known.ref] = Entry(
            ref=known.ref, kinds=(known.kind,), origin="CANFAR", title=known.title, description=known.description,
            pulled=local is not None, size=local.size if local else None,
            created=_created(local.created) if local else None, digest=local.digest if local else "")
    for image in images:
        if image.ref in found:
            continue
        kinds, origin = classify(image)
        if not kinds:
            continue
        found[image.ref] = Entry(
            ref=image.ref, kinds=kinds, origin=origin, title=image.title or repository_name(image.ref),
            description=_description(kinds, origin), pulled=True, size=image.size,
            created=_created(image.created), digest=image.digest)
    order = {"this project": 0, "CANFAR": 1, "this host": 2, "stand-in": 3}
    return sorted(found.values(), key=lambda e: (min(CATALOGUE_KINDS.index(k) for k in e.kinds),
                                                 order.get(e.origin, 9), e.ref))


def _description(kinds: tuple[str, ...], origin: str) -> str:
    names = ", ".join(KINDS[k].title if k in KINDS else DESKTOP_APP.title for k in kinds)
    if origin == "stand-in":
        return f"A test image keeping the start-up contract of {names}; not the real application"
    if origin == "this project":
        return f"Built on this machine from resources/images ({names})"
    return f"{names} image on this host"


def for_kind(all_entries: list[Entry], kind: str) -> list[Entry]:
    """The entries that serve a kind: CANFAR's image for it is always among them."""
    return [e for e in all_entries if kind in e.kinds]


def image_choices(kind: str, images: list[ImageInfo]) -> list[str]:
    """Image references to offer for a kind: pulled ones (this project's first), then CANFAR's."""
    mine = for_kind(entries(images), kind)
    return [e.ref for e in mine if e.pulled] + [e.ref for e in mine if not e.pulled]


# --- acting on a host ---------------------------------------------------------------------

def listing(service: SessionService, host: str | None = None) -> list[Entry]:
    return entries(service.images(host))


def pull(service: SessionService, ref: str, host: str | None = None,
         progress: ProgressFn | None = None) -> PullResult:
    """Pull (or pull again: update) an image; says whether the host's copy changed."""
    image = normalize_image(ref)
    dh = service.host(host)
    before = dh.image_id(image) or ""
    dh.pull(image, progress)
    return PullResult(image, before, dh.image_id(image) or "")


def remove(service: SessionService, ref: str, host: str | None = None) -> str:
    """Remove an image from the host (refused while a session's container uses it)."""
    image = normalize_image(ref)
    dh = service.host(host)
    if dh.image_id(image) is None:
        raise ValidationError(f"{image} is not on {dh.name}", "see canfar-desktop image ls")
    dh.remove_image(image)
    return image
