#!/usr/bin/env python3
"""Two WPA2-Enterprise APs on one distribution system, FreeRADIUS behind it, one station that roams.

The mihsec version of Mininet-WiFi's examples/handover.py and examples/authentication.py: the station
connects to ap1 (full EAP-TLS), hands over to ap2 (full EAP: ap2 holds no key for it), and back to ap1
(PMKSA caching: only the 4-way handshake). Run it where the radios are:

    mihsec run examples/handover_two_aps.py
"""
from mihsec import Network, table

net = Network("roam-demo", description="two APs on one DS, FreeRADIUS, one station")
net.addSecurity("corp", akm="WPA-EAP", eap="TLS", aaa="aaa")
net.addSwitch("ds")

aaa = net.addAAA("aaa")
ap1 = net.addAccessPoint("ap1", ssid="demo", channel=1, security="corp", position="0,0,0")
ap2 = net.addAccessPoint("ap2", ssid="demo", channel=6, security="corp", position="40,0,0")
sta1 = net.addStation("sta1", security="corp", identity="sta1@mihsec.test", ip="10.0.0.100/24", position="10,5,0")

net.addLink(aaa, "ds", ip="10.0.0.10/24")
net.addLink(ap1, "ds", ip="10.0.0.1/24")
net.addLink(ap2, "ds", ip="10.0.0.2/24", delay_ms=1)
net.addLink(sta1, ap1)  # as in Mininet-WiFi: sta1 associates with ap1 at start

with net:  # start(); stop() on the way out (also on an error or Ctrl-C)
    status = sta1.status()
    print(f"sta1: {status['wpa_state']} with {status['bssid']} ({status['key_mgmt']}), ap1 is {ap1.bssid}")
    ping = sta1.cmd("ping -c 1 -W 2 10.0.0.10")  # in sta1's network namespace, as Mininet's cmd()
    print("sta1 -> aaa:", next(line for line in ping.splitlines() if "transmitted" in line))
    print("ap1 lists:", ap1.hostapd("STA-FIRST").splitlines()[0])

    results = [net.handover(sta1, ap2, scheme="full"),    # ap2 has never seen sta1: full EAP-TLS
               net.handover(sta1, ap1, scheme="pmksa")]   # back: both sides cached the PMK of the first EAP
    print(table(results))
    print("after:", sta1.wpa("STATUS").split("bssid=")[1].split()[0], "(ap1 is", ap1.bssid + ")")
print("logs and capture:", net.results_dir)
