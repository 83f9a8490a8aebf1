"""The medium process as the orchestrator sees it when it cannot start: one clear error, nothing left."""
from __future__ import annotations

from pathlib import Path

import pytest

from testbed import state as statemod
from testbed.errors import DaemonError
from testbed.medium.plan import MediumPlan, RadioPlan
from testbed.medium.process import start_medium


def test_a_medium_that_cannot_start_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statemod, "STATE_ROOT", tmp_path / "run")
    st = statemod.RunState.new()
    plan = MediumPlan({"model": "nope"}, -91, 0, None, [RadioPlan("sta1", (0, 0, 0), 14, 5, 1)])
    with pytest.raises(DaemonError, match=r"medium: exited with status 2: .*unknown propagation model 'nope'"):
        start_medium(plan, {"sta1": "02:00:00:00:00:00"}, st, tmp_path / "results")
    assert not (st.dir / "medium.sock").exists()
    assert start_medium(None, {}, st, tmp_path / "results") is None  # no `medium:` section: no process
