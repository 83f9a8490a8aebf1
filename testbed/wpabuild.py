"""wpa_supplicant with ERP (RFC 6696), built from Debian's own source package of `wpa`.

Debian 12 builds wpa_supplicant without CONFIG_ERP: no ERP keys, so no EAP re-authentication and no FILS
shared-key authentication after the first connection (GET_CAPABILITY erp answers FAIL). Its hostapd has
ERP and FILS. So setup rebuilds only wpa_supplicant and wpa_cli: the source of the version Debian ships,
Debian's configuration (debian/config/wpasupplicant/linux) and build flags, plus OPTIONS. The result goes
under PREFIX_ROOT/<version>-<option hash>/ (Debian's binaries stay untouched) and is reused until the
installed Debian version or OPTIONS change.

    python -m testbed.wpabuild          # what `make setup` runs (root)
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Added to Debian's wpa_supplicant configuration; FILS, FILS_SK_PFS and IEEE80211R are already there.
OPTIONS: dict[str, str] = {"CONFIG_ERP": "y"}
PACKAGE, SOURCE = "wpasupplicant", "wpa"  # the binary package whose version we match; its source package
PROGRAMS = ("wpa_supplicant", "wpa_cli")
PREFIX_ROOT = Path("/opt/mihsec/wpa-erp")
STAMP = "BUILD.json"
# The minimum to build wpa_supplicant with Debian's configuration (`apt-get build-dep wpa` would pull ~95
# packages: texlive, Qt for wpa_gui).
BUILD_DEPS = ("build-essential", "dpkg-dev", "pkgconf", "libssl-dev", "libnl-3-dev", "libnl-genl-3-dev",
              "libnl-route-3-dev", "libdbus-1-dev", "libpcsclite-dev", "libreadline-dev")
DEB_SRC_FILE = Path("/etc/apt/sources.list.d/mihsec-deb-src.sources")
DEB_SRC = """# Added by mihsec setup (testbed/wpabuild.py): source packages, to rebuild wpa_supplicant with ERP.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: {codename} {codename}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: {codename}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
# What a failed compile or link says -> the Debian package that provides the missing piece.
MISSING: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(openssl/\S+\.h): No such file"), "libssl-dev"),
    (re.compile(r"(netlink/genl/\S+\.h): No such file"), "libnl-genl-3-dev"),
    (re.compile(r"(netlink/route/\S+\.h): No such file"), "libnl-route-3-dev"),
    (re.compile(r"(netlink/\S+\.h): No such file"), "libnl-3-dev"),
    (re.compile(r"(dbus/\S+\.h): No such file"), "libdbus-1-dev"),
    (re.compile(r"(PCSC/\S+\.h|winscard\.h): No such file"), "libpcsclite-dev"),
    (re.compile(r"(readline/\S+\.h): No such file"), "libreadline-dev"),
    (re.compile(r"cannot find (-lssl|-lcrypto)"), "libssl-dev"),
    (re.compile(r"cannot find (-lnl-genl-3)"), "libnl-genl-3-dev"),
    (re.compile(r"cannot find (-lnl-route-3)"), "libnl-route-3-dev"),
    (re.compile(r"cannot find (-lnl-3)"), "libnl-3-dev"),
    (re.compile(r"cannot find (-ldbus-1)"), "libdbus-1-dev"),
    (re.compile(r"cannot find (-lpcsclite)"), "libpcsclite-dev"),
    (re.compile(r"cannot find (-lreadline)"), "libreadline-dev"),
    (re.compile(r"Package (\S+) was not found in the pkg-config"), ""),
    (re.compile(r"(\S+): (?:command )?not found"), ""),  # a tool: named as it is
    (re.compile(r"fatal error: (\S+\.h): No such file"), ""),  # any other header
]


class BuildError(Exception):
    pass


# --- pure logic: the cache decision and the failure diagnosis -------------------------------------

def build_key(version: str, options: dict[str, str]) -> dict:
    return {"source": SOURCE, "version": version, "options": dict(sorted(options.items()))}


