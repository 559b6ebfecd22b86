"""run.py - run every benchmark, interleaved, and print one table.

  python3 bench/run.py --bin build-bench --lib build [--runs N] [--write-docs FILE] [--profile]

Called by scripts/bench.sh.  Each program prints figures; this script runs
them several times in turn (mechanism after mechanism, then again), takes
medians, computes ratios against the kernel's floor within the same run,
and compares them with the goals of issue 3.  It asserts nothing.
--write-docs replaces the generated part of FILE (between the bench-table
markers).  Section 6 (sigkit trace, issue 8) needs root; --only 6 runs it alone.  --profile adds the sk_wait-versus-sigwaitinfo profile (strace -c
system calls and callgrind instructions per round trip).
"""
import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import struct
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
C_MECHS = ["sigwaitinfo", "sigsuspend", "signalfd", "selfpipe", "sk_wait", "sk_fd",
           "sk_thread", "libuv", "libevent", "glib"]
PY_MECHS = ["py_handler", "py_sigwait"]
LABELS = {
    "sigwaitinfo": "raw sigwaitinfo, signal blocked (floor)",
    "sigsuspend": "raw handler + sigsuspend",
    "signalfd": "signalfd + epoll",
    "selfpipe": "raw handler + self-pipe + poll",
    "sk_wait": "sigkit sk_wait",
    "sk_fd": "sigkit sk_fd in epoll + sk_dispatch",
    "sk_thread": "sigkit sk_thread_start",
    "libuv": "libuv uv_signal_t",
    "libevent": "libevent evsignal",
    "glib": "GLib g_unix_signal_add",
    "py_handler": "Python handler + set_wakeup_fd",
    "py_sigwait": "Python signal.sigwait",
}


def run(cmd, timeout=90):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return p.stdout if p.returncode == 0 else None


def fields(line):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line or "")}


def median(xs):
    return statistics.median(xs) if xs else None


