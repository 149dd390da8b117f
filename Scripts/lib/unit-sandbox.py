#!/usr/bin/python3
"""Runs a command under the sandbox a systemd unit describes, without systemd.

    unit-sandbox.py UNIT --uid N --gid N [--rw PATH]... -- COMMAND [ARG]...

Where systemd cannot start services (a container whose PID 1 is not systemd), this applies, as
root, the hardening settings of UNIT's [Service] section that the kernel offers directly, and
then execs COMMAND in the same process (so its pid is the one the caller started):

- mount namespace (PrivateMounts), private UTS (ProtectHostname) and IPC (PrivateIPC) namespaces;
- ProtectSystem=strict: every mount read-only, except the --rw paths (StateDirectory,
  RuntimeDirectory; the caller passes them, as paths of its own) and the private /tmp;
- PrivateTmp: empty tmpfs on /tmp and /var/tmp; ProtectHome: empty read-only /home, /root,
  /run/user; PrivateDevices: a /dev of null, zero, full, random, urandom, tty, shm only;
- ProtectProc=invisible and ProcSubset=pid: a new /proc mounted hidepid=invisible,subset=pid;
- User/Group (as --uid/--gid: the unit's user need not exist here), CapabilityBoundingSet,
  AmbientCapabilities and NoNewPrivileges, through setpriv; UMask;
- SystemCallFilter (allow list with ~ exclusions, groups expanded by `systemd-analyze
  syscall-filter`), SystemCallErrorNumber, SystemCallArchitectures=native,
  RestrictAddressFamilies, MemoryDenyWriteExecute (systemd 252's seccomp rules),
  RestrictNamespaces=yes, RestrictRealtime, LockPersonality: seccomp filters through
  libseccomp's Python binding (Debian's python3-seccomp).

Not applied (docs/PACKAGING.md): ProtectKernelModules/Logs/Clock beyond what the syscall filter
and the private /dev already remove, ProtectControlGroups (cgroupfs is read-only like the rest),
RestrictSUIDSGID, RemoveIPC, KeyringMode, DevicePolicy (no device cgroup), LimitNOFILE,
WatchdogSec and Type=notify (the caller may set NOTIFY_SOCKET itself).
"""
import errno
import os
import re
import subprocess
import sys

# Stage 3 runs as the unprivileged user, after ProtectHome may have hidden this file: it is
# passed to `python3 -c` as text.
SELF_TEXT = open(__file__).read() if "__file__" in globals() else None
MOUNTINFO_ESCAPE = re.compile(r"\\([0-7]{3})")


def parse_unit(path):
    with open(path) as f:
        return parse_unit_text(f.read())


def parse_unit_text(text):
    """[Service] settings: name -> list of values, in order (a setting may repeat)."""
    settings, section = {}, None
    lines = text.replace("\\\n", " ").splitlines()
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section != "Service" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def last(settings, key, default=None):
    values = settings.get(key)
    return values[-1] if values else default


def yes(settings, key):
    return last(settings, key, "no").lower() in ("yes", "true", "1", "on", "strict", "full", "invisible")


def run(*argv):
    subprocess.run(argv, check=True)


def mount(*args):
    run("mount", *args)


def mount_points():
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = MOUNTINFO_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), line.split()[4])
            points.append(point)
    return points


