"""A userspace wireless medium for mac80211_hwsim: signal from positions and a propagation model, loss from
an SNR curve, transmit status back to the kernel. Runs as its own process (`python -m testbed.medium`).

Modules: `propagation` and `mobility` (models declared as tables), `loss` (SNR -> frame error curve),
`netlink` (the hwsim generic-netlink wire format, raw socket), `engine` (what happens to one frame),
`framelog` (per-frame timestamps), `server` (the process), `schema` (topology `medium:` / `mobility:`),
`plan` (topology -> medium config), `process` (start/stop/move from the orchestrator).
Nothing here imports pyroute2 or pydantic on the per-frame path.
"""
