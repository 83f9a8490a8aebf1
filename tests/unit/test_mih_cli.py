"""The `mih` CLI subcommands: decode (hex and pcap) to JSON, encode JSON back, bench."""
import argparse
import json

from node_agents.mih import encode
from node_agents.mih.cli import add_parser, main
from node_agents.mih.fragment import split
from node_agents.mih.pcap import PcapSink
from node_agents.mih.samples import corpus, link_up


def test_add_parser_wires_handlers():
    parser = argparse.ArgumentParser(prog="mihsec")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["mih", "decode", "00"])
    assert callable(args.func)


def test_decode_then_encode_is_identity(tmp_path, capsys):
    for msg in corpus():
        frame = encode(msg).hex()
        assert main(["mih", "decode", frame]) == 0
        out = capsys.readouterr().out
        assert json.loads(out)["message"] == msg.name
        (tmp_path / "m.json").write_text(out)
        assert main(["mih", "encode", str(tmp_path / "m.json")]) == 0
        assert capsys.readouterr().out.strip() == frame


def test_decode_bad_hex_reports_offset(capsys):
    assert main(["mih", "decode", encode(link_up()).hex()[:-4]]) == 1
    assert "offset 6" in capsys.readouterr().err


def test_decode_pcap_reassembles_fragments(tmp_path, capsys):
    path = tmp_path / "t.pcap"
    with PcapSink(path) as p:
        p.write(encode(link_up()), ("10.0.0.1", 4551), ("10.0.0.2", 4551))
        for f in split(corpus()[6], mtu=40)[1]:
            p.write(f, ("10.0.0.2", 4551), ("10.0.0.1", 4551))
        p.write(b"\x10\x00", ("10.0.0.2", 4551), ("10.0.0.1", 4551))
    assert main(["mih", "decode", str(path)]) == 1  # one undecodable packet
    out = json.loads(capsys.readouterr().out)
    assert [o.get("message") for o in out] == ["Link_Up.indication", "Get_Information.response", None]
    assert out[2]["error"]["offset"] == 2
    (tmp_path / "all.json").write_text(json.dumps(out))
    assert main(["mih", "encode", str(tmp_path / "all.json")]) == 0
    assert len(capsys.readouterr().out.split()) == 2


def test_bench_prints_rate(capsys):
    assert main(["mih", "bench", "--count", "2000"]) == 0
    assert "messages/s" in capsys.readouterr().out
