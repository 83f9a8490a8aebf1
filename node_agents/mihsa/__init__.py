"""MIH security (802.21a-style, PROVISIONAL where 802.21a's text is not public): pure logic, no network.

kdf.py derives MIH SA keys (EAP MSK or TLS exporter), suites.py lists the AEAD ciphersuites, sa.py is
one SA (sequence numbers, replay window, limits), envelope.py the protected PDU layout, policy.py the
table of messages that may travel unprotected, hook.py the outbound/inbound hook of one MIHF,
proauth.py channel-bound proactive keys. docs/mih-security.md explains the design.
"""
from .errors import ExpiredSa, MihSecurityError, Replayed, Retransmission, Tampered, UnknownSa, Unprotected
from .hook import MihSecurity
from .kdf import SaKeys, confirm_tag, eap_sa_keys, tls_sa_keys, transcript_hash
from .policy import CLEAR, POLICY, PROTECT, may_be_clear
from .proauth import NoProactiveKey, ProactiveKeys, bound_key
from .sa import INITIATOR, RESPONDER, SaLimits, SecurityAssociation

__all__ = ["ExpiredSa", "MihSecurityError", "Replayed", "Retransmission", "Tampered", "UnknownSa", "Unprotected",
           "MihSecurity", "SaKeys", "confirm_tag", "eap_sa_keys", "tls_sa_keys", "transcript_hash", "CLEAR",
           "POLICY", "PROTECT", "may_be_clear", "NoProactiveKey", "ProactiveKeys", "bound_key", "INITIATOR",
           "RESPONDER", "SaLimits", "SecurityAssociation"]
