"""Link SAPs: what a link's daemon reports, as MIH link events (802.21 clause 7.3).

An 802.11 link is its wpa_supplicant; an 802.3 port with 802.1X is its wired wpa_supplicant, whose
port authorization is the moment the link can carry data. A thread reads the daemon's control-
interface events (node_agents/ctrl.py, which the orchestrator uses too) and hands each indication to the
agent's event loop, which sends it to the MN's point of service.

    CTRL-EVENT-CONNECTED - Connection to <bssid> completed ...  -> Link_Up.indication
    CTRL-EVENT-DISCONNECTED bssid=<bssid> reason=<n> ...        -> Link_Down.indication
    CTRL-EVENT-BEACON-LOSS ...                                  -> Link_Going_Down.indication
    CTRL-EVENT-SCAN-RESULTS (BSSs not reported before)          -> Link_Detected.indication
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

from node_agents.ctrl import CtrlSocket, EventMonitor
from node_agents.errors import DaemonError
from node_agents.mih import Message
from node_agents.mih import mihtypes as T
from node_agents.mih.compound import Alt

log = logging.getLogger("mihsec.agent.link")

EVENTS = ("CTRL-EVENT-CONNECTED", "CTRL-EVENT-DISCONNECTED", "CTRL-EVENT-BEACON-LOSS", "CTRL-EVENT-SCAN-RESULTS")
_BSSID = re.compile(r"(?:to |bssid=)([0-9a-f]{2}(?::[0-9a-f]{2}){5})")
_REASON = re.compile(r"reason=(\d+)")
# IEEE 802.11 reason codes -> LINK_DN_REASON
_DOWN = {3: "explicit_disconnect", 8: "explicit_disconnect", 4: "packet_timeout", 5: "no_resource",
         15: "authentication_failure", 16: "authentication_failure", 23: "authentication_failure"}


def link_tuple(link_type: str, own: str, poa: str | None) -> tuple:
    return T.LINK_TUPLE_ID.cls(T.LINK_ID.cls(link_type, Alt("mac", own)), Alt("mac", poa) if poa else None)


def indication(text: str, link_type: str, own: str, last_poa: str | None) -> Message | None:
    """The MIH indication for one daemon event (None: not a link event), without src/dst."""
    m = _BSSID.search(text)
    poa = m.group(1) if m else last_poa
    if link_type == "Ethernet":
        poa = None  # a wired port has no PoA address worth reporting (its MAC is the group address)
    if text.startswith("CTRL-EVENT-CONNECTED"):
        return Message.of("Link_Up.indication", link_id=link_tuple(link_type, own, poa))
    if text.startswith("CTRL-EVENT-DISCONNECTED"):
        r = _REASON.search(text)
        reason = _DOWN.get(int(r.group(1)), "explicit_disconnect") if r else "explicit_disconnect"
        return Message.of("Link_Down.indication", link_id=link_tuple(link_type, own, poa), link_down_reason=reason)
    if text.startswith("CTRL-EVENT-BEACON-LOSS"):
        return Message.of("Link_Going_Down.indication", link_id=link_tuple(link_type, own, poa), time_interval=0,
                          link_going_down_reason="link_parameter_degrading")
    return None


def detected(scan_results: str, own: str, seen: set[str]) -> Message | None:
    """Link_Detected for the BSSs of a SCAN_RESULTS table not reported before (adds them to `seen`)."""
    infos = []
    for line in scan_results.splitlines()[1:]:
        f = line.split("\t")
        if len(f) < 5 or f[0] in seen:
            continue
        seen.add(f[0])
        caps = frozenset({"security"}) if ("WPA" in f[3] or "RSN" in f[3]) else frozenset()
        infos.append(T.LINK_DET_INFO.cls(link_tuple("IEEE802_11", own, f[0]), f[4], b"",
                                         Alt("dbm", max(-128, min(127, int(f[2])))), 0, 0, frozenset(), caps))
    return Message.of("Link_Detected.indication", link_det_info_list=tuple(infos)) if infos else None


class LinkSap:
    """Watches one daemon on a thread; `emit(message)` is called (on that thread) for every indication."""

    def __init__(self, ctrl_path: str, link_type: str, own: str, emit: Callable[[Message], None]):
        self.ctrl_path, self.link_type, self.own, self.emit = ctrl_path, link_type, own, emit
        self.poa: str | None = None
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"link-sap-{link_type}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)

    def _run(self) -> None:
        try:
            mon = EventMonitor(self.ctrl_path, f"link SAP ({self.link_type})")
        except (OSError, DaemonError) as e:
            log.warning("link SAP %s: cannot watch %s: %s", self.link_type, self.ctrl_path, e)
            return
        try:
            while not self._stop.is_set():
                try:
                    ev = mon.wait_event(EVENTS, 0.5)
                except DaemonError:
                    continue
                self._handle(ev.text)
        finally:
            mon.close()

    def _handle(self, text: str) -> None:
        if text.startswith("CTRL-EVENT-SCAN-RESULTS"):
            if self.link_type != "IEEE802_11":
                return
            with CtrlSocket(self.ctrl_path, "link SAP") as c:
                msg = detected(c.request("SCAN_RESULTS"), self.own, self.seen)
        else:
            msg = indication(text, self.link_type, self.own, self.poa)
            if msg is not None and msg.name == "Link_Up.indication" and msg.fields["link_id"].poa_addr:
                self.poa = msg.fields["link_id"].poa_addr.value
        if msg is not None:
            self.emit(msg)
