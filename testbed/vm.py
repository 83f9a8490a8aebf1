"""Run a mihsec command inside a VM whose kernel has mac80211_hwsim (virtme-ng + qemu).

The guest boots Debian's kernel over the host's own root filesystem (read-only, 9p), so the
same venv and code run inside; result directories are shared read-write. KVM is used only when
it really boots a stock kernel (a PVM /dev/kvm hangs it): otherwise TCG, never a hang.
"""
from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from testbed import REPO_ROOT
from testbed.errors import MihsecError, SetupError
from testbed.state import RunState

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mihsec"


def find_kernel() -> Path:
    """MIHSEC_KERNEL, or the newest /boot/vmlinuz-* whose modules include mac80211_hwsim."""
    if forced := os.environ.get("MIHSEC_KERNEL"):
        if not Path(forced).is_file():
            raise SetupError(f"kernel image {forced} (MIHSEC_KERNEL) not found")
        return Path(forced)
    for image in sorted(Path("/boot").glob("vmlinuz-*"), reverse=True):
        version = image.name.removeprefix("vmlinuz-")
        if list(Path(f"/lib/modules/{version}").glob("kernel/drivers/net/wireless/**/mac80211_hwsim.ko*")):
            return image
    raise SetupError("no kernel image with mac80211_hwsim in /boot: install linux-image-amd64 (`make setup`)")


def _vng() -> list[str]:
    exe = shutil.which("vng") or str(Path(sys.executable).parent / "vng")
    if not Path(exe).exists():
        raise SetupError("virtme-ng (vng) is not installed: run `make setup`")
    if not shutil.which("qemu-system-x86_64"):
        raise SetupError("qemu-system-x86_64 is not installed (package qemu-system-x86): run `make setup`")
    return [exe]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/sbin:/usr/bin:/sbin:/bin')}"
    return env


def kvm_usable(kernel: Path) -> bool:
    """Boot once with KVM under a timeout; remember the answer per host kernel and guest kernel."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    if Path("/sys/module/kvm_pvm").exists():  # PVM only runs PVM-enabled guests: a stock kernel hangs
        return False
    key = CACHE / f"kvm-{os.uname().release}-{kernel.name}"
    if key.exists():
        return key.read_text().strip() == "ok"
    try:
        r = subprocess.run(_vng() + ["--run", str(kernel), "--memory", "512M", "--exec", "true"],
                           capture_output=True, timeout=60, env=_env(), start_new_session=True)
        ok = r.returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    CACHE.mkdir(parents=True, exist_ok=True)
    key.write_text("ok" if ok else "no")
    return ok


def _matplotlib_cache() -> Path | None:
    """Build matplotlib's font cache on the host once: building it in the TCG guest takes minutes."""
    d = CACHE / "matplotlib"
    if not list(d.glob("fontlist-*.json")):
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env={**_env(), "MPLCONFIGDIR": str(d)},
                           capture_output=True)
        if r.returncode != 0:
            return None
    return d


def _relay(src) -> None:
    """Copy the VM's console to our stdout as it comes."""
    out = sys.stdout.buffer
    for chunk in iter(lambda: src.read1(65536), b""):
        out.write(chunk)
        out.flush()


def run(argv: list[str], rwdirs: list[Path], timeout: float = 1800, memory: str = "2G", cpus: int = 2,
        env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL) -> int:
    """Run `argv` in the guest (cwd = the repository), streaming its output; return its exit status.
    `stdin=None`: the guest command reads this process's stdin (a console)."""
    kernel = find_kernel()
    vng = _vng()
    accel = [] if kvm_usable(kernel) else ["--disable-kvm"]
    passed = {k: v for k, v in os.environ.items() if k.startswith("MIHSEC_") and k != "MIHSEC_KERNEL"}
    guest_env = {**passed, "PYTHONDONTWRITEBYTECODE": "1", "MIHSEC_IN_VM": "1", "PYTHONUNBUFFERED": "1",
                 "MPLCONFIGDIR": "/tmp/mihsec-mpl",  # the guest's home is read-only
                 "PATH": f"{Path(sys.executable).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                 **(env or {})}
    mpl = _matplotlib_cache()
    seed_mpl = f"mkdir -p /tmp/mihsec-mpl && cp -r {shlex.quote(str(mpl))}/. /tmp/mihsec-mpl/ 2>/dev/null;" if mpl else ""
    guest_cmd = " ".join([seed_mpl, f"cd {shlex.quote(str(REPO_ROOT))} &&", "env",
                          *[f"{k}={shlex.quote(v)}" for k, v in guest_env.items()], shlex.join(argv)])
    cmd = vng + accel + ["--run", str(kernel), "--memory", memory, "--cpus", str(cpus)]
    for d in rwdirs:
        d.mkdir(parents=True, exist_ok=True)
        cmd += ["--rwdir", str(d.resolve())]
    cmd += ["--exec", guest_cmd]
    state = RunState.new()
    # Not a terminal (a log file, CI): relay the guest's console through a pipe. Given the file itself,
    # the console reopens it and truncates what was written before (the host's own lines).
    piped = not sys.stdout.isatty()
    proc = subprocess.Popen(cmd, env=_env(), start_new_session=True, stdin=stdin,
                            stdout=subprocess.PIPE if piped else None, stderr=subprocess.STDOUT if piped else None)
    state.add_process(proc.pid, "vm", "vng")
    relay = threading.Thread(target=_relay, args=(proc.stdout,), daemon=True) if piped else None
    if relay:
        relay.start()
    t0 = time.monotonic()
    try:
        code = proc.wait(timeout=timeout)
        if relay:
            relay.join(10)
    except subprocess.TimeoutExpired:
        raise MihsecError(f"the VM did not finish within {timeout:g} s and was stopped") from None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        state.remove_dir()
    print(f"[mihsec] VM ({'KVM' if not accel else 'TCG'}, {kernel.name}) ran {time.monotonic() - t0:.1f} s, "
          f"exit status {code}", file=sys.stderr)
    return code
