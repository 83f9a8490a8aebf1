"""Protection switches and network-entity SA keys from the plan to the agents' configurations."""
from __future__ import annotations

import pytest

from node_agents.mih import Message
from node_agents.mih.codec import encode
from node_agents.mih.compound import Alt
from node_agents.mihsa import MihSecurity, Tampered, UnknownSa
from node_agents.secure import install_network_sas
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


def test_network_sas_interoperate_and_differ_per_pair() -> None:
    pos, poa, other = MihSecurity("pos@t"), MihSecurity("poa@t"), MihSecurity("poa2@t")
    install_network_sas(pos, {"poa@t": "aa" * 32, "poa2@t": "bb" * 32})
    install_network_sas(poa, {"pos@t": "aa" * 32})
    install_network_sas(other, {"pos@t": "cc" * 32})  # wrong key
    msg = Message.of("Push_Key.request", src="pos@t", dst="poa@t", tid=5, mn_link_addr=Alt("mac", "02:00:00:00:00:01"),
                     poa=Alt("mac", "02:00:00:00:0a:01"), key_name=bytes(16), wrapped_key=bytes(40),
                     replay_counter=1, integrity_tag=bytes(16))
    sealed = pos.outbound(encode(msg))
    assert poa.inbound(sealed) == encode(msg)
    to_other = pos.outbound(encode(Message.of("Push_Key.request", **{**msg.fields, "dst": "poa2@t"}, tid=6)))
    with pytest.raises((Tampered, UnknownSa)):  # another pair's key opens nothing
        other.inbound(to_other)
