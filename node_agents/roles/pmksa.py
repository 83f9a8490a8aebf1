"""The MN's local command that turns a pre-authentication's key into the radio's media-specific key:
copy the PMKSA into the radio's wpa_supplicant (PMKSA_ADD) under the target ESS's network block."""
from __future__ import annotations

from node_agents.errors import DaemonError
from node_agents.hostap import WpaCtrl
from node_agents.keys import pmkid


def install(wpas_ctrl: str, entry: list[str], *, net_id: int, radio_mac: str, copy: bool) -> dict:
    """`entry` is a PMKSA_GET line (BSSID PMKID PMK reauth expiration akmp ...). The PMKID must bind the
    radio's address; with `copy` the entry is added to `net_id` (made elsewhere: the wired port, the EAP
    peer, or another network block), then the radio must list it there."""
    bssid, key_name, pmk = entry[0], entry[1], entry[2]
    if pmkid(bytes.fromhex(pmk), bssid, radio_mac).hex() != key_name:
        return {"ok": False, "error": "PMKID mismatch: the pre-authentication used another station address"}
    with WpaCtrl(wpas_ctrl, "wpa_supplicant (wpas_ctrl)") as w:
        if copy:
            try:
                w.pmksa_add(net_id=net_id, bssid=bssid, pmkid=key_name, pmk=pmk, reauth=int(entry[3]),
                            expiration=int(entry[4]), akmp=int(entry[5]), opportunistic=0)
            except DaemonError as e:
                return {"ok": False, "error": e.problem}
        ok = any(e[:2] == [bssid, key_name] for e in w.pmksa_get(net_id))
    return {"ok": ok, "pmkid": key_name, "target_net": net_id}
