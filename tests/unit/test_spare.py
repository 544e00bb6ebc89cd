"""The spare namespace's plan and the clean-up's rules, from the engine's listing documents."""

from __future__ import annotations

from canfar_desktop.core import spare
from canfar_desktop.core.plan import L_HELPER, L_OWNER


def helper(name: str, state: str = "running", created: float = 100.0, port: str = "8888") -> dict[str, object]:
    return {"Id": name + "-id", "Names": [f"/{name}"], "State": state, "Created": created,
            "Labels": {L_HELPER: "spare", spare.L_SPARE_PORT: port}}


def test_a_spare_has_nothing_but_its_port() -> None:
    plan = spare.spare_plan(8888, "canfar-sessions", "ada")
    assert plan.container_name.startswith(spare.SPARE_PREFIX) and plan.network == "canfar-sessions"
    (published, (address, port)), = plan.ports.items()
    assert published == "8888/tcp" and address == "127.0.0.1" and port
    assert plan.user == "65534:65534" and plan.cap_drop == ["ALL"] and plan.cap_add == []
    assert plan.mounts == [] and plan.environment == {} and plan.command == ["sleep", "infinity"]
    assert plan.labels == {L_HELPER: "spare", spare.L_SPARE_PORT: "8888", L_OWNER: "ada"}
    assert spare.spare_plan(8888, "canfar-sessions", "ada").container_name != plan.container_name


def test_a_joined_plan_publishes_nothing_and_names_its_port() -> None:
    plan = spare.spare_plan(8888, "canfar-sessions", "ada")
    joined = spare.joined(plan, "abc123", 40000)
    assert joined.network == "container:abc123" and joined.ports == {}
    assert joined.labels["net.canfar.desktop.host-port"] == "40000"


def test_the_clean_up_keeps_the_newest_running_spare_of_each_port() -> None:
    old, new = helper("canfar_spare_a", created=1), helper("canfar_spare_b", created=2)
    stopped = helper("canfar_spare_c", state="exited", created=3)
    carta = helper("canfar_spare_d", port="3002")
    helpers = [old, new, stopped, carta]
    newest = spare.newest_spares(helpers)
    assert newest == {"canfar_spare_b-id", "canfar_spare_d-id"}
    assert [spare.stale(h, set(), newest, True) for h in helpers] == [True, False, True, False]


def test_a_holder_stays_while_its_session_does_or_may_still_come() -> None:
    holder = helper("canfar_netns_abcd1234")
    assert spare.stale(holder, {"abcd1234"}, set(), True) is False
    assert spare.stale(holder, set(), set(), True) is True
    assert spare.stale(holder, set(), set(), False) is False, "a launch may be making its session right now"
    assert spare.stale(helper("canfar_gate_abcd1234"), set(), set(), True) is None, "not a namespace of ours"
