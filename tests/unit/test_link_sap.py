"""Link SAP mapping (daemon events -> MIH link indications) and the PoS's side of an MN-initiated handover
(MN_HO_Commit / MN_HO_Complete), over real UDP between two in-process agents."""
from __future__ import annotations

import asyncio
from pathlib import Path

from node_agents.agent import Agent, AgentConfig
from node_agents.link_sap import detected, indication, link_tuple
from node_agents.mih import Message, decode, encode
from node_agents.mih.compound import Alt

STA, AP1, AP2 = "02:00:00:00:02:00", "02:00:00:00:00:00", "02:00:00:00:01:00"


def wire(msg: Message) -> Message:
    return decode(encode(Message.of(msg.name, src="mn@t", dst="pos@t", **msg.fields)))


def test_daemon_events_become_link_indications() -> None:
    up = wire(indication(f"CTRL-EVENT-CONNECTED - Connection to {AP2} completed [id=0 id_str=]", "IEEE802_11",
                         STA, None))
    assert up.name == "Link_Up.indication"
    assert up.fields["link_id"].link.link_addr.value == STA and up.fields["link_id"].poa_addr.value == AP2
    down = wire(indication(f"CTRL-EVENT-DISCONNECTED bssid={AP1} reason=4 locally_generated=1", "IEEE802_11",
                           STA, AP2))
    assert (down.name, down.fields["link_down_reason"]) == ("Link_Down.indication", "packet_timeout")
    assert down.fields["link_id"].poa_addr.value == AP1
    gd = wire(indication("CTRL-EVENT-BEACON-LOSS", "IEEE802_11", STA, AP1))
    assert gd.name == "Link_Going_Down.indication" and gd.fields["link_id"].poa_addr.value == AP1
    wired = wire(indication("CTRL-EVENT-CONNECTED - Connection to 01:80:c2:00:00:03 completed", "Ethernet",
                            STA, None))
    assert wired.fields["link_id"].link.link_type == "Ethernet" and wired.fields["link_id"].poa_addr is None
    assert indication("CTRL-EVENT-EAP-STARTED", "IEEE802_11", STA, AP1) is None


def test_scan_results_are_detected_once() -> None:
    table = ("bssid / frequency / signal level / flags / ssid\n"
             f"{AP1}\t2412\t-30\t[WPA2-EAP-CCMP][ESS]\tmihsec-a\n"
             f"{AP2}\t2437\t-45\t[WPA2-EAP-CCMP][ESS]\tmihsec-b\n")
    seen: set[str] = set()
    msg = wire(detected(table, STA, seen))
    infos = msg.fields["link_det_info_list"]
    assert [(i.link.poa_addr.value, i.network_id, i.sig_strength.value) for i in infos] == [
        (AP1, "mihsec-a", -30), (AP2, "mihsec-b", -45)]
    assert all("security" in i.net_caps for i in infos)
    assert detected(table, STA, seen) is None  # nothing new


def test_pos_permits_known_targets_and_counts_events(tmp_path: Path) -> None:
    db = [{"ssid": "mihsec-b", "poas": [{"bssid": AP2, "freq": 2437}], "pos": None}]

    async def main() -> tuple:
        pos = Agent(AgentConfig(node="pos", role="pos", mihf_id="pos@t", control=str(tmp_path / "p.sock"),
                                listen="127.0.0.2", extra={"is_db": db, "mih_protection": False}))
        mn = Agent(AgentConfig(node="mn", role="mn", mihf_id="mn@t", control=str(tmp_path / "m.sock"),
                               listen="127.0.0.3", extra={"mih_protection": False}))
        for a in (pos, mn):
            await a.mihf.start()
            await a.role.start()
        try:
            ask = lambda m: mn.mihf.request(("127.0.0.2", 4551), m)  # noqa: E731
            ok = await ask(Message.of("MN_HO_Commit.request", dst="pos@t", link_type="IEEE802_11",
                                      target_network_info=Alt("link_addr", Alt("mac", AP2))))
            bad = await ask(Message.of("MN_HO_Commit.request", dst="pos@t", link_type="IEEE802_11",
                                       target_network_info=Alt("link_addr", Alt("mac", "02:00:00:00:99:00"))))
            done = await ask(Message.of("MN_HO_Complete.request", dst="pos@t",
                                        link_id=link_tuple("IEEE802_11", STA, AP1),
                                        new_link_id=link_tuple("IEEE802_11", STA, AP2), ho_result="success"))
            await mn.mihf.indicate(("127.0.0.2", 4551), Message.of("Link_Up.indication", dst="pos@t",
                                                                   link_id=link_tuple("IEEE802_11", STA, AP2)))
            stats = await pos.command({"cmd": "stats"})
        finally:
            for a in (mn, pos):
                await a.mihf.close()
        return ok, bad, done, stats

    ok, bad, done, stats = asyncio.run(main())
    assert ok.fields["status"] == "success" and ok.fields["target_network_info"].value.value == AP2
    assert bad.fields["status"] == "rejected"
    assert done.fields["status"] == "success"
    assert stats["ho_commit"] == 2 and stats["ho_complete"] == 1 and stats["events"] == {"Link_Up": 1}
