"""tools/wireshark/mih80221a.lua decodes the provisional 802.21a envelope and TLVs in a pcap written by
node_agents.mih.pcap, next to Wireshark's own MIH dissector (which keeps decoding the header)."""
from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from node_agents.mih import Message, encode
from node_agents.mih.pcap import PcapSink
from node_agents.mih.samples import MN, POS, corpus, link_up
from node_agents.mihsa.envelope import envelope, parse
from node_agents.mihsa.fuzz import hook_pair

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
LUA = Path(__file__).resolve().parents[2] / "tools" / "wireshark" / "mih80221a.lua"
EAP_SUCCESS = bytes.fromhex("03070004")
AUTH = Message.of("Auth.response", tid=40, src=POS, dst=MN, status="success", eap_payload=EAP_SUCCESS,
                  key_lifetime=3600, nonce=bytes(range(32)), sa_id=0xCAFE0001, ciphersuite=2,
                  auth_tag=bytes(range(16, 32)))


def _flat(obj, out=None) -> dict[str, list]:
    out = defaultdict(list) if out is None else out
    for k, v in obj.items():
        for x in v if isinstance(v, list) else [v]:
            _flat(x, out) if isinstance(x, dict) else out[k].append(x)
    return out


def _tshark(frames: list[bytes], path: Path) -> list[dict]:
    with PcapSink(path) as p:
        for fr in frames:
            p.write(fr, ("10.0.0.1", 4551), ("10.0.0.2", 4551))
    run = subprocess.run(["tshark", "-X", f"lua_script:{LUA}", "-r", str(path), "-T", "json", "--no-duplicate-keys"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "Lua" not in run.stderr, run.stderr
    return [pkt["_source"]["layers"] for pkt in json.loads(run.stdout)]


def test_protected_envelope_fields(tmp_path: Path) -> None:
    mn, pos = hook_pair(suite=2)
    pos.inbound(mn.outbound(encode(link_up())))                 # the SA is in use: Auth now travels sealed
    plain = [encode(link_up(tid=7)), encode(Message.of("Capability_Discover.request", tid=8, src=MN, dst=POS)),
             encode(AUTH)]
    sealed = [mn.outbound(plain[0]), mn.outbound(plain[1]), pos.outbound(plain[2])]
    layers = _tshark(sealed, tmp_path / "protected.pcap")
    assert len(layers) == 3
    for pdu, clear, layer in zip(sealed, plain, layers):
        p = parse(pdu)
        e = envelope(pdu, p)
        ours = _flat(layer["mih80221a"])
        assert ours["mih80221a.protected"] == ["1"] and ours["mih80221a.p_bit"] == ["0"]
        assert ours["mih80221a.tlv_type"] == ["174"]
        assert int(ours["mih80221a.tlv_length"][0]) == len(pdu) - p.ids_end - 2
        assert int(ours["mih80221a.said"][0], 16) == e.said == 0x5A1D
        assert int(ours["mih80221a.seq"][0]) == e.seq
        assert int(ours["mih80221a.ciphertext_len"][0]) == len(clear) - p.ids_end  # AEAD: same length as plain
        assert ours["mih80221a.tag"] == [e.tag.hex(":")]
        base = _flat(layer["mih"])                               # Wireshark's dissector still reads the header
        assert base["mih.tid"] == [str(int.from_bytes(pdu[4:6], "big") & 0xFFF)]
        assert base["mih.pay_len"] == [str(len(pdu) - 8)] and base["mih.mihf_id"] == [p.src, p.dst]
    assert [int(_flat(x["mih80221a"])["mih80221a.seq"][0]) for x in layers] == [2, 3, 1]
    assert "eap" not in layers[2] and EAP_SUCCESS not in sealed[2]   # the sealed Auth shows no EAP
    assert _flat(layers[2]["mih80221a"])["mih80221a.action"] == ["Auth.response"]


def test_clear_provisional_tlvs(tmp_path: Path) -> None:
    samples = {m.name: m for m in corpus()}
    frames = [encode(AUTH)] + [encode(samples[n]) for n in (
        "Capability_Discover.response", "LL_Auth.request", "Push_Key.request")]
    layers = _tshark(frames, tmp_path / "clear.pcap")
    auth = _flat(layers[0]["mih80221a"])
    assert auth["mih80221a.protected"] == ["0"] and auth["mih80221a.action"] == ["Auth.response"]
    assert auth["mih80221a.eap_payload"] == [EAP_SUCCESS.hex(":")]
    assert _flat(layers[0]["eap"])["eap.code"] == ["3"]            # handed to Wireshark's EAP dissector
    assert auth["mih80221a.nonce"] == [bytes(range(32)).hex(":")]
    assert auth["mih80221a.sa_id"] == ["0xcafe0001"] and auth["mih80221a.ciphersuite"] == ["2"]
    assert auth["mih80221a.auth_tag"] == [bytes(range(16, 32)).hex(":")] and auth["mih80221a.uint"] == ["3600"]
    cap = _flat(layers[1]["mih80221a"])
    assert cap["mih80221a.sec_modes"] == ["0x05"] and cap["mih80221a.sec_mode"] == ["eap_sa", "proactive"]
    assert cap["mih80221a.offered_suite"] == ["1", "2"]
    ll = _flat(layers[2]["mih80221a"])
    assert ll["mih80221a.action"] == ["LL_Auth.request"] and ll["mih80221a.value"] == [(b"\xb0\x00" * 20).hex(":")]
    push = _flat(layers[3]["mih80221a"])
    assert push["mih80221a.action"] == ["Push_Key.request"]
    assert push["mih80221a.uint"] == ["43200", str(0x000FAC01)] and push["mih80221a.uint64"] == ["1"]
