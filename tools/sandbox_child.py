"""The sandbox's first code in the child process: lock the process down, then run the model's code.

A script run by :mod:`vlmr.tools.sandbox` as ``python -I -B sandbox_child.py SPEC_JSON``; it imports the
standard library only, since nothing of vlmr may be read once the locks are on. In order:

1. resource limits (``setrlimit``): address space, CPU seconds, size of any written file (stdout and
   stderr are files, so this caps the output too), open files, no core dumps;
2. ``no_new_privs``, which both locks below require of an unprivileged process;
3. Landlock (Linux >= 5.13, no root needed): read-only access to the directories Python imports from,
   read-write access to the scratch folder, nothing else; no TCP (ABI >= 4); no signals to processes
   outside the sandbox (ABI >= 6), so the trainer cannot be killed;
4. seccomp: no new processes (threads allowed), no sockets, no ``execve``, no namespaces, no io_uring.

If a lock is unavailable the child exits with :data:`UNAVAILABLE` before running anything (fail closed).
"""

import ctypes
import json
import os
import resource
import struct
import sys

PACKAGE_DIRS = ("site-packages", "dist-packages")
UNAVAILABLE = 97  # exit code: the sandbox could not be set up; the code did not run

# Landlock (include/uapi/linux/landlock.h); syscall numbers are the same on every architecture.
CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446
READ_FILE = 1 << 2
FS_READ = READ_FILE | (1 << 3)  # READ_FILE | READ_DIR
FS_WRITE = (1 << 1) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8)  # WRITE_FILE, REMOVE_DIR/FILE, MAKE_DIR/REG
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}  # later ABIs: (1 << 16) - 1
TRUNCATE = 1 << 14  # ABI >= 3
NET_TCP = (1 << 0) | (1 << 1)  # BIND_TCP | CONNECT_TCP, ABI >= 4
SCOPES = (1 << 0) | (1 << 1)  # ABSTRACT_UNIX_SOCKET | SIGNAL, ABI >= 6

# seccomp: (audit arch, refused syscalls, clone, clone3); clone is allowed only for threads.
ARCHES = {
    "x86_64": (0xC000003E, {57: "fork", 58: "vfork", 41: "socket", 53: "socketpair", 59: "execve",
                            322: "execveat", 272: "unshare", 425: "io_uring_setup"}, 56, 435),
    "aarch64": (0xC00000B7, {198: "socket", 199: "socketpair", 221: "execve", 281: "execveat", 97: "unshare",
                             425: "io_uring_setup"}, 220, 435),
}
CLONE_THREAD = 0x00010000
EPERM, ENOSYS = 1, 38


def limit_resources(spec: dict) -> None:
    """Step 1: hard limits the code cannot raise."""
    for name, value in (("RLIMIT_AS", spec["memory_bytes"]), ("RLIMIT_CPU", spec["cpu_seconds"]),
                        ("RLIMIT_FSIZE", spec["file_bytes"]), ("RLIMIT_NOFILE", 64), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))


def landlock(libc, read_dirs: list[str], scratch: str) -> None:
    """Step 3: only ``read_dirs`` (directories or files, read) and ``scratch`` (read, write) stay reachable."""
    abi = libc.syscall(CREATE_RULESET, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    if abi < 1:
        raise OSError("Landlock is not available (Linux >= 5.13 with the landlock LSM enabled is needed)")
    handled = FS_BY_ABI.get(abi, (1 << 16) - 1)
    attr = struct.pack("QQQ", handled, NET_TCP if abi >= 4 else 0, SCOPES if abi >= 6 else 0)
    ruleset = libc.syscall(CREATE_RULESET, attr, len(attr), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    write = FS_READ | FS_WRITE | (TRUNCATE if abi >= 3 else 0)
    for path, access in [(p, FS_READ if os.path.isdir(p) else READ_FILE) for p in read_dirs] + [(scratch, write)]:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        rule = struct.pack("=Qi", access, fd)  # struct landlock_path_beneath_attr is packed
        if libc.syscall(ADD_RULE, ruleset, 1, rule, 0) != 0:  # LANDLOCK_RULE_PATH_BENEATH
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
        os.close(fd)
    if libc.syscall(RESTRICT_SELF, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    os.close(ruleset)


def seccomp(libc) -> None:
    """Step 4: a BPF filter refusing the syscalls in :data:`ARCHES` (and every other architecture)."""
    machine = os.uname().machine
    if machine not in ARCHES:
        raise OSError(f"no seccomp filter for the {machine} architecture")
    arch, refused, clone, clone3 = ARCHES[machine]
    ld, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, deny, nosys = 0x7FFF0000, 0x00050000 | EPERM, 0x00050000 | ENOSYS
    prog = [(ld, 0, 0, 4), (jeq, 1, 0, arch), (ret, 0, 0, 0x80000000),  # foreign arch: kill
            (ld, 0, 0, 0), (jge, 0, 1, 0x40000000), (ret, 0, 0, deny)]  # x32 syscalls
    for nr in refused:
        prog += [(jeq, 0, 1, nr), (ret, 0, 0, deny)]
    prog += [(jeq, 0, 1, clone3), (ret, 0, 0, nosys),  # glibc then falls back to clone, whose flags we can read
             (jeq, 0, 4, clone), (ld, 0, 0, 16), (jset, 0, 1, CLONE_THREAD), (ret, 0, 0, allow), (ret, 0, 0, deny),
             (ret, 0, 0, allow)]
    code = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buffer = ctypes.create_string_buffer(code)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buffer))
    if libc.prctl(22, 2, fprog, 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        raise OSError(ctypes.get_errno(), "seccomp filter refused")


def main() -> None:
    spec = json.loads(sys.argv[1])
    scratch = spec["scratch"]
    # Import directories as this interpreter found them, minus any that would expose the repository (a source
    # tree on the path holds more than code: data, configs, runs); an installed copy in site-packages is only code.
    repository = spec["repository"].rstrip("/") + "/"
    imports = [p for p in sys.path if os.path.isdir(p) and not (repository.startswith(p.rstrip("/") + "/")
                                                                and os.path.basename(p) not in PACKAGE_DIRS)]
    system = [p for p in spec["system"] if os.path.exists(p)]  # shared libraries loaded on import
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        limit_resources(spec)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "no_new_privs refused")
        landlock(libc, imports + system, scratch)
        seccomp(libc)
    except OSError as e:
        print(f"sandbox unavailable: {e}", file=sys.stderr)
        sys.exit(UNAVAILABLE)
    os.chdir(scratch)
    sys.path[:] = imports
    with open(spec["code"], encoding="utf-8") as f:
        source = f.read()
    exec(compile(source, "<code>", "exec"), {"__name__": "__main__"})  # noqa: S102  (the sandbox's purpose)


if __name__ == "__main__":
    main()