def prefix(version: str, options: dict[str, str], root: Path = PREFIX_ROOT) -> Path:
    """One directory per (Debian version, option set): a changed option set never reuses a build."""
    digest = hashlib.sha256(json.dumps(build_key(version, options), sort_keys=True).encode()).hexdigest()[:12]
    return root / f"{re.sub(r'[^A-Za-z0-9.+-]', '_', version)}-{digest}"


def rebuild_reason(stamp_text: str | None, programs_ok: bool, version: str, options: dict[str, str]) -> str | None:
    """Why the build under prefix() must be (re)done, or None when it can be reused."""
    if stamp_text is None:
        return "not built yet"
    try:
        have = json.loads(stamp_text)
    except ValueError:
        return "its build record is unreadable"
    want = build_key(version, options)
    if have.get("version") != version:
        return f"built from {have.get('version')!r}, Debian ships {version!r}"
    if have.get("options") != want["options"]:
        return f"built with {have.get('options')}, wanted {want['options']}"
    if not programs_ok:
        return "a program is missing or not executable"
    return None


def missing_dependency(output: str) -> str | None:
    """From a failed build's output: what is missing and, when known, the Debian package providing it."""
    for pattern, package in MISSING:
        if m := pattern.search(output):
            return f"{m.group(1)} (Debian package {package})" if package else m.group(1)
    return None


def configure(debian_config: str, options: dict[str, str]) -> str:
    """Debian's .config with `options` set (an existing line for the same option, commented or not, replaced)."""
    lines = [ln for ln in debian_config.splitlines()
             if not any(re.match(rf"#?\s*{re.escape(k)}=", ln) for k in options)]
    return "\n".join(lines + ["", "# added by mihsec (testbed/wpabuild.py)"] +
                     [f"{k}={v}" for k, v in options.items()]) + "\n"


# --- the installed build, for the testbed -------------------------------------------------------------

def debian_version(package: str = PACKAGE) -> str:
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        raise BuildError(f"Debian package {package} is not installed (run `make setup`)")
    return r.stdout.strip()


def installed(program: str = "wpa_supplicant", root: Path = PREFIX_ROOT) -> Path | None:
    """The built program for the installed Debian version and OPTIONS, or None."""
    try:
        d = prefix(debian_version(), OPTIONS, root)
    except BuildError:
        return None
    exe = d / "sbin" / program
    return exe if (d / STAMP).exists() and os.access(exe, os.X_OK) else None


# --- the build ---------------------------------------------------------------------------------------

def say(msg: str) -> None:
    print(f"setup: wpa-erp: {msg}", flush=True)


def run(argv: list[str], log: Path | None = None, **kw) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if log is not None:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(argv)}\n{r.stdout}{r.stderr}\n")
    return r


