"""mac80211_hwsim radios created per run over the hwsim generic-netlink family.

Radios are created with DESTROY_RADIO_ON_CLOSE: they vanish when the socket that created
them closes, so even a SIGKILLed run leaves no radio behind on a native host.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pyroute2.iwutil import IW
from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST, genlmsg
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import GenericNetlinkSocket

from testbed.errors import SetupError

HWSIM_CMD_NEW_RADIO = 4
HWSIM_CMD_DEL_RADIO = 5
SYS_PHY = Path("/sys/class/ieee80211")


class _HwsimMsg(genlmsg):
    nla_map = (
        ("HWSIM_ATTR_UNSPEC", "none"),
        ("HWSIM_ATTR_ADDR_RECEIVER", "hex"),
        ("HWSIM_ATTR_ADDR_TRANSMITTER", "hex"),
        ("HWSIM_ATTR_FRAME", "hex"),
        ("HWSIM_ATTR_FLAGS", "uint32"),
        ("HWSIM_ATTR_RX_RATE", "uint32"),
        ("HWSIM_ATTR_SIGNAL", "uint32"),
        ("HWSIM_ATTR_TX_INFO", "hex"),
        ("HWSIM_ATTR_COOKIE", "uint64"),
        ("HWSIM_ATTR_CHANNELS", "uint32"),
        ("HWSIM_ATTR_RADIO_ID", "uint32"),
        ("HWSIM_ATTR_REG_HINT_ALPHA2", "asciiz"),
        ("HWSIM_ATTR_REG_CUSTOM_REG", "uint32"),
        ("HWSIM_ATTR_REG_STRICT_REG", "flag"),
        ("HWSIM_ATTR_SUPPORT_P2P_DEVICE", "flag"),
        ("HWSIM_ATTR_USE_CHANCTX", "flag"),
        ("HWSIM_ATTR_DESTROY_RADIO_ON_CLOSE", "flag"),
        ("HWSIM_ATTR_RADIO_NAME", "asciiz"),
    )


@dataclass(frozen=True)
class Radio:
    phy: str  # wiphy name, chosen by us
    index: int  # wiphy index, for nl80211
    mac: str
    ifname: str  # the netdev the kernel created for it (in the root namespace)


def hwsim_usable() -> tuple[bool, str]:
    """Can this host create hwsim radios? (False, why) when it cannot."""
    if os.geteuid() != 0:
        return False, "not root"
    if Path("/sys/module/mac80211_hwsim").exists():
        return True, "mac80211_hwsim loaded"
    if not Path("/proc/modules").exists():
        return False, "kernel has no module support"
    probe = subprocess.run(["modprobe", "-n", "mac80211_hwsim"], capture_output=True, text=True)
    if probe.returncode != 0:
        return False, "mac80211_hwsim module not available for this kernel"
    return True, "mac80211_hwsim can be loaded"


def load_module() -> None:
    if Path("/sys/module/mac80211_hwsim").exists():
        return
    r = subprocess.run(["modprobe", "mac80211_hwsim", "radios=0"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError(f"cannot load mac80211_hwsim: {r.stderr.strip() or r.returncode}")


class HwsimControl:
    """Owns the netlink socket whose closing destroys every radio it created."""

    def __init__(self) -> None:
        load_module()
        self.sock = GenericNetlinkSocket()
        self.sock.bind("MAC80211_HWSIM", _HwsimMsg)
        self.radios: list[Radio] = []

    def _request(self, cmd: int, attrs: list[list[object]]) -> int:
        msg = _HwsimMsg()
        msg["cmd"], msg["version"], msg["attrs"] = cmd, 1, attrs
        try:
            self.sock.nlm_request(msg, msg_type=self.sock.prid, msg_flags=NLM_F_REQUEST | NLM_F_ACK)
        except NetlinkError as e:
            if e.code > 0 and cmd == HWSIM_CMD_NEW_RADIO:  # hwsim acks NEW_RADIO with the radio id
                return e.code
            raise
        return 0

    def new_radio(self, phy: str) -> Radio:
        if (SYS_PHY / phy).exists():
            raise SetupError(f"a wiphy named {phy} already exists (leftover of a run? try `mihsec down`)")
        self._request(HWSIM_CMD_NEW_RADIO, [["HWSIM_ATTR_RADIO_NAME", phy],
                                            ["HWSIM_ATTR_DESTROY_RADIO_ON_CLOSE", True]])
        base = SYS_PHY / phy
        nets = sorted((base / "device" / "net").iterdir())
        radio = Radio(phy, int((base / "index").read_text()), (base / "macaddress").read_text().strip(),
                      nets[0].name)
        self.radios.append(radio)
        return radio

    def move_to_netns(self, radio: Radio, netns: str) -> None:
        fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        try:
            with IW() as iw:
                iw.set_wiphy_netns_by_fd(radio.index, fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        """Destroys the radios (DESTROY_RADIO_ON_CLOSE)."""
        self.sock.close()
        self.radios.clear()


def delete_radio(phy: str) -> None:
    """Remove a named radio left by a run (used by `mihsec down`)."""
    ctl = GenericNetlinkSocket()
    try:
        ctl.bind("MAC80211_HWSIM", _HwsimMsg)
        msg = _HwsimMsg()
        msg["cmd"], msg["version"], msg["attrs"] = HWSIM_CMD_DEL_RADIO, 1, [["HWSIM_ATTR_RADIO_NAME", phy]]
        ctl.nlm_request(msg, msg_type=ctl.prid, msg_flags=NLM_F_REQUEST | NLM_F_ACK)
    except NetlinkError:
        pass
    finally:
        ctl.close()
