"""mihsec's Python API: describe a testbed as Mininet-WiFi scripts do, run it, hand stations over.

    from mihsec import Network
    net = Network.from_yaml("two-ap-same-ds")      # or build it with net.addStation(...) etc.
    with net:
        print(net["sta1"].cmd("ping -c 1 10.0.0.10"))
"""
from mihsec.handover import HandoverResult, table
from mihsec.network import Network
from testbed.errors import MihsecError, TopologyError

__all__ = ["Network", "HandoverResult", "table", "MihsecError", "TopologyError"]
