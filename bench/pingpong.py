"""pingpong.py - the ping-pong of pingpong.c (see common.h) with Python's
signal module on both sides.

  python3 pingpong.py handler|sigwait [-n rounds] [-w warmup]

handler: signal.signal() installs a Python handler and signal.set_wakeup_fd()
         gets a non-blocking pipe; the loop sleeps in select() on the pipe,
         and the interpreter runs the handler (which answers) when the C-level
         handler has written its byte.
sigwait: SIGUSR1 blocked with pthread_sigmask; the loop calls signal.sigwait()
         and answers.

Prints the same line as pingpong.c.
"""
import os
import select
import signal
import sys
import time

USR1 = signal.SIGUSR1


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("handler", "sigwait"):
        sys.exit("usage: pingpong.py handler|sigwait [-n rounds] [-w warmup]")
    mode = args[0]
    rounds, warmup = 20000, 1000
    for flag, value in zip(args[1::2], args[2::2]):
        if flag == "-n":
            rounds = int(value)
        elif flag == "-w":
            warmup = int(value)
    total = rounds + warmup
    ready_r, ready_w = os.pipe()
    parent = os.getpid()
    child = os.fork()
    pinger = child != 0
    peer = child if pinger else parent
    rtt = []
    state = {"done": 0, "t_send": 0, "t_start": 0, "t_end": 0}
    clock = time.monotonic_ns
    kill = os.kill

    def on_signal():
        state["done"] += 1
        done = state["done"]
        if not pinger:
            kill(peer, USR1)
            return done == total
        t = clock()
        if done == warmup:
            state["t_start"] = t
        elif done > warmup:
            rtt.append(t - state["t_send"])
        if done == total:
            state["t_end"] = t
            return True
        state["t_send"] = clock()
        kill(peer, USR1)
        return False

    def ready():
        if not pinger:
            os.write(ready_w, b"r")
            return
        os.read(ready_r, 1)
        state["t_send"] = state["t_start"] = clock()
        kill(peer, USR1)

    finished = [False]
    if mode == "handler":
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)

        def handler(signum, frame):
            if on_signal():
                finished[0] = True

        signal.signal(USR1, handler)
        ready()
        while not finished[0]:
            select.select([wake_r], [], [])
            os.read(wake_r, 64)
    else:
        signal.pthread_sigmask(signal.SIG_BLOCK, {USR1})
        ready()
        wanted = {USR1}
        while not finished[0]:
            signal.sigwait(wanted)
            finished[0] = on_signal()

    if not pinger:
        os._exit(0)
    os.waitpid(child, 0)
    rtt.sort()
    secs = (state["t_end"] - state["t_start"]) / 1e9
    print("py_%s rt_per_s=%.0f oneway_p50_ns=%d oneway_p99_ns=%d rounds=%d"
          % (mode, rounds / secs, rtt[rounds // 2] // 2, rtt[rounds * 99 // 100] // 2, rounds))


if __name__ == "__main__":
    main()
