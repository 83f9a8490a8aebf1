"""Messages as JSON with named fields: what `mihsec mih decode` prints and `encode` reads."""
from __future__ import annotations

from typing import Any

from .errors import MihEncodeError
from .messages import SPECS, Message


def to_json(msg: Message) -> dict[str, Any]:
    spec = msg.spec
    codecs = {t.name: t.codec for t in spec.tlvs}
    return {
        "message": msg.name,
        "header": {"tid": msg.tid, "ack_req": msg.ack_req, "ack_rsp": msg.ack_rsp, "uir": msg.uir,
                   "sid": spec.sid, "opcode": spec.opcode, "aid": spec.aid},  # sid/opcode/aid: informative
        "fields": {n: codecs[n].to_json(v) for n, v in msg.fields.items()},
    }


def from_json(obj: dict[str, Any]) -> Message:
    """Inverse of to_json (header sid/opcode/aid are ignored: the message name fixes them)."""
    try:
        name, h = obj["message"], obj.get("header", {})
        spec = SPECS[name]
        codecs = {t.name: t.codec for t in spec.tlvs}
        fields = {n: codecs[n].from_json(v) for n, v in obj["fields"].items()}
        return Message(name, fields, int(h.get("tid", 0)), bool(h.get("ack_req", False)),
                       bool(h.get("ack_rsp", False)), bool(h.get("uir", False)))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise MihEncodeError(str(obj.get("message", "?")) if isinstance(obj, dict) else "JSON",
                             f"bad JSON message: {type(e).__name__}: {e}") from None
