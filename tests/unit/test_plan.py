"""Each kind's launch plan follows the upstream conventions (CARTA and Firefly included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from canfar_desktop.core import plan as P
from canfar_desktop.core.errors import ValidationError
from canfar_desktop.core.kinds import KINDS, get_kind, image_kinds
from canfar_desktop.core.settings import Resources

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SECRET = "s" * 48
STORAGE = P.Storage(
    P.Mount("/data/arc/home/ada", "/arc/home/ada"),
    P.Mount("/data/arc/projects", "/arc/projects"),
    P.Mount("/state/scratch/abcd1234", "/scratch"),
)


def make(kind: str, res: Resources | None = None, **kw: object) -> P.ContainerPlan:
    req = P.LaunchRequest(kind=kind, image="img:1", name="My-Session", resources=res or Resources(), **kw)  # type: ignore[arg-type]
    return P.build_plan(req, KINDS[kind], session_id="abcd1234", secret=SECRET, user="ada", uid=1234, gid=567,
                        storage=STORAGE, host_cpus=16, host_ram_gb=64, now=NOW, lifetime=timedelta(days=4))


def test_every_plan_is_safe_by_default() -> None:
    for kind in KINDS:
        plan = make(kind)
        assert plan.ports == {f"{KINDS[kind].port}/tcp": ("127.0.0.1", None)}, "published on loopback only"
        assert plan.user == "1234:567", "never root"
        assert "no-new-privileges:true" in plan.security_opt and plan.cap_drop == ["ALL"]
        assert plan.environment["HOME"] == "/arc/home/ada" and plan.working_dir == "/arc/home/ada"
        assert [m.target for m in plan.mounts] == ["/arc/home/ada", "/arc/projects", "/scratch"]
        assert plan.labels[P.L_ID] == "abcd1234" and plan.labels[P.L_KIND] == kind
        assert plan.labels[P.L_EXPIRY] == (NOW + timedelta(days=4)).isoformat(timespec="seconds")
        assert SECRET not in str(plan.labels), "the secret never goes into labels"


def test_notebook_matches_canfar() -> None:
    plan = make("notebook")
    assert plan.command is not None
    assert plan.command[:2] == ["jupyter", "lab"]
    assert "--ServerApp.base_url=/session/notebook/abcd1234/" in plan.command
    assert "--ServerApp.root_dir=/" in plan.command and "--no-browser" in plan.command
    assert plan.environment["JUPYTER_TOKEN"] == SECRET
    assert plan.environment["JUPYTER_CONFIG_DIR"] == "/arc/home/ada/.jupyter"
    ctx = P.LaunchContext if hasattr(P, "LaunchContext") else None  # noqa: F841 - documented in kinds
    from canfar_desktop.core.kinds import LaunchContext

    c = LaunchContext("abcd1234", "ada", SECRET, 2)
    assert KINDS["notebook"].url(c) == f"/session/notebook/abcd1234/lab/tree/arc/home/ada?token={SECRET}"
    assert KINDS["notebook"].probe(c).path == "/session/notebook/abcd1234/api"


def test_carta_matches_upstream() -> None:
    plan = make("carta")
    assert plan.command == [
        "carta", "--no_browser", "--host=0.0.0.0", "--port=3002", "--top_level_folder=/arc",
        "--http_url_prefix=/session/carta/abcd1234", "--enable_scripting", "--idle_timeout=100000",
        "/arc/projects",
    ]
    assert plan.entrypoint == [], "the command replaces cartavis/carta's `carta` entrypoint, not appended to it"
    assert plan.environment["CARTA_AUTH_TOKEN"] == SECRET
    assert plan.environment["UWS_HTTP_MAX_HEADERS_SIZE"] == "32768"
    assert "3002/tcp" in plan.ports
    from canfar_desktop.core.kinds import LaunchContext

    c = LaunchContext("abcd1234", "ada", SECRET, 2)
    assert KINDS["carta"].url(c) == f"/session/carta/abcd1234/?token={SECRET}"


def test_firefly_matches_upstream_and_gets_a_memory_limit() -> None:
    plan = make("firefly")
    assert plan.command is None, "Firefly starts from its Tomcat entrypoint"
    assert plan.entrypoint is None, "and that entrypoint stays"
    assert plan.environment["ADMIN_PASSWORD"] == SECRET
    assert "8080/tcp" in plan.ports
    assert plan.mem_limit == 4 * 1024**3, "its JVM sizes itself from the container limit"
    from canfar_desktop.core.kinds import LaunchContext

    assert KINDS["firefly"].probe(LaunchContext("abcd1234", "ada", "", 1)).path == "/firefly/healthz"


def test_desktop_url_carries_the_secret_for_websockify_and_vnc() -> None:
    from canfar_desktop.core.kinds import LaunchContext

    url = KINDS["desktop"].url(LaunchContext("abcd1234", "ada", SECRET, 1))
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/vnc.html"
    assert query["autoconnect"] == ["1"] and query["resize"] == ["remote"]
    assert query["path"] == [f"websockify?token={SECRET}"]
    assert query["password"] == [SECRET]
    assert make("desktop").environment["CANFAR_SECRET"] == SECRET


def test_contributed_listens_on_5000_without_command() -> None:
    plan = make("contributed")
    assert "5000/tcp" in plan.ports and plan.command is None


def test_fixed_resources_are_limits_and_threads() -> None:
    plan = make("notebook", Resources(mode="fixed", cores=3, ram_gb=8, gpus=2))
    assert plan.nano_cpus == 3 * 10**9
    assert plan.mem_limit == 8 * 1024**3 and plan.mem_reservation == 8 * 1024**3
    assert plan.environment["OMP_NUM_THREADS"] == "3" == plan.environment["MKL_NUM_THREADS"]
    assert plan.environment["OPENBLAS_NUM_THREADS"] == "3"
    assert plan.device_requests == [{"Driver": "nvidia", "Count": 2, "Capabilities": [["gpu"]]}]


def test_flexible_bursts_to_canfar_ceiling_capped_by_host() -> None:
    plan = make("notebook", Resources(mode="flexible"))
    assert plan.nano_cpus == 8 * 10**9 and plan.mem_limit == 32 * 1024**3
    small = P.build_plan(P.LaunchRequest("notebook", "i:1", "n"), KINDS["notebook"], session_id="x" * 8,
                         secret=SECRET, user="ada", uid=1, gid=1, storage=STORAGE, host_cpus=2, host_ram_gb=3.5,
                         now=NOW, lifetime=timedelta(days=4))
    # the host keeps a quarter of its memory, at least 1 GB: 3.5 GB leaves 2.5 GB to burst into
    assert small.nano_cpus == 2 * 10**9 and small.mem_limit == int(2.5 * 1024**3)
    assert small.pids_limit == P.PIDS_LIMIT
    for host_gb, cap_gb in ((23.5, 23.5 * 0.75), (64, 48), (2, 1), (1, 0.5), (0.25, 0.25)):
        assert P.flexible_ram_cap_gb(host_gb) == cap_gb


def test_user_env_and_command_override() -> None:
    plan = make("notebook", env={"MY_VAR": "1"}, command=("python3", "-m", "http.server"))
    assert plan.environment["MY_VAR"] == "1"
    assert plan.command == ["python3", "-m", "http.server"]


def test_ids_and_secrets_are_random_and_strong() -> None:
    ids = {P.new_session_id() for _ in range(200)}
    assert len(ids) == 200 and all(len(i) == 8 and set(i) <= set(P.SESSION_ID_ALPHABET) for i in ids)
    secrets_ = [P.new_secret() for _ in range(200)]
    assert len(set(secrets_)) == 200
    assert all(len(bytes.fromhex(s)) * 8 >= 192 for s in secrets_), "the README promises 192-bit secrets"


def test_kind_lookup_and_image_labels() -> None:
    assert get_kind("Notebook").name == "notebook"
    with pytest.raises(ValidationError, match="choose one of"):
        get_kind("jupyter")
    assert image_kinds({"net.canfar.desktop.kinds": "notebook, Desktop"}) == {"notebook", "desktop"}
    assert image_kinds(None) == set()
