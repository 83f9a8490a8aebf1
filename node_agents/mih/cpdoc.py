"""Render docs/mih-codepoints.md from the tables: python -m node_agents.mih.cpdoc > docs/mih-codepoints.md"""
from __future__ import annotations

from .codepoints import ACTIONS, CIPHERSUITES, HEADER_BITS, IES, OPCODES, SERVICES, TLVS
from .ies import IE_LIST
from .messages import SPECS
from .tlvs import TLV_TYPES

NOTES = """\
## Notes on interpretation (checked against Wireshark 4.0 `packet-mih.c`, ODTONE, OpenAirInterface)

- **BITMAP bit order.** We number bit 0 as the least significant bit of the big-endian
  value (ODTONE `bitmap::serialize`, OpenAirInterface `MIH_C_BIT_0_VALUE = 0x01`). Wireshark
  reads bit 0 as the most significant bit (`LINK_DETECT_MASK 0x80000000`), so it shows the
  flag names of MIH_EVT_LIST (5), MIH_CMD_LIST (6), IQ_TYPE_LIST (7), TRANSPORT_LIST (8),
  IP_MOB_MGMT (18) and IP_CFG_METHODS (19) mirrored; the raw values agree.
- **MIH_CMD_LIST (TLV 6).** Wireshark labels its bits with LINK_CMD_LIST names (Event
  subscribe, ...); 802.21-2008 (and ODTONE) define Link_Get_Parameters, Link_Configure_Thresholds,
  Link_Actions, Net_HO, MN_HO.
- **NETWORK_TYPE (TLV 9, 62).** Its members are CHOICE(NULL, X) (selector 1 = present, as
  ODTONE); Wireshark treats selector 0 as present.
- **IP_ADDR (TLV 35-37).** TRANSPORT_ADDR = family (2 octets), OCTET_STRING (ODTONE). Wireshark
  reads the address from the length octet on (10.1.2.3 shows as 4.10.1.2) and shows no IPv6.
- **LINK_TUPLE_ID (TLV 13, 14).** Wireshark decodes only the LINK_ID part and ignores the
  trailing CHOICE(NULL, PoA LINK_ADDR).
- **OCTET_STRING / LIST lengths.** Both use the TLV length encoding (ODTONE `list_length`);
  Wireshark reads one octet, so it misreads MIHF IDs and lists longer than 128.
- **Long TLV lengths.** Wireshark shows `mih.tlv_length` for values up to 128 octets and
  `mih.tlv_length_ext` = length - 128 above: both match our encoding.
- **Compositions** of the handover commands and of the 802.21a messages are our best reading
  where no public implementation carries them; they change in messages.py only.
"""


def _table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def render() -> str:
    parts = ["# MIH codepoints, messages and provisional 802.21a choices",
             "Generated from node_agents/mih/{codepoints,tlvs,messages,ies}.py by "
             "`python -m node_agents.mih.cpdoc`; edit those, not this file. "
             "**PROVISIONAL** = unconfirmed 802.21a codepoint chosen by us.",
             "## Services and opcodes",
             _table(["name", "value", "source", "note"],
                    [[n, str(c.value), c.source, c.note] for n, c in {**SERVICES, **OPCODES}.items()]),
             "## Header flag bits (octet 4, above the TID)",
             _table(["bit", "mask", "source", "meaning"],
                    [[n, f"0x{c.value:02x}", f"**{c.source}**", c.note] for n, c in HEADER_BITS.items()]),
             "## MIH SA ciphersuites (see docs/mih-security.md)",
             _table(["name", "value", "source", "note"],
                    [[n, str(c.value), f"**{c.source}**", c.note] for n, c in CIPHERSUITES.items()]),
             "## Actions",
             _table(["action", "SID", "AID", "source", "primitives", "note"],
                    [[a, s, str(c.value), f"**{c.source}**" if c.source == "PROVISIONAL" else c.source,
                      ", ".join(n.split(".")[1] for n in SPECS if n.split(".")[0] == a), c.note]
                     for a, (s, c) in ACTIONS.items()]),
             "## TLVs",
             _table(["type", "field", "data type", "source", "meaning"],
                    [[str(c.value), n, TLV_TYPES[n].name, f"**{c.source}**" if c.source == "PROVISIONAL"
                      else c.source, c.note] for n, c in TLVS.items()]),
             "## Messages (TLVs after Source and Destination MIHF ID; `?` = optional)",
             _table(["message", "MID", "TLVs"],
                    [[s.name, f"0x{s.mid:04x}", " ".join(t.name + ("" if t.mandatory else "?")
                                                         for t in s.tlvs[2:]) or "-"] for s in SPECS.values()]),
             "## Information Elements (IS binary data)",
             _table(["IE", "type", "data type", "source", "note"],
                    [[n, f"0x{c.value:08X}", IE_LIST.table[n][1].name, f"**{c.source}**" if c.source == "PROVISIONAL" else c.source, c.note] for n, c in IES.items()]),
             NOTES]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    print(render(), end="")
