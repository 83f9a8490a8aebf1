#!/usr/bin/env python3
"""Wired-to-WLAN handover: the mobile node starts on an IEEE 802.1X wired port (domain a) and moves to
the WLAN of domain b, pre-authenticated over MIH through the wired link.

The topology is the shipped YAML file, loaded through the API's other front door:

    mihsec run examples/wired_to_wlan.py
"""
from mihsec import Network, table

net = Network.from_yaml("wired-to-wlan")
mn, apb = net["mn"], net["apb"]

with net:
    print("mn's 802.1X port:", mn.cmd("ip -br addr show eth0").split()[2])
    print("cn over the wire:", "1 received" in mn.cmd("ping -c 1 -W 3 10.3.0.20"))
    r = net.handover(mn, apb, scheme="mih_eap")
    print(table([r]))
    print("mn on the WLAN:", mn.status().get("wpa_state"), "with", mn.status().get("bssid"), "(apb is", apb.bssid + ")")
    print("cn over the WLAN:", "1 received" in mn.cmd("ping -c 1 -W 3 10.3.0.20"))
print("logs and captures:", net.results_dir)
