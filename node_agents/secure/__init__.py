"""MIH security in the running agents: the endpoint's Protection over an MIH SA hook (adapter.py), service
access authentication MN <-> PoS with EAP in MIH Auth (auth.py), network-entity SAs from a per-run key
(network.py). The protocol logic itself is node_agents.mihsa."""
from .adapter import SaProtection
from .auth import SaAuthenticator, SaError, SaSupplicant, pseudo_mac
from .network import NetworkSas

__all__ = ["SaProtection", "SaAuthenticator", "SaError", "SaSupplicant", "pseudo_mac", "NetworkSas"]