def stage2(unit, uid, gid, rw, command):
    """Root, in new mount/UTS/IPC namespaces: the file system view, then setpriv into stage 3."""
    unit_text = unit_text_arg(unit)  # before PrivateTmp/ProtectHome may hide the file
    s = parse_unit_text(unit_text)
    rw = [os.path.realpath(p) for p in rw]
    under_tmp = [p for p in rw if p == "/tmp" or p.startswith("/tmp/") or p.startswith("/var/tmp/")]
    if under_tmp and yes(s, "PrivateTmp"):
        sys.exit(f"unit-sandbox: --rw {under_tmp[0]} would be hidden by PrivateTmp; use a path outside /tmp")
    mount("--make-rprivate", "/")

    if yes(s, "PrivateTmp"):
        for tmp in ("/tmp", "/var/tmp"):
            mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", tmp)
    if yes(s, "PrivateDevices"):
        # Built in the private /tmp (nothing is left on the host), then moved over /dev.
        import tempfile
        staging = tempfile.mkdtemp(prefix="unit-sandbox-dev.")
        mount("-t", "tmpfs", "-o", "mode=0755,nosuid,noexec", "tmpfs", staging)
        for node in ("null", "zero", "full", "random", "urandom", "tty"):
            open(f"{staging}/{node}", "w").close()
            mount("--bind", f"/dev/{node}", f"{staging}/{node}")
        os.mkdir(f"{staging}/shm", 0o1777)
        mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev", "tmpfs", f"{staging}/shm")
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(target, f"{staging}/{name}")
        mount("--move", staging, "/dev")
    proc_options = ["nosuid", "nodev", "noexec"]
    if last(s, "ProtectProc") in ("invisible", "noaccess", "ptraceable"):
        proc_options.append("hidepid=" + last(s, "ProtectProc"))
    if last(s, "ProcSubset") == "pid":
        proc_options.append("subset=pid")
    mount("-t", "proc", "-o", ",".join(proc_options), "proc", "/proc")
    if yes(s, "ProtectHome"):
        for home in ("/home", "/root", "/run/user"):
            if os.path.isdir(home):
                mount("-t", "tmpfs", "-o", "ro,mode=0755,nosuid,nodev,noexec", "tmpfs", home)
    if last(s, "ProtectSystem") == "strict":
        # The API file systems stay as they are, as under systemd; /sys is read-only with
        # ProtectKernelTunables.
        keep = {"/tmp", "/var/tmp"}
        api = ["/proc", "/dev"] + ([] if yes(s, "ProtectKernelTunables") else ["/sys"])
        for point in mount_points():
            if point in keep or any(point == a or point.startswith(a + "/") for a in api):
                continue
            # Some mounts cannot be remounted (already read-only, or locked): leave those.
            subprocess.run(["mount", "-o", "remount,bind,ro", point], stderr=subprocess.DEVNULL)
        for path in rw:
            mount("--bind", path, path)
            mount("-o", "remount,bind,rw", path)

    caps = " ".join(s.get("CapabilityBoundingSet", [])).split()
    ambient = " ".join(s.get("AmbientCapabilities", [])).split()
    as_setpriv = lambda names: ",".join(["-all"] + ["+" + c.lower().removeprefix("cap_") for c in names])
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
               f"--bounding-set={as_setpriv(caps)}", f"--inh-caps={as_setpriv(ambient)}",
               f"--ambient-caps={as_setpriv(ambient)}"]
    if yes(s, "NoNewPrivileges"):
        setpriv.append("--no-new-privs")
    os.execvp("setpriv", setpriv + ["/usr/bin/python3", "-c", SELF_TEXT, "--stage3", unit_text, "--"] + command)


def unit_text_arg(unit):
    # The unit may sit under a hidden home: hand stage 3 its text, not its path.
    with open(unit) as f:
        return f.read()


