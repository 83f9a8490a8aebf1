"""Attacks on MIH signalling: a lab of real agents (lab.py), an attacker that sniffs and injects (attacker.py),
and a run of every attack with protection on and off that writes a table and attacks.json (run.py)."""
