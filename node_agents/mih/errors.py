"""Typed errors of the MIH library: every failure a caller can handle by type."""
from __future__ import annotations


class MihError(Exception):
    """Base class of all MIH library errors."""


class MihDecodeError(MihError):
    """Malformed input: `offset` is the octet (from the start of the frame) where decoding failed."""

    def __init__(self, offset: int, problem: str):
        self.offset, self.problem = offset, problem
        super().__init__(f"offset {offset}: {problem}")


class MihEncodeError(MihError):
    """A message or value that cannot be encoded (wrong type, out of range, missing field)."""

    def __init__(self, where: str, problem: str):
        self.where, self.problem = where, problem
        super().__init__(f"{where}: {problem}")


class MihTransportError(MihError):
    """A transaction failed on the network."""


class MihPeerDeadError(MihTransportError):
    """The peer never acknowledged: every (re)transmission went unanswered."""

    def __init__(self, peer: tuple, message: str, attempts: int):
        self.peer, self.message, self.attempts = peer, message, attempts
        super().__init__(f"peer {peer[0]}:{peer[1]} did not acknowledge {message} after {attempts} transmissions")


class MihTransactionTimeout(MihTransportError):
    """The peer acknowledged a request but no response came within the transaction lifetime."""

    def __init__(self, peer: tuple, message: str, lifetime: float):
        self.peer, self.message, self.lifetime = peer, message, lifetime
        super().__init__(f"no response from {peer[0]}:{peer[1]} to {message} within {lifetime:g} s")
