"""The information service: the PoS's database as MIH IEs, and the MN's discovery over real UDP (two agents
on loopback addresses, the same code paths as in the namespaces)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from node_agents.agent import Agent, AgentConfig
from node_agents.info import Candidate, candidates, networks_ie
from node_agents.mih import Message, decode, encode

DB = [
    {"ssid": "mihsec-a", "domain": "a", "akm": "WPA-EAP", "eap": ["TLS"],
     "pos": {"mihf_id": "posa@t", "ip": "10.1.0.10"},
     "poas": [{"node": "apa", "bssid": "02:00:00:00:00:00", "channel": 1, "freq": 2412, "mihf_id": "apa@t",
               "ip": "10.1.0.1"}]},
    {"ssid": "mihsec-b", "domain": "b", "akm": "FT-EAP", "eap": ["TLS", "PEAP"],
     "pos": {"mihf_id": "posb@t", "ip": "10.2.0.10"},
     "poas": [{"node": "apb", "bssid": "02:00:00:00:01:00", "channel": 6, "freq": 2437, "mihf_id": "apb@t",
               "ip": "10.2.0.1"},
              {"node": "apc", "bssid": "02:00:00:00:02:00", "channel": 11, "freq": 2462, "mihf_id": "apc@t",
               "ip": "10.2.0.2"}]},
    {"ssid": "open", "domain": None, "akm": "WPA-EAP", "eap": [], "pos": None,
     "poas": [{"node": "apd", "bssid": "02:00:00:00:03:00", "channel": 1, "freq": 2412}]},
]


def roundtrip(ir) -> list[Candidate]:
    msg = Message.of("Get_Information.response", tid=1, src="pos", dst="mn", status="success",
                     ir_bin_data_list=(ir,))
    return candidates(decode(encode(msg)).fields["ir_bin_data_list"])


def test_every_poa_with_its_authenticator_survives_the_wire() -> None:
    found = {c.bssid: c for c in roundtrip(networks_ie(DB))}
    assert set(found) == {"02:00:00:00:00:00", "02:00:00:00:01:00", "02:00:00:00:02:00", "02:00:00:00:03:00"}
    b = found["02:00:00:00:02:00"]
    assert (b.ssid, b.freq, b.pos_mihf_id, b.pos_ip) == ("mihsec-b", 2462, "posb@t", "10.2.0.10")
    assert b.eap_methods == (13, 25) and b.akm_suites == (0x000FAC03,)
    d = found["02:00:00:00:03:00"]
    assert d.pos_mihf_id is None and d.pos_ip is None  # an ESS without an authenticator says so


def test_query_by_network_id() -> None:
    assert {c.ssid for c in roundtrip(networks_ie(DB, {"mihsec-b"}))} == {"mihsec-b"}
    assert roundtrip(networks_ie(DB, {"nowhere"})) == []


def test_mn_discovers_the_target_authenticator_from_the_pos(tmp_path: Path) -> None:
    """MN agent -> Get_Information.request -> PoS agent -> Get_Information.response, over UDP."""
    async def main() -> tuple[dict, dict, dict]:
        pos = Agent(AgentConfig(node="posa", role="pos", mihf_id="posa@t", control=str(tmp_path / "pos.sock"),
                                listen="127.0.0.2", extra={"is_db": DB, "mih_protection": False}))
        mn = Agent(AgentConfig(node="mn", role="mn", mihf_id="mn@t", control=str(tmp_path / "mn.sock"),
                               listen="127.0.0.3", extra={"is_server": {"mihf_id": "posa@t", "ip": "127.0.0.2"},
                                                                      "mih_protection": False}))
        for a in (pos, mn):
            await a.mihf.start()
            await a.role.start()
        try:
            one = await mn.command({"cmd": "discover", "ssid": "mihsec-b"})
            every = await mn.command({"cmd": "discover"})
            stats = await pos.command({"cmd": "stats"})
        finally:
            for a in (mn, pos):
                await a.mihf.close()
        return one, every, stats

    one, every, stats = asyncio.run(main())
    assert one["ok"], one
    assert [(c["bssid"], c["pos_mihf_id"]) for c in one["candidates"]] == [
        ("02:00:00:00:01:00", "posb@t"), ("02:00:00:00:02:00", "posb@t")]
    assert len(every["candidates"]) == 4
    assert stats["info"] == 2


def test_mn_without_information_server_says_so(tmp_path: Path) -> None:
    async def main() -> dict:
        mn = Agent(AgentConfig(node="mn", role="mn", mihf_id="mn@t", control=str(tmp_path / "mn.sock"),
                               listen="127.0.0.3"))
        await mn.mihf.start()
        await mn.role.start()
        try:
            return await mn.command({"cmd": "discover"})
        finally:
            await mn.mihf.close()

    r = asyncio.run(main())
    assert not r["ok"] and "no information server" in r["error"]
