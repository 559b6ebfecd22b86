"""run.py - run every benchmark, interleaved, and print one table.

  python3 bench/run.py --bin build-bench --lib build [--runs N] [--write-docs FILE] [--profile]

Called by scripts/bench.sh.  Each program prints figures; this script runs
them several times in turn (mechanism after mechanism, then again), takes
medians, computes ratios against the kernel's floor within the same run,
and compares them with the goals of issue 3.  It asserts nothing.
--write-docs replaces the generated part of FILE (between the bench-table
markers).  --profile adds the sk_wait-versus-sigwaitinfo profile (strace -c
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
import tempfile
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
NA_SUPERVISOR = "n/a (supervisor not built yet)"
NA_CLI = "n/a (command not built yet)"


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


def fmt_int(x):
    return "—" if x is None else f"{x:,.0f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


class Bench:
    def __init__(self, args):
        self.bin = args.bin
        self.lib = args.lib
        self.runs = args.runs
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
        self.row("4. scale", "sigkit run: workers replaced per second", NA_SUPERVISOR)
        self.row("4. scale", "sigkit run: idle system calls in 10 s (goal 0)", NA_SUPERVISOR)

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
        self.row("5. footprint", "static sigkit binary", NA_CLI)
        self.row("5. footprint", "idle sigkit run master RSS vs tini, gunicorn", NA_SUPERVISOR)
        ps = self.startup_ms(["ps", "-p", str(os.getpid())]) if shutil.which("ps") else None
        kl = self.startup_ms(["/bin/kill", "-0", str(os.getpid())]) \
            if os.path.exists("/bin/kill") else None
        self.row("5. footprint", "startup: sigkit list / sigkit send", NA_CLI)
        self.row("5. footprint", "startup: ps -p PID / kill -0 PID (reference)",
                 f"{ps or 0:.2f} ms / {kl or 0:.2f} ms (median of 30)")

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
    ap.add_argument("--only", default="12345")
    args = ap.parse_args()
    b = Bench(args)
    steps = {"1": b.pingpong, "2": b.queue, "3": b.dispatch_cost, "4": b.scale, "5": b.footprint}
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
