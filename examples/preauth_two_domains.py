#!/usr/bin/env python3
"""MIH pre-authentication across two mobility domains (IEEE 802.21a style).

The mobile node `mn` is on WLAN domain a; the target AP `apb` is in domain b, behind routers, with its
own point of service (PoS); the home AAA server is behind a WAN link. 802.11 pre-authentication cannot
cross the routers, so the MN's MIH agent pre-authenticates through its serving link: EAP carried in
MIH Pro_Auth messages to domain b's PoS, which relays it to FreeRADIUS and pushes the key to apb.

    mihsec run examples/preauth_two_domains.py
"""
from mihsec import Network, table

net = Network("preauth-demo", description="two routed WLAN domains, a PoS each, home AAA over a WAN link")
net.addSecurity("home", akm="WPA-EAP", eap="TLS", aaa="aaa", rsn_preauth=True)
for sw in ("dsa", "dsb", "dc"):
    net.addSwitch(sw)
net.addDomain("a", switch="dsa", pos="posa", description="serving WLAN")
net.addDomain("b", switch="dsb", pos="posb", description="target WLAN")

aaa, cn, core = net.addAAA("aaa"), net.addHost("cn"), net.addRouter("core")
ra, rb = net.addRouter("ra", domain="a"), net.addRouter("rb", domain="b")
posa, posb = net.addPoS("posa", domain="a"), net.addPoS("posb", domain="b")
apa = net.addAccessPoint("apa", ssid="net-a", channel=1, security="home", domain="a", position="0,0,0")
apb = net.addAccessPoint("apb", ssid="net-b", channel=6, security="home", domain="b", position="60,0,0")
mn = net.addStation("mn", security="home", identity="mn@mihsec.test", ip="10.1.0.100/24", position="25,5,0",
                    serving=apa)

for node, sw, ip in ((apa, "dsa", "10.1.0.1/24"), (posa, "dsa", "10.1.0.10/24"), (ra, "dsa", "10.1.0.254/24"),
                     (apb, "dsb", "10.2.0.1/24"), (posb, "dsb", "10.2.0.10/24"), (rb, "dsb", "10.2.0.254/24"),
                     (core, "dc", "10.3.0.254/24"), (cn, "dc", "10.3.0.20/24")):
    net.addLink(node, sw, ip=ip)
net.addLink(ra, core, ip="10.9.1.1/30", peer_ip="10.9.1.2/30")
net.addLink(rb, core, ip="10.9.2.1/30", peer_ip="10.9.2.2/30")
net.addLink(core, aaa, ip="10.0.0.1/30", peer_ip="10.0.0.2/30", delay_ms=10)  # WAN: +20 ms RTT to the AAA

with net:
    for node, health in net.agents().items():
        print(f"agent {node}: {health['role']} {health['mihf_id']}")
    results = [net.handover(mn, apb, scheme="mih")]       # control: no pre-authentication, full EAP at apb
    results.append(net.handover(mn, apa, scheme="mih"))   # home again (apa still caches the first PMK)
    apb.hostapd("PMKSA_FLUSH")                             # apb forgets the control run's key
    results.append(net.handover(mn, apb, scheme="mih_eap"))  # pre-authenticated: only the 4-way handshake
    print(table(results))
    print("mn reaches cn:", "1 received" in mn.cmd("ping -c 1 -W 3 10.3.0.20"))
print("logs and captures:", net.results_dir)