def syscall_groups():
    """Every @group of `systemd-analyze syscall-filter` -> its members (names or @groups)."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], check=True,
                         capture_output=True, text=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for name in names:
        if name.startswith("@"):
            if name in seen:
                continue
            seen.add(name)
            out |= expand(groups.get(name, []), groups, seen)
        else:
            out.add(name)
    return out


def stage3(unit_text, command):
    """The service's user, capabilities already set: umask and seccomp, then exec."""
    import seccomp

    s = parse_unit_text(unit_text)
    umask = last(s, "UMask")
    if umask:
        os.umask(int(umask, 8))

    # The argument-checking settings, each a filter of its own (the kernel runs them all, the
    # strictest answer wins), as systemd 252 does.
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    families = last(s, "RestrictAddressFamilies")
    if families:
        import socket
        allowed = {int(getattr(socket, name)) for name in families.split()}
        for family in range(0, 64):
            if family not in allowed:
                f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, family))
    if yes(s, "MemoryDenyWriteExecute"):
        PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
        wx = PROT_WRITE | PROT_EXEC
        f.add_rule(seccomp.ERRNO(errno.EPERM), "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
        for name in ("mprotect", "pkey_mprotect"):
            f.add_rule(seccomp.ERRNO(errno.EPERM), name, seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
        f.add_rule(seccomp.ERRNO(errno.EPERM), "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    if last(s, "RestrictNamespaces") in ("yes", "true"):
        CLONE_NEW = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
        f.add_rule(seccomp.ERRNO(errno.EPERM), "unshare")
        f.add_rule(seccomp.ERRNO(errno.EPERM), "setns")
        for bit in [1 << i for i in range(32) if CLONE_NEW & (1 << i)]:
            f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, bit, bit))
        # clone3 passes its flags in memory, out of seccomp's reach: refused with ENOSYS so that
        # glibc falls back to clone, as systemd does.
        f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    if yes(s, "RestrictRealtime"):
        for policy in (1, 2, 6):  # SCHED_FIFO, SCHED_RR, SCHED_DEADLINE
            f.add_rule(seccomp.ERRNO(errno.EPERM), "sched_setscheduler", seccomp.Arg(1, seccomp.MASKED_EQ, 0xff, policy))
    if yes(s, "LockPersonality"):
        # systemd lets through PER_LINUX and the query 0xffffffff; libseccomp cannot compare one
        # argument twice in a rule, so the query is refused too here (stricter, not looser).
        f.add_rule(seccomp.ERRNO(errno.EPERM), "personality", seccomp.Arg(0, seccomp.NE, 0))
    f.load()
    # The allow list goes last: seccomp() itself is not in @system-service. The syscalls this
    # interpreter still makes before exec are (execve is in @default).
    allow_filter = None
    filters = s.get("SystemCallFilter", [])
    if filters:
        groups = syscall_groups()
        allow, deny = set(), set()
        allow_list = None
        for value in filters:
            negate = value.startswith("~")
            names = expand(value.lstrip("~").split(), groups)
            if allow_list is None:
                allow_list = not negate
            if negate:
                deny |= names
                allow -= names
            else:
                allow |= names
                deny -= names
        error = last(s, "SystemCallErrorNumber")
        refuse = seccomp.ERRNO(getattr(errno, error)) if error else seccomp.KILL_PROCESS
        if allow_list:
            f = seccomp.SyscallFilter(defaction=refuse)
            for name in sorted(allow):
                try:
                    f.add_rule(seccomp.ALLOW, name)
                except (RuntimeError, ValueError, OSError):
                    pass  # not a syscall of this architecture
        else:
            f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
            for name in sorted(deny):
                try:
                    f.add_rule(refuse, name)
                except (RuntimeError, ValueError, OSError):
                    pass
        allow_filter = f

    if allow_filter is not None:
        allow_filter.load()
    os.execvp(command[0], command)


def main(argv):
    if argv[:1] == ["--stage3"]:
        unit_text, rest = argv[1], argv[2:]
        assert rest[0] == "--"
        return stage3(unit_text, rest[1:])
    if argv[:1] == ["--stage2"]:
        argv = argv[1:]
        stage = stage2
    else:
        stage = None
    if "--" not in argv:
        sys.exit(__doc__)
    options, command = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    unit, uid, gid, rw = None, None, None, []
    i = 0
    while i < len(options):
        if options[i] in ("--uid", "--gid", "--rw"):
            value = options[i + 1]
            if options[i] == "--uid":
                uid = int(value)
            elif options[i] == "--gid":
                gid = int(value)
            else:
                rw.append(value)
            i += 2
        else:
            unit = options[i]
            i += 1
    if unit is None or uid is None or gid is None or not command:
        sys.exit(__doc__)
    if stage:
        return stage2(unit, uid, gid, rw, command)
    if os.geteuid() != 0:
        sys.exit("unit-sandbox: must run as root (it mounts and changes uid)")
    s = parse_unit(unit)
    namespaces = ["--mount"]
    if yes(s, "ProtectHostname"):
        namespaces.append("--uts")
    if yes(s, "PrivateIPC"):
        namespaces.append("--ipc")
    me = os.path.realpath(__file__)
    rest = [os.path.realpath(unit), "--uid", str(uid), "--gid", str(gid)]
    for path in rw:
        rest += ["--rw", path]
    os.execvp("unshare", ["unshare"] + namespaces + ["--", "/usr/bin/python3", me, "--stage2"] + rest + ["--"] + command)


if __name__ == "__main__":
    main(sys.argv[1:])
