#!/usr/bin/env python3
"""Measurements for bench/run, from the kernel's own counters.

  measure.py rusage OUT CMD...   run CMD (stdin/stdout passed through);
                                 write "wall user sys maxrss_kb" to OUT
  measure.py repeat K SHELLCMD   run SHELLCMD K times; print
                                 "mean_ms median_ms min_ms"
  measure.py treemem PID         anonymous PSS + page tables of PID and
                                 all its descendants, in KiB
  measure.py cpu PID             utime+stime of PID and its reaped
                                 children, in seconds
  measure.py cpuparts PID [KPID] the same in three parts: PID itself,
                                 its reaped children, and KPID (a child
                                 still running, as mtls-serve's key
                                 process is until the server exits);
                                 "self children kpid" in seconds, then
                                 the minor page faults of all three
"""
import os
import resource
import statistics
import subprocess
import sys
import time


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(d))
        except OSError:
            pass
    return out


def tree(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children(p))
    return seen


def mem(pid):
    kib = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss_Anon:"):
                    kib += int(line.split()[1])
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmPTE:"):
                    kib += int(line.split()[1])
    except OSError:
        pass
    return kib


def stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def ticks(pid):
    """utime, stime, cutime, cstime of pid, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    # utime, stime, cutime, cstime are fields 14-17 (1-based, with pid
    # and comm); after the ")" split they start at index 11.
    return [int(x) / tick for x in stat(pid)[11:15]]


def faults(pid):
    """Minor page faults of pid and its reaped children (fields 10, 11)."""
    f = stat(pid)
    return int(f[7]) + int(f[8])


def cpu(pid):
    return sum(ticks(pid))


cmd = sys.argv[1]
if cmd == "rusage":
    start = time.monotonic()
    rc = subprocess.call(sys.argv[3:])
    wall = time.monotonic() - start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(sys.argv[2], "w") as f:
        f.write("%.3f %.3f %.3f %d\n" % (wall, ru.ru_utime, ru.ru_stime,
                                         ru.ru_maxrss))
    sys.exit(rc)
elif cmd == "repeat":
    k, shell = int(sys.argv[2]), sys.argv[3]
    times = []
    for _ in range(k):
        start = time.monotonic()
        subprocess.call(shell, shell=True, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
        times.append((time.monotonic() - start) * 1000)
    print("%.2f %.2f %.2f" % (statistics.mean(times),
                              statistics.median(times), min(times)))
elif cmd == "treemem":
    print(sum(mem(p) for p in tree(int(sys.argv[2]))))
elif cmd == "cpu":
    print("%.3f" % cpu(int(sys.argv[2])))
elif cmd == "cpuparts":
    pid = int(sys.argv[2])
    kpid = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else 0
    t = ticks(pid)
    k = cpu(kpid) if kpid else 0
    flt = faults(pid) + (faults(kpid) if kpid else 0)
    print("%.3f %.3f %.3f %d" % (t[0] + t[1], t[2] + t[3], k, flt))
else:
    sys.exit("measure.py: unknown command " + cmd)
