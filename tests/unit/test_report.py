"""The support report hides every secret: the session's own by value, others by their shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from canfar_desktop.core.errors import CanfarError
from canfar_desktop.core.events import EngineEvent
from canfar_desktop.core.lifecycle import State
from canfar_desktop.core.report import MASK, redact, support_report
from canfar_desktop.core.session import Session
from canfar_desktop.core.settings import Resources

SECRET = "s3cr3t-5e55i0n-t0k3n-abcdef0123456789"


def test_redact_masks_known_values_and_secret_shapes() -> None:
    text = (f"open http://127.0.0.1:1234/lab?token={SECRET}\n"
            "JUPYTER_TOKEN=abc123def password: hunter22 --ServerApp.token=zzzyyy\n"
            '{"api_key": "k-999"} Authorization: Bearer eyJhbGciOi\n'
            "https://alice:pa55word@example.org/x  keep=this")
    out = redact(text, [SECRET])
    for gone in (SECRET, "abc123def", "hunter22", "zzzyyy", "k-999", "eyJhbGciOi", "pa55word"):
        assert gone not in out, gone
    assert "keep=this" in out and "https://alice:" in out and "@example.org" in out
    assert out.count(MASK) >= 7


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "Jupyter Server 2.14 is running at http://0.0.0.0:8888/lab\nexit code 1"
    assert redact(text, ["", "ab"]) == text


class FakeService:
    """Just enough of SessionService for the report, with the secret leaking into every source."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def get(self, ref: str, host: str | None = None) -> Session:
        return self.s

    def events_of(self, s: Session) -> list[EngineEvent]:
        when = datetime(2024, 5, 1, 12, tzinfo=UTC)
        return [EngineEvent(when, "create", f"image x token={SECRET}", s.container_id, s.id),
                EngineEvent(when + timedelta(seconds=3), "oom", "the kernel killed a process: out of memory",
                            s.container_id, s.id)]

    def oom_kills(self, s: Session) -> tuple[datetime, ...]:
        return tuple(e.when for e in self.events_of(s) if e.action == "oom")

    def tail_logs(self, s: Session, lines: int = 50) -> list[str]:
        return [f"[I] http://127.0.0.1:8888/lab?token={SECRET}", "MemoryError", f"PASSWORD={SECRET[::-1]}"]

    def host_config(self, host: str | None = None) -> Any:
        raise CanfarError("no host here", "")

    def host(self, name: str | None = None) -> Any:
        raise CanfarError("no host here", "")

    def storage_description(self, host: str | None = None) -> str:
        return "/arc"


def make_session() -> Session:
    return Session(id="abc123", name="oomy", kind="notebook", image="canfar-desktop/notebook:latest", owner="u",
                   host="local", container_id="c" * 64, container_name="canfar-abc123", created=None, expiry=None,
                   resources=Resources(mode="fixed", cores=1, ram_gb=0.25), status="exited", state=State.FAILED,
                   reason="out of memory (limit 256 MB)", exit_code=137, oom_killed=True,
                   memory_limit=256 * 2**20, secret=SECRET)


def test_support_report_has_the_facts_and_no_secret(monkeypatch: Any) -> None:
    import canfar_desktop.core.report as report

    monkeypatch.setattr(report, "host_overview", lambda service, host: report.HostOverview(
        "local", "28.2", "Debian", 2, 8 * 2**30, 2**30, 0, 0, 0, "/arc", 2**30, 2**31))
    seen = [(datetime(2024, 5, 1, 12, tzinfo=UTC), "Launching", f"token={SECRET}"),
            (datetime(2024, 5, 1, 12, 0, 5, tzinfo=UTC), "Failed", "out of memory (limit 256 MB)")]
    text = support_report(FakeService(make_session()), make_session(), seen, checks=False)
    assert SECRET not in text and SECRET[::-1] not in text
    for fact in ("id:         abc123", "kind:       notebook", "image:      canfar-desktop/notebook:latest",
                 "exit code 137, killed: out of memory", "- out of memory (limit 256 MB)", "oom", "MemoryError",
                 "Launching", "canfar-desktop 0.", "Docker 28.2 on Debian", "memory limit 256 MB"):
        assert fact in text, fact