def ensure_deps(log: Path) -> None:
    missing = [p for p in BUILD_DEPS
               if "ok installed" not in run(["dpkg-query", "-W", "-f", "${Status}", p]).stdout]
    if not missing:
        return
    t0 = time.monotonic()
    say(f"installing build dependencies: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], log, env=env).returncode:
        for p in missing:  # name the one that failed
            if run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", p], log, env=env).returncode:
                raise BuildError(f"could not install build dependency {p} (see {log})")
    say(f"build dependencies installed in {time.monotonic() - t0:.0f} s")


def fetch_source(version: str, work: Path, log: Path) -> Path:
    """`apt-get source wpa=<version>` into `work` (adds a deb-src entry if apt has none); the unpacked tree."""
    argv = ["apt-get", "source", "-qq", "-o", "APT::Sandbox::User=root", f"{SOURCE}={version}"]
    r = run(argv, log, cwd=work)
    if r.returncode and not DEB_SRC_FILE.exists():
        codename = run(["sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME"]).stdout.strip() or "bookworm"
        say(f"no deb-src entry for apt: adding {DEB_SRC_FILE}")
        DEB_SRC_FILE.write_text(DEB_SRC.format(codename=codename))
        if run(["apt-get", "update", "-qq"], log).returncode:
            raise BuildError(f"apt-get update failed (see {log})")
        r = run(argv, log, cwd=work)
    if r.returncode:
        why = (r.stderr.strip().splitlines() or ["?"])[-1]
        raise BuildError(f"apt-get source {SOURCE}={version} failed: {why} (see {log})")
    trees = [p for p in work.iterdir() if p.is_dir() and (p / "wpa_supplicant" / "Makefile").exists()]
    if not trees:
        raise BuildError(f"apt-get source {SOURCE}={version} left no source tree in {work}")
    return trees[0]


def debian_env() -> dict[str, str]:
    """Debian's build flags for wpa (debian/rules: hardening=+all, CPPFLAGS folded into CFLAGS)."""
    env = {**os.environ, "DEB_BUILD_MAINT_OPTIONS": "hardening=+all", "V": "1", "BINDIR": "/sbin"}
    cpp = run(["dpkg-buildflags", "--get", "CPPFLAGS"], env=env).stdout.strip()
    env["DEB_CFLAGS_MAINT_APPEND"] = f"-MMD -Wall {cpp}"
    for name in ("CFLAGS", "LDFLAGS"):
        env[name] = run(["dpkg-buildflags", "--get", name], env=env).stdout.strip()
    return env


def build(version: str, options: dict[str, str], dest: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="mihsec-wpa-build-", dir="/var/tmp"))
    log = work / "build.log"
    try:
        ensure_deps(log)
        t0 = time.monotonic()
        say(f"fetching Debian's source package {SOURCE} {version}")
        tree = fetch_source(version, work, log)
        debian_conf = (tree / "debian" / "config" / "wpasupplicant" / "linux").read_text()
        (tree / "wpa_supplicant" / ".config").write_text(configure(debian_conf, options))
        jobs = str(os.cpu_count() or 1)
        say(f"compiling {' and '.join(PROGRAMS)} with Debian's configuration plus "
            f"{' '.join(f'{k}={v}' for k, v in options.items())} (about 100 s on 2 cores; log {log})")
        r = run(["make", "-C", str(tree / "wpa_supplicant"), f"-j{jobs}", *PROGRAMS], log, env=debian_env())
        if r.returncode:
            what = missing_dependency(r.stdout + r.stderr)
            kept = Path(tempfile.gettempdir()) / "mihsec-wpa-build.log"
            shutil.copy(log, kept)
            raise BuildError(f"compiling wpa_supplicant failed: {'missing ' + what if what else 'see the log'} "
                             f"(log: {kept})")
        t_compile = time.monotonic() - t0
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "sbin").mkdir(parents=True)
        for p in PROGRAMS:
            shutil.copy2(tree / "wpa_supplicant" / p, tmp / "sbin" / p)
            run(["strip", "--strip-unneeded", str(tmp / "sbin" / p)])
        shutil.copy(tree / "wpa_supplicant" / ".config", tmp / "wpa_supplicant.config")
        out = run([str(tmp / "sbin" / "wpa_supplicant"), "-v"])
        banner = (out.stdout + out.stderr).strip().splitlines()
        if not banner or "v2." not in banner[0]:
            raise BuildError(f"the built wpa_supplicant does not run: {(out.stdout + out.stderr).strip()[:200]}")
        stamp = {**build_key(version, options), "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                 "seconds": round(t_compile), "banner": banner[0]}
        (tmp / STAMP).write_text(json.dumps(stamp, indent=1) + "\n")
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        say(f"built {banner[0]} in {t_compile:.0f} s (fetch and compile): {dest}/sbin/")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure(options: dict[str, str] = OPTIONS, root: Path = PREFIX_ROOT) -> Path:
    """Build unless the cached build fits; returns its directory. Serialised by a lock (several worktrees)."""
    version = debian_version()
    dest = prefix(version, options, root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = dest / STAMP
        programs_ok = all(os.access(dest / "sbin" / p, os.X_OK) for p in PROGRAMS)
        reason = rebuild_reason(stamp.read_text() if stamp.exists() else None, programs_ok, version, options)
        if reason is None:
            say(f"reusing wpa_supplicant {version} with {' '.join(f'{k}={v}' for k, v in options.items())} "
                f"({dest}/sbin/)")
            return dest
        say(f"building wpa_supplicant {version} with ERP: {reason}")
        build(version, options, dest)
    return dest


def main() -> int:
    t0 = time.monotonic()
    try:
        ensure()
    except BuildError as e:
        print(f"setup: wpa-erp: {e}", file=sys.stderr)
        return 1
    if (dt := time.monotonic() - t0) > 5:
        say(f"done in {dt:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
