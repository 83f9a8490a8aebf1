"""Agents that run on the emulated nodes (MIH function, link and security helpers)."""
