"""Scenarios: scripted sequences of handovers on a running network."""
