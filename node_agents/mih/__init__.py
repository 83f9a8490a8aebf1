"""IEEE 802.21 (MIH) protocol library with 802.21a security primitives.

Declarative tables: codepoints.py (numbers + provenance), mihtypes.py / ies.py
(data types), tlvs.py (TLV value types), messages.py (which TLVs each message
carries). codec.py encodes/decodes frames, fragment.py splits/reassembles them,
endpoint.py runs transactions over UDP, pcap.py dumps traffic, cli.py is the
`mihsec mih` tool.
"""
from .codec import decode, encode, make_ack
from .compound import Alt, Ie
from .endpoint import Incoming, MihfEndpoint, TransportConfig
from .errors import (MihDecodeError, MihEncodeError, MihError, MihPeerDeadError, MihTransactionTimeout,
                     MihTransportError)
from .messages import MESSAGES, SPECS, Message

__all__ = ["decode", "encode", "make_ack", "Alt", "Ie", "Incoming", "MihfEndpoint", "TransportConfig",
           "MihDecodeError", "MihEncodeError", "MihError", "MihPeerDeadError", "MihTransactionTimeout",
           "MihTransportError", "MESSAGES", "SPECS", "Message"]
