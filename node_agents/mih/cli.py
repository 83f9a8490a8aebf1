"""`mihsec mih ...`: decode frames or captures to JSON, encode JSON to hex, benchmark the codec.

Wire it in with add_parser(subparsers); each subcommand sets func(args) -> exit code.
Standalone: python -m node_agents.mih.cli mih decode HEX.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .codec import decode, decode_pdu, encode, unpack_header
from .codepoints import UDP_PORT
from .errors import MihDecodeError, MihError
from .fragment import Reassembler
from .jsonfmt import from_json, to_json
from .samples import link_up


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser("mih", help="IEEE 802.21 (MIH) frames: decode, encode, benchmark")
    sub = p.add_subparsers(dest="mih_command", required=True)
    d = sub.add_parser("decode", help="print MIH frames (hex, or a .pcap/.pcapng) as JSON")
    d.add_argument("input", help="hex string, '-' for hex on stdin, or a capture file")
    d.add_argument("--port", type=int, default=UDP_PORT, help="UDP port carrying MIH in a capture")
    d.set_defaults(func=cmd_decode)
    e = sub.add_parser("encode", help="print the frame(s) of a JSON message (as decode prints it) in hex")
    e.add_argument("file", help="JSON file: one message object or a list; '-' for stdin")
    e.set_defaults(func=cmd_encode)
    b = sub.add_parser("bench", help="encode+decode messages per second on one core (Link_Up.indication)")
    b.add_argument("--count", type=int, default=200_000)
    b.set_defaults(func=cmd_bench)
    return p


def _is_capture(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError:  # not a file: a hex string
        return False
    return magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
                     b"\x0a\x0d\x0d\x0a")


def _error(e: MihDecodeError) -> dict:
    return {"error": {"offset": e.offset, "problem": e.problem}}


def cmd_decode(args: argparse.Namespace) -> int:
    if _is_capture(args.input):
        return _decode_capture(args.input, args.port)
    text = sys.stdin.read() if args.input == "-" else args.input
    try:
        frame = bytes.fromhex("".join(text.split()).removeprefix("0x"))
    except ValueError:
        print(f"error: {args.input!r} is neither hex nor a capture file", file=sys.stderr)
        return 2
    try:
        print(json.dumps(to_json(decode(frame)), indent=2))
        return 0
    except MihDecodeError as e:
        print(f"error: decode failed at {e}", file=sys.stderr)
        return 1


def _decode_capture(path: str, port: int) -> int:
    from .pcap import read_pcap
    out, bad, reasm = [], 0, Reassembler(lifetime=float("inf"))
    for c in read_pcap(path, port):
        entry = {"packet": c.number, "src": f"{c.src[0]}:{c.src[1]}", "dst": f"{c.dst[0]}:{c.dst[1]}"}
        try:
            pdu = reasm.add(c.src, unpack_header(c.frame), c.frame)
            if pdu is None:
                continue
            msg = decode_pdu(pdu)
        except MihDecodeError as e:
            bad += 1
            out.append(entry | _error(e))
            continue
        out.append(entry | to_json(msg))
    print(json.dumps(out, indent=2))
    return 1 if bad else 0


def cmd_encode(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    try:
        obj = json.loads(text)
        for item in obj if isinstance(obj, list) else [obj]:
            if "error" not in item:  # decode output of a capture may hold undecodable packets
                print(encode(from_json(item)).hex())
        return 0
    except (json.JSONDecodeError, MihError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def cmd_bench(args: argparse.Namespace) -> int:
    msg, n = link_up(), max(args.count, 1)
    frame = encode(msg)
    t = time.perf_counter()
    for _ in range(n):
        decode(encode(msg))
    dt = time.perf_counter() - t
    print(f"{msg.name} ({len(frame)} octets): {n} encode+decode in {dt:.2f} s = {n / dt:,.0f} messages/s on one core")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mihsec")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
