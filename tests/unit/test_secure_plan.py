"""Protection switches and network-entity SA keys from the plan to the agents' configurations."""
from __future__ import annotations

import pytest

from node_agents.secure.network import network_keys
from testbed import topology
from testbed.agents import Running, agent_extras
from testbed.plan import make_plan


def _extras(topo: topology.Topology) -> tuple[dict, dict]:
    plan = make_plan(topo)
    run = Running(bssids={a.node: f"02:00:00:00:0a:{i:02x}" for i, a in enumerate(plan.aps)})
    return agent_extras(plan, run), {a.node: a for a in plan.agents}


def test_protection_on_by_default_and_every_signalling_pair_shares_one_key() -> None:
    extras, agents = _extras(topology.load("two-domain-wlan"))
    assert all(x["mih_protection"] is True for x in extras.values())
    pairs = 0
    for node, x in extras.items():
        for peer_id, key in x["sa_keys"].items():
            peer = next(n for n, a in agents.items() if a.mihf_id == peer_id)
            assert extras[peer]["sa_keys"][agents[node].mihf_id] == key  # both ends hold the same key
            pairs += 1
    roles = {a.role for a in agents.values()}
    assert pairs and "mn" not in {agents[n].role for n, x in extras.items() if x["sa_keys"]} and "poa" in roles
    keys = [k for x in extras.values() for k in x["sa_keys"].values()]
    assert len(set(keys)) == pairs // 2  # a key per pair, none shared between pairs


def test_topology_flag_switches_protection_off() -> None:
    t = topology.load("two-domain-wlan").model_copy(update={"mih_protection": False})
    extras, _ = _extras(t)
    assert all(x["mih_protection"] is False for x in extras.values())


def test_network_keys_fresh_per_setup_and_per_pair() -> None:
    """Both ends derive the same keys from the per-run key and both nonces; new nonces (a restart) or another
    pair's key give other keys, so a restarted agent never reuses a key with its sequence numbers."""
    n1, n2, n3 = bytes(32), bytes([1]) * 32, bytes([2]) * 32
    a = network_keys(bytes.fromhex("aa" * 32), n1, n2, 7, "pos@t", "poa@t")
    assert a == network_keys(bytes.fromhex("aa" * 32), n1, n2, 7, "pos@t", "poa@t")
    assert a.miek_ir != network_keys(bytes.fromhex("aa" * 32), n1, n3, 7, "pos@t", "poa@t").miek_ir
    assert a.miek_ir != network_keys(bytes.fromhex("bb" * 32), n1, n2, 7, "pos@t", "poa@t").miek_ir
    with pytest.raises(ValueError):
        network_keys(bytes.fromhex("aa" * 32), n1, n1, 7, "pos@t", "poa@t")  # a reflected nonce