class Logged:
    """A process whose stderr lines are collected with their arrival time
    (seconds since start) by a thread, so a caller can wait for a line."""

    def __init__(self, cmd, **kw):
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, **kw)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append((time.monotonic() - self.t0, line.rstrip("\n")))

    def wait_for(self, text, count=1, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sum(text in ln for _, ln in list(self.lines)) >= count:
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        return False

    def stop(self, sig=15, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(2)


def vmrss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def elf_interp(path):
    """True when the ELF file has a PT_INTERP (dynamically linked), None if unknown."""
    try:
        with open(path, "rb") as fh:
            h = fh.read(64)
            if h[:4] != b"\x7fELF" or h[4] != 2 or h[5] != 1:
                return None
            phoff, = struct.unpack_from("<Q", h, 32)
            phentsize, phnum = struct.unpack_from("<HH", h, 54)
            fh.seek(phoff)
            ph = fh.read(phentsize * phnum)
        return any(struct.unpack_from("<I", ph, i * phentsize)[0] == 3 for i in range(phnum))
    except (OSError, struct.error):
        return None


def strace_idle(pid, seconds):
    """System calls made by process pid (all its threads, not its children) in
    `seconds`, as counted by strace -c; None if strace failed."""
    tasks = sorted(os.listdir(f"/proc/{pid}/task")) if os.path.isdir(f"/proc/{pid}/task") else []
    if not tasks or not shutil.which("strace"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "strace.out")
        cmd = ["strace", "-c", "-o", out]
        for t in tasks:
            cmd += ["-p", t]
        st = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(seconds)
        st.send_signal(2)
        try:
            err = st.communicate(timeout=10)[1]
        except subprocess.TimeoutExpired:
            st.kill()
            return None
        if "attached" not in err:
            return None
        calls = {}
        if os.path.exists(out):
            with open(out) as fh:
                for line in fh:
                    p = line.split()
                    if len(p) >= 5 and p[-1] != "total" and p[0][0].isdigit():
                        calls[p[-1]] = int(p[3])
        return calls


def fmt_int(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


class Bench:
    def __init__(self, args):
        self.bin = args.bin
        self.lib = args.lib
        self.runs = args.runs
        self.sigkit = os.path.join(args.lib, "cli", "sigkit")
        self.rows = []       # (section, mechanism, figure, ratio, goal, verdict)
        self.notes = []

    def row(self, section, mech, figure, ratio="—", goal="—", verdict="—"):
        self.rows.append((section, mech, figure, ratio, goal, verdict))

    # -------------------------------------------------------------- ping-pong
    def pp_cmd(self, mech, pinned, rounds, extra=()):
        if mech.startswith("py_"):
            cmd = [sys.executable, os.path.join(HERE, "pingpong.py"), mech[3:], "-n", str(rounds)]
        else:
            cmd = [os.path.join(self.bin, "pingpong"), mech, "-n", str(rounds), *extra]
        return (["taskset", "-c", "0"] if pinned else []) + cmd

    def available(self):
        out = subprocess.run([os.path.join(self.bin, "pingpong")], capture_output=True,
                             text=True).stderr
        have = out.split("mechanisms:")[-1].split()
        return [m for m in C_MECHS if m in have] + PY_MECHS

    def pingpong(self):
        mechs = self.available()
        self.pp = {}
        for pinned in (True, False):
            rounds = 20000 if pinned else 10000
            res = {m: [] for m in mechs}
            ratios = {m: [] for m in mechs}
            for _ in range(self.runs):
                floor = None
                for m in mechs:
                    f = fields(run(self.pp_cmd(m, pinned, rounds)))
                    if "rt_per_s" not in f:
                        continue
                    res[m].append(f)
                    if m == "sigwaitinfo":
                        floor = f["rt_per_s"]
                    if floor:
                        ratios[m].append(f["rt_per_s"] / floor)
            self.pp[pinned] = {m: (median([f["rt_per_s"] for f in res[m]]),
                                   median([f["oneway_p50_ns"] for f in res[m]]),
                                   median([f["oneway_p99_ns"] for f in res[m]]),
                                   median(ratios[m]), len(res[m])) for m in mechs}
        for pinned in (True, False):
            section = "1. ping-pong " + ("pinned (taskset -c 0)" if pinned else "unpinned")
            t = self.pp[pinned]
            for m in mechs:
                rt, p50, p99, ratio, n = t[m]
                if rt is None:
                    self.row(section, LABELS[m], "failed")
                    continue
                fig = f"{fmt_int(rt)} rt/s; one-way p50 {p50 / 1000:.1f} µs, p99 {p99 / 1000:.1f} µs"
                goal = verdict = "—"
                if pinned and m == "sk_wait":
                    goal = "≥ 0.90x raw sigwaitinfo"
                    verdict = "met" if ratio >= 0.9 else "missed"
                self.row(section, LABELS[m], fig, fmt_ratio(ratio), goal, verdict)
            if pinned:
                # both as medians of per-pass ratios to the floor, as above
                sk = t["sk_wait"][3]
                for peer in ("libuv", "py_handler"):
                    if peer in t and t[peer][3] and sk:
                        r = sk / t[peer][3]
                        self.row(section, f"sigkit sk_wait vs {LABELS[peer]}",
                                 f"{r:.2f}x the peer's rt/s", "—", "≥ 2x the peer",
                                 "met" if r >= 2 else "missed")

    # ---------------------------------------------------------------- queue
    def queue(self):
        mechs = ["sigwaitinfo", "signalfd", "sigkit"]
        res = {m: [] for m in mechs}
        ratios = {m: [] for m in mechs}
        for _ in range(min(self.runs, 3)):
            floor = None
            for m in mechs:
                f = fields(run([os.path.join(self.bin, "queue"), m]))
                if "msgs_per_s" not in f:
                    continue
                res[m].append(f)
                if m == "sigwaitinfo":
                    floor = f["msgs_per_s"]
                if floor:
                    ratios[m].append(f["msgs_per_s"] / floor)
        label = {"sigwaitinfo": "raw sigwaitinfo (floor)", "signalfd": "signalfd, 256 per read",
                 "sigkit": "sigkit sk_wait, order-checking handler"}
        for m in mechs:
            if not res[m]:
                self.row("2. queue 1,000,000 SIGRTMIN values", label[m], "failed")
                continue
            rate = median([f["msgs_per_s"] for f in res[m]])
            bad = {k: int(max(f[k] for f in res[m])) for k in ("lost", "reordered", "folded")}
            fig = (f"{fmt_int(rate)} values/s; lost {bad['lost']}, reordered {bad['reordered']},"
                   f" folded {bad['folded']}")
            goal = verdict = "—"
            if m == "sigkit":
                goal = "≥ 0.80x raw, 0 lost"
                ok = median(ratios[m]) >= 0.8 and not any(bad.values())
                verdict = "met" if ok else "missed"
            self.row("2. queue 1,000,000 SIGRTMIN values", label[m], fig,
                     fmt_ratio(median(ratios[m])), goal, verdict)

    # ------------------------------------------------------------- callgrind
    def ponger_profile(self, mech, tmp):
        """Callgrind of a pinned ping-pong: the ponger's (the child's) user-space
        instructions per round trip, by function (self cost) and in total
        ("TOTAL"), from the difference of runs of 1000 and 3000 rounds.  The
        ponger waits, dispatches and answers once per round trip and never
        sorts; callgrind does not see the kernel's work."""
        prof = {}
        for n in (1000, 3000):
            base = f"cg.{mech}.{n}"
            try:
                subprocess.run(["taskset", "-c", "0", "valgrind", "--tool=callgrind", "-q",
                                f"--callgrind-out-file={os.path.join(tmp, base)}.%p",
                                os.path.join(self.bin, "pingpong"), mech, "-n", str(n), "-w",
                                "0"], capture_output=True, timeout=60)
            except subprocess.TimeoutExpired:
                return None
            files = sorted((f for f in os.listdir(tmp) if f.startswith(base + ".")),
                           key=lambda f: int(f.rsplit(".", 1)[1]))
            if len(files) != 2:
                return None
            ann = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100",
                                  os.path.join(tmp, files[-1])], capture_output=True,
                                 text=True).stdout
            prof[n] = {}
            for line in ann.splitlines():
                mm = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(.*)", line)
                if mm:
                    where = mm.group(2)
                    name = "TOTAL" if "PROGRAM TOTALS" in where else \
                        where.split(" [")[0].rsplit("/", 1)[-1]
                    prof[n][name] = prof[n].get(name, 0) + int(mm.group(1).replace(",", ""))
        return {fn: (prof[3000].get(fn, 0) - prof[1000].get(fn, 0)) / 2000 for fn in prof[3000]}

    def dispatch_cost(self):
        section = "3. dispatch cost (callgrind, user-space instructions per round trip, ponger)"
        if not shutil.which("valgrind"):
            self.row(section, "all", "n/a (valgrind not installed)")
            return
        # sk_fd is left out: under valgrind its ping-pong sometimes stalls for
        # good (see docs/performance.md).
        mechs = [m for m in ("sigwaitinfo", "selfpipe", "sk_wait", "libuv")
                 if m in self.available()]
        with tempfile.TemporaryDirectory() as tmp:
            cost = {m: (self.ponger_profile(m, tmp) or {}).get("TOTAL") for m in mechs}
        for m in mechs:
            goal = verdict = "—"
            if m == "sk_wait":
                goal = "fewer than libuv"
                verdict = ("met" if cost[m] and cost.get("libuv") and cost[m] < cost["libuv"]
                           else "missed")
            floor = cost.get("sigwaitinfo")
            self.row(section, LABELS[m],
                     "failed" if cost[m] is None else f"{cost[m]:,.0f} instructions",
                     fmt_ratio(cost[m] / floor if cost[m] and floor else None), goal, verdict)

    # ---------------------------------------------------------------- scale
    def scale(self):
        configs = [("1 handler", ["-H", "1"]), ("16 handlers", ["-H", "16"]),
                   ("256 handlers", ["-H", "256"]), ("1 timer armed", ["-T", "1"]),
                   ("1,000 timers armed", ["-T", "1000"])]
        # Noise on a shared VM moves whole runs: compare each load with the
        # unloaded case of the same pass, and take the median of those ratios.
        res = {c: [] for c, _ in configs}
        ratios = {c: [] for c, _ in configs}
        for _ in range(max(self.runs, 5)):
            base = None
            for c, extra in configs:
                f = fields(run(self.pp_cmd("sk_wait", True, 20000, extra)))
                if "rt_per_s" not in f:
                    continue
                ns = 1e9 / f["rt_per_s"]
                res[c].append(ns)
                base = base or ns
                ratios[c].append(ns / base)
        for c, _ in configs:
            ns = median(res[c])
            self.row("4. scale (sk_wait ping-pong, pinned)", f"sigkit, {c}",
                     "failed" if ns is None else f"{ns / 1000:.2f} µs per round trip",
                     f"{median(ratios[c]):.2f}x the time of 1 handler" if ratios[c] else "—")
        self.supervisor_rows()

    def sigkit_run(self, *args):
        return Logged([self.sigkit, "run", *args])

    def idle_master(self, workers=2):
        """An idle `sigkit run` master with `workers` sleeping workers, once all
        are ready (ready timeout 1 s); None if it did not get there."""
        m = self.sigkit_run("-w", str(workers), "--listen", "tcp://127.0.0.1:0", "--",
                            "sleep", "60")
        if not m.wait_for("worker(s) ready", timeout=10):
            m.stop()
            return None
        time.sleep(0.3)
        return m

    def supervisor_rows(self):
        section = "4. scale"
        if not os.access(self.sigkit, os.X_OK):
            self.row(section, "sigkit run", f"missing ({self.sigkit}; run make build)")
            return
        # A worker that exits at once: the crash-loop backoff (0.1 s doubling,
        # capped at 30 s) bounds the respawns on purpose.
        secs = 5
        m = self.sigkit_run("-w", "1", "--listen", "tcp://127.0.0.1:0", "--", "true")
        time.sleep(secs)
        starts = [t for t, ln in list(m.lines) if ln.endswith(" started") and t <= secs]
        m.stop()
        if starts:
            n = len(starts) - 1
            self.row(section, "sigkit run: workers replaced per second, worker exits at once",
                     f"{n / secs:.1f}/s ({n} respawns in {secs} s, -w 1, `true`); bounded on "
                     "purpose by the crash-loop backoff, 0.1 s doubling to 30 s "
                     "(gunicorn: 86 respawns in 5 s, no backoff)")
        else:
            self.row(section, "sigkit run: workers replaced per second, worker exits at once",
                     "failed")
        # A healthy worker (ready, then 5 s or more) that exits: replaced at
        # once, no backoff.  The delay is from the exit's log line to the
        # replacement's "started" line.
        m = self.sigkit_run("-w", "1", "--listen", "tcp://127.0.0.1:0", "--ready-timeout", "0.1",
                            "--", "sh", "-c", "sleep 5.1")
        ok = m.wait_for(" started", count=2, timeout=8)
        lines = list(m.lines)
        m.stop()
        gap = None
        if ok:
            ex = [t for t, ln in lines if "exited" in ln]
            st = [t for t, ln in lines if ln.endswith(" started")]
            if ex and len(st) >= 2:
                gap = (st[1] - ex[0]) * 1000
        self.row(section, "sigkit run: healthy worker (ready, ran 5.1 s) exits, replaced after",
                 "failed" if gap is None else
                 f"{gap:.1f} ms from its exit log line to its replacement's (no backoff)")
        # Idle master: strace -c on the master's threads only, not the workers.
        m = self.idle_master(2)
        calls = strace_idle(m.proc.pid, 10) if m else None
        if m:
            m.stop()
        label = "sigkit run: idle system calls in 10 s (goal 0)"
        if calls is None:
            self.row(section, label, "failed")
        else:
            total = sum(calls.values())
            shown = ", ".join(f"{k} {v}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1]))
            self.row(section, label,
                     f"{total} system calls (strace -c -p master, -w 2 sleeping workers"
                     f"{'; ' + shown if shown else ''})", "—", "0",
                     "met" if total == 0 else "missed")

    # ------------------------------------------------------------- footprint
    def startup_ms(self, cmd, n=30):
        times = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append((time.perf_counter() - t) * 1000)
        return median(times)

    def footprint(self):
        for name in ("libsigkit.so", "libsigkit.a"):
            path = os.path.join(self.lib, name)
            if os.path.exists(path):
                fig = f"{os.path.getsize(path) / 1024:,.1f} KiB on disk"
                stripped = os.path.join(tempfile.gettempdir(), f"bench-strip-{os.getpid()}")
                if name.endswith(".so") and shutil.which("strip"):
                    subprocess.run(["strip", "-o", stripped, path], capture_output=True)
                    if os.path.exists(stripped):
                        fig += f" ({os.path.getsize(stripped) / 1024:,.1f} KiB stripped)"
                        os.unlink(stripped)
            else:
                fig = "missing (run make build)"
            self.row("5. footprint", name, fig)
        have = os.access(self.sigkit, os.X_OK)
        missing = f"missing ({self.sigkit}; run make build)"
        self.row("5. footprint", "static sigkit binary", self.binary_size() if have else missing)
        self.row("5. footprint", "idle sigkit run master RSS vs tini, gunicorn",
                 self.idle_rss() if have else missing)
        pid = str(os.getpid())
        ps = self.startup_ms(["ps", "-p", pid]) if shutil.which("ps") else None
        kl = self.startup_ms(["/bin/kill", "-0", pid]) if os.path.exists("/bin/kill") else None
        if have:
            sl = self.startup_ms([self.sigkit, "list", pid])
            ss = self.startup_ms([self.sigkit, "send", "0", pid])
            ratio = (f"{sl / ps:.2f}x ps / {ss / kl:.2f}x kill" if ps and kl else "—")
            self.row("5. footprint", "startup: sigkit list PID / sigkit send 0 PID",
                     f"{sl:.2f} ms / {ss:.2f} ms (median of 30, whole process)", ratio)
        else:
            self.row("5. footprint", "startup: sigkit list PID / sigkit send 0 PID", missing)
        self.row("5. footprint", "startup: ps -p PID / kill -0 PID (reference)",
                 f"{ps or 0:.2f} ms / {kl or 0:.2f} ms (median of 30)")

    def binary_size(self):
        fig = f"{os.path.getsize(self.sigkit) / 1024:,.1f} KiB on disk"
        if shutil.which("strip"):
            stripped = os.path.join(tempfile.gettempdir(), f"bench-strip-{os.getpid()}")
            subprocess.run(["strip", "-o", stripped, self.sigkit], capture_output=True)
            if os.path.exists(stripped):
                fig += f" ({os.path.getsize(stripped) / 1024:,.1f} KiB stripped)"
                os.unlink(stripped)
        dyn = elf_interp(self.sigkit)
        if dyn:
            fig += "; libsigkit linked in statically, libc dynamically"
        elif dyn is False:
            fig += "; fully static"
        return fig

    def idle_rss(self):
        """VmRSS of three idle masters: sigkit run -w 2, tini, gunicorn -w 2."""
        parts = []
        m = self.idle_master(2)
        rss = vmrss_kb(m.proc.pid) if m else None
        if m:
            m.stop()
        parts.append("sigkit run -w 2 " + ("failed" if rss is None else f"{rss / 1024:.1f} MB"))
        if shutil.which("tini"):
            ver = (run(["tini", "--version"]) or "").split()
            ver = ver[2] if len(ver) > 2 else "?"
            t = Logged(["tini", "--", "sleep", "60"])
            time.sleep(0.5)
            rss = vmrss_kb(t.proc.pid) if t.proc.poll() is None else None
            t.stop()
            parts.append(f"tini {ver} " + ("failed" if rss is None else f"{rss / 1024:.1f} MB"))
        else:
            parts.append("tini not installed")
        if shutil.which("gunicorn"):
            ver = re.findall(r"[0-9][0-9.]+", run(["gunicorn", "--version"]) or "")
            ver = ver[0] if ver else "?"
            rss = None
            with tempfile.TemporaryDirectory() as tmp:
                with open(os.path.join(tmp, "benchapp.py"), "w") as fh:
                    fh.write("def app(environ, start_response):\n"
                             "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                             "    return [b'ok\\n']\n")
                g = Logged(["gunicorn", "-w", "2", "-b", "127.0.0.1:0", "--chdir", tmp,
                            "benchapp:app"])
                if g.wait_for("Booting worker", count=2, timeout=15):
                    time.sleep(0.5)
                    rss = vmrss_kb(g.proc.pid)
                g.stop()
            parts.append(f"gunicorn {ver} -w 2 master " +
                         ("failed" if rss is None else f"{rss / 1024:.1f} MB"))
        else:
            parts.append("gunicorn not installed")
        return "VmRSS: " + "; ".join(parts)

    # ---------------------------------------------------------------- profile
    def profile(self):
        """strace -c and callgrind per round trip: sk_wait against sigwaitinfo."""
        lines = ["", "Profile, pinned ping-pong, per side per round trip (difference between runs of "
                 "1000 and 3000 rounds, so start-up cancels):", ""]
        with tempfile.TemporaryDirectory() as tmp:
            for m in ("sigwaitinfo", "sk_wait"):
                counts = []
                for n in (1000, 3000):
                    out = os.path.join(tmp, f"st.{m}.{n}")
                    subprocess.run(["taskset", "-c", "0", "strace", "-f", "-c", "-o", out,
                                    os.path.join(self.bin, "pingpong"), m, "-n", str(n), "-w",
                                    "0"], capture_output=True, timeout=120)
                    c = {}
                    with open(out) as fh:
                        for line in fh:
                            p = line.split()
                            if len(p) >= 5 and p[-1] != "total" and p[0][0].isdigit():
                                c[p[-1]] = int(p[3])
                    counts.append(c)
                diff = {k: (counts[1].get(k, 0) - counts[0].get(k, 0)) / 4000
                        for k in counts[1]}
                shown = ", ".join(f"{k} {v:.2f}" for k, v in sorted(diff.items(),
                                  key=lambda kv: -kv[1]) if v >= 0.01)
                lines.append(f"  strace -c {m}: {sum(diff.values()):.2f} system calls ({shown})")
            for m in ("sigwaitinfo", "sk_wait"):
                per = self.ponger_profile(m, tmp) or {}
                lines.append(f"  callgrind {m} (ponger): {per.get('TOTAL', 0):,.0f} user-space "
                             "instructions per round trip; self cost by function:")
                for fn, v in sorted(per.items(), key=lambda kv: -kv[1]):
                    if v >= 2 and fn != "TOTAL":
                        lines.append(f"      {v:8,.0f}  {fn}")
            floor, far = [], []
            for _ in range(5):
                floor.append(fields(run(self.pp_cmd("sigwaitinfo", True, 30000)))["rt_per_s"])
                far.append(fields(run(self.pp_cmd("sigtimedwait_far", True, 30000)))["rt_per_s"])
            lines.append(f"  sigtimedwait with a one-year timeout instead of sigwaitinfo: "
                         f"{median(far) / median(floor):.2f}x the floor's rt/s (the kernel arms "
                         "and cancels a timer on every wait)")
        print("\n".join(lines))

    # ---------------------------------------------------------------- trace
    def trace_flood(self, json):
        cmd = [os.path.join(self.bin, "tracebench"), self.sigkit, "-r", "100000", "-d", "3"]
        return fields(run(cmd + (["--json"] if json else []), timeout=60))

    def pp_traced(self, rounds):
        """One pinned sigsuspend ping-pong while `sigkit trace` (every signal
        on the machine, human lines to /dev/null) runs."""
        r, w = os.pipe()
        tracer = subprocess.Popen([self.sigkit, "trace", "--ready-fd", str(w)], pass_fds=(w,),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        os.read(r, 16)  # "ready": its rings are on
        os.close(r)
        try:
            return fields(run(self.pp_cmd("sigsuspend", True, rounds)))
        finally:
            tracer.send_signal(2)
            tracer.wait(timeout=10)

    def trace(self):
        """Issue 8: sigkit trace under a 100,000 signals/s flood, and what a
        traced process pays (ping-pong rate with and without the tracer)."""
        section = "6. sigkit trace (issue 8)"
        if os.geteuid() != 0:
            self.row(section, "all", "n/a (needs root or CAP_PERFMON)")
            return
        if not os.path.exists(self.sigkit):
            self.row(section, "all", f"missing ({self.sigkit})")
            return
        flood = {False: [], True: []}
        plain, traced = [], []
        load = os.getloadavg()[0]  # a starved tracer drops records: say how busy the box was
        for _ in range(self.runs):
            for json in (False, True):
                f = self.trace_flood(json)
                if "sent" in f:
                    flood[json].append(f)
            f = fields(run(self.pp_cmd("sigsuspend", True, 20000)))
            if "rt_per_s" in f:
                plain.append(f["rt_per_s"])
            f = self.pp_traced(20000)
            if "rt_per_s" in f:
                traced.append(f["rt_per_s"])
        for json in (False, True):
            rs = flood[json]
            label = "flood: kill(USR1) at 100k/s; sigkit trace PID --signal USR1" + \
                (" --json" if json else "") + " > file"
            if not rs:
                self.row(section, label, "failed")
                continue
            m = {k: median([x[k] for x in rs]) for k in rs[0]}
            self.row(section, label,
                     f"load {load:.1f}: sent {fmt_int(m['rate'])}/s; {fmt_int(m['shown'])} send lines for "
                     f"{fmt_int(m['sent'])} sent; lost {fmt_int(m['lost'])}; tracer CPU "
                     f"{m['tracer_cpu_s']:.2f} s = {fmt_int(m['ns_per_record'])} ns/record")
        if plain and traced:
            p, t = median(plain), median(traced)
            self.row(section, "ping-pong pinned (sigsuspend): untraced → under `sigkit trace` "
                     "(no filter, > /dev/null)",
                     f"{fmt_int(p)} → {fmt_int(t)} rt/s ({(t / p - 1) * 100:+.0f}%)",
                     f"{t / p:.2f}x untraced")

    # ---------------------------------------------------------------- output
    def machine(self):
        cpu = "unknown"
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        return (f"Machine: {os.cpu_count()} vCPU ({cpu}), Linux {platform.release()}, "
                f"shared VM; {time.strftime('%Y-%m-%d')}; ping-pong medians of {self.runs} "
                f"interleaved runs, queue of {min(self.runs, 3)}.")

    def table(self):
        out = [self.machine(), "",
               "| section | mechanism | figure (median) | ratio vs floor | goal | met? |",
               "|---|---|---|---|---|---|"]
        for r in self.rows:
            out.append("| " + " | ".join(r) + " |")
        return "\n".join(out)


def write_docs(path, text):
    begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
    with open(path) as fh:
        doc = fh.read()
    if begin not in doc or end not in doc:
        sys.exit(f"{path}: markers {begin} / {end} not found")
    head, rest = doc.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(path, "w") as fh:
        fh.write(head + begin + "\n" + text + "\n" + end + tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write-docs")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", default="123456")
    args = ap.parse_args()
    b = Bench(args)
    steps = {"1": b.pingpong, "2": b.queue, "3": b.dispatch_cost, "4": b.scale, "5": b.footprint,
             "6": b.trace}
    for k in args.only:
        t = time.time()
        steps[k]()
        print(f"[section {k} took {time.time() - t:.0f} s]", file=sys.stderr)
    text = b.table()
    print(text)
    if args.profile:
        b.profile()
    if args.write_docs:
        write_docs(args.write_docs, text)
        print(f"\nwrote the table into {args.write_docs}")


if __name__ == "__main__":
    main()
