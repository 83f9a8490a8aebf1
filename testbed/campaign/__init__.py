"""Handover measurement campaigns: schemes x parameters x trials -> records -> statistics, plots, report.

    mihsec campaign quick                       # campaigns/quick.yaml, in the hwsim VM if needed
    mihsec campaign reproduce --trials 5        # fewer trials per cell than the file says
    mihsec campaign results/quick-<time>        # recompute summary, plots and report from the records

Modules:
    model.py    the campaign file (pydantic), its errors as file:line: field: problem, the run order
    schemes/    one module per handover scheme (`SCHEME = ...`), the common interface in schemes/base.py
    runner.py   networks, trials, probe, impairments; records appended as they are measured
    phases.py   per-phase durations from two clocks: wpa_supplicant's -t log and the hwsim0 capture
    probe.py    the UDP data-plane probe (correspondent -> station)
    stats.py    median, p5/p95, mean ± 95 % CI, CV per scheme and parameter point
    plots.py    stacked phases, CDF of the interruption, interruption vs AAA RTT
    report.py   summary.json, report.md, the summary table

Adding a scheme (e.g. MIH pre-authentication) is one module in schemes/: subclass `schemes.base.Scheme`,
say which network it needs (`profile`, `agents`), the station's AKM, what must be seen on the air
(`expect_eap`, `expect_4way`), do the untimed set-up in `prepare()` (pre-authenticate, push keys) and the
handover in `trigger()` (default: wpa_supplicant ROAM), add checks in `check()`; end the module with
`SCHEME = MyScheme()`. The harness times, probes, impairs and reports it like the others.
"""
