#!/usr/bin/env bash
# scripts/demo.sh BUILD_DIR - run the seed scenarios (examples/*.c) one after
# the other, sending the signals the seeds' authors sent by hand.
#
# Each program's output (stdout and stderr) comes through a fifo; the script
# reads it line by line, showing each line with the time since the program
# started, and sends the next signal only once the program has printed what
# the previous one should cause.  Timeouts only bound failures.  Exits 1 if
# any scenario did not behave as the seed did.
set -u

if [[ $# -ne 1 ]]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
EX=$1/examples
for p in recv_signal getsignal alarm ignore threads alarm_thread; do
    if [[ ! -x $EX/$p ]]; then
        echo "demo: $EX/$p not found; build the project first" >&2
        exit 2
    fi
done

tmp=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

now_us() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t)); }

banner() {
    printf '\n=== %s\n' "$1"
    shift
    printf '    %s\n' "$@"
}

# start NAME [ARG...]: run examples/NAME in the background, its output on fd 3.
start() {
    rm -f "$tmp/out"
    mkfifo "$tmp/out"
    "$EX/$1" "${@:2}" >"$tmp/out" 2>&1 &
    pid=$!
    exec 3<"$tmp/out"
    t0=$(now_us)
}

# show LINE: print a line of the program with the time since start().
show() {
    local us=$(($(now_us) - t0))
    printf '    [%2d.%02ds] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$1"
}

# expect REGEX [TIMEOUT_S]: show lines until one matches REGEX; sets MATCH
# (BASH_REMATCH of that line) and AT (microseconds since start).
expect() {
    local re=$1 line
    while IFS= read -r -t "${2:-10}" -u 3 line; do
        show "$line"
        if [[ $line =~ $re ]]; then
            MATCH=("${BASH_REMATCH[@]}")
            AT=$(($(now_us) - t0))
            return 0
        fi
    done
    echo "    !! no line matching /$re/ (end of output or timeout)"
    return 1
}

# send SIG: kill -SIG the program, saying so.
send() {
    echo "    >> kill -$1 $pid"
    kill "-$1" "$pid"
}

# finish STATUS: show what is left of the output, reap, compare exit status.
finish() {
    local line st
    while IFS= read -r -t 10 -u 3 line; do
        show "$line"
    done
    exec 3<&-
    wait "$pid"
    st=$?
    pid=
    if [[ $st -ne $1 ]]; then
        echo "    !! exit status $st, expected $1"
        return 1
    fi
    echo "    (exit status $st, as expected)"
}

# abort: the scenario failed; stop its program.
abort() {
    exec 3<&-
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    pid=
    return 1
}

scenario_recv_signal() {
    banner "recv_signal: seed 000's recv_signal.py and seed 002's 'receive signal'" \
        "The seeds: kill -HUP (twice), kill -USR1, kill -USR2 from another window, then Ctrl-C." \
        "Watch: one handler line per signal; 'waiting...' only every 3 s, because the" \
        "sleep resumes after each handler (PEP 475); INT says goodbye, exit status 0."
    start recv_signal
    expect '^My pid is ([0-9]+)$' || { abort; return; }
    [[ ${MATCH[1]} == "$pid" ]] || { echo "    !! printed pid ${MATCH[1]}, not $pid"; abort; return; }
    expect '^waiting\.\.\.$' || { abort; return; }
    # Wait for each line before the next signal: two quick HUPs may merge
    # into one in the kernel (standard signals do not queue).
    send HUP; expect '^get signal: 1$' || { abort; return; }
    send HUP; expect '^get signal: 1$' || { abort; return; }
    send USR1; expect "^Received: $(kill -l USR1)\$" || { abort; return; }
    send USR2; expect "^Received: $(kill -l USR2)\$" || { abort; return; }
    expect '^waiting\.\.\.$' 6 || { abort; return; }
    echo "    (the second 'waiting...' came 3 s after the first: the handlers did not cut the sleep short)"
    send INT; expect '^get signal: 2, I will quit$' || { abort; return; }
    finish 0
}

scenario_getsignal() {
    banner "getsignal: seed 000's getsignal_handler.py and seed 002's handler table" \
        "The seeds installed handlers for HUP and ALRM, then printed getsignal() of every signal." \
        "Watch: HUP and ALRM show the handler's name; INT shows Python's default_int_handler;" \
        "KILL and STOP show None (they cannot be caught); PIPE and XFSZ show SIG_IGN (Python" \
        "ignores them at start-up); every other signal of this system shows SIG_DFL."
    # Run in the foreground: a background job of a script starts with INT
    # and QUIT ignored, which the table would (rightly) show.
    local st
    "$EX/getsignal" >"$tmp/getsignal.out" 2>&1
    st=$?
    sed 's/^/    /' "$tmp/getsignal.out"
    local ok=1
    grep -q '^SIGHUP  *( *1) : <function handle_hup at ' "$tmp/getsignal.out" || ok=0
    grep -q "^SIGALRM  *( *$(kill -l ALRM)) : <function alarm_received at " "$tmp/getsignal.out" || ok=0
    grep -q '^SIGINT  *( *2) : <built-in function default_int_handler>$' "$tmp/getsignal.out" || ok=0
    grep -q '^SIGKILL  *( *9) : None$' "$tmp/getsignal.out" || ok=0
    grep -q "^SIGPIPE  *( *$(kill -l PIPE)) : SIG_IGN\$" "$tmp/getsignal.out" || ok=0
    grep -q "^SIGUSR1  *( *$(kill -l USR1)) : SIG_DFL\$" "$tmp/getsignal.out" || ok=0
    if [[ $st -ne 0 || $ok -ne 1 ]]; then
        echo "    !! exit status $st; table rows as expected: $ok"
        return 1
    fi
    echo "    (exit status 0, as expected)"
}

scenario_alarm() {
    banner "alarm: seed 002's alarm program ('警报')" \
        "The seed: alarm(2), then sleep(6); the handler prints 14, sleeps 1 s, prints the time." \
        "Watch: the alarm at +2 s, its line at +3 s, and 'After' at +6 s: the 6 s sleep" \
        "resumed after the handler instead of starting over or ending early."
    local before
    start alarm
    expect '^Before: ' || { abort; return; }
    before=$AT
    expect "^$(kill -l ALRM)\$" || { abort; return; }
    expect '^Alarm : ' || { abort; return; }
    expect '^After: ' || { abort; return; }
    if ((AT - before < 5900000 || AT - before > 7000000)); then
        echo "    !! After came $(((AT - before) / 1000)) ms after Before, expected 6 s"
        abort
        return
    fi
    finish 0
}

scenario_ignore() {
    banner "ignore: seed 002's 'ignore a signal' program ('忽略信号')" \
        "The seed: SIGINT set to SIG_IGN, a USR1 handler raising SystemExit('Exiting'), pause()." \
        "Watch: INT does nothing; USR1 prints 'Exiting' (on stderr) and the status is 1."
    start ignore
    expect '^My PID: ([0-9]+)$' || { abort; return; }
    send INT
    echo "    (nothing happens: INT is ignored)"
    send USR1
    expect '^Exiting$' || { abort; return; }
    finish 1
}

scenario_threads() {
    banner "threads: seed 000's thread_signal.py and seed 002's 'signals and threads'" \
        "The seed: a receiver thread waits, a sender thread sends USR1 to the process." \
        "Watch: the handler runs in MainThread (the thread that dispatches), never in the" \
        "receiver. The seed then hung (or died by the alarm); here the alarm handler, 2 s" \
        "later, releases the receiver and the program ends with status 0."
    start threads
    expect '^Wait for signal in receiver$' || { abort; return; }
    expect '^Sending signal in sender$' || { abort; return; }
    expect "^Receive signal $(kill -l USR1) in MainThread\$" || { abort; return; }
    expect '^Waiting for receiver$' || { abort; return; }
    expect "^$(kill -l ALRM)\$" || { abort; return; }
    expect '^Alarm : ' || { abort; return; }
    expect '^Done waiting$' || { abort; return; }
    finish 0
}

scenario_alarm_thread() {
    banner "alarm_thread: seed 002's last program (an alarm set in another thread)" \
        "The seed: alarm_thread calls alarm(1) and sleeps 3 s; the main thread joins it." \
        "Watch: the alarm fires after 1 s and its handler runs in MainThread, while" \
        "alarm_thread sleeps on; then 'Done with sleep' at +3 s and a normal exit."
    start alarm_thread
    expect ' Setting alarm in alarm_thread$' || { abort; return; }
    expect ' Sleep in alarm_thread$' || { abort; return; }
    expect ' Wait for alarm_thread$' || { abort; return; }
    expect ' Alarm in MainThread$' || { abort; return; }
    expect ' Done with sleep alarm_thread$' || { abort; return; }
    expect ' Exiting normally$' || { abort; return; }
    finish 0
}

# get PORT: one HTTP request to 127.0.0.1:PORT with bash's /dev/tcp; prints
# the body (the answering worker's pid).
get() {
    local body
    exec 4<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET / HTTP/1.0\r\n\r\n' >&4
    body=$(timeout 5 cat <&4 | tail -n 1)
    exec 4<&-
    echo "    << GET / answered by worker $body"
}

scenario_prefork() {
    banner "prefork: the pre-fork master the first seed promises (examples/prefork.c)" \
        "A master opens the socket once and forks 2 workers that answer with their pid." \
        "Watch: requests answered by the workers; HUP starts new workers and retires the" \
        "old ones only once the new ones are ready; TERM stops gracefully, exit status 0."
    start prefork tcp://127.0.0.1:0 2
    expect 'listening on tcp://127\.0\.0\.1:([0-9]+)' || { abort; return; }
    local port=${MATCH[1]}
    expect '2 worker\(s\) ready' || { abort; return; }
    get "$port" && get "$port" || { abort; return; }
    send HUP
    expect 'reload done' || { abort; return; }
    get "$port" || { abort; return; }
    send TERM
    expect 'stopped' || { abort; return; }
    finish 0
}

failed=()
for s in recv_signal getsignal alarm ignore threads alarm_thread prefork; do
    "scenario_$s" || failed+=("$s")
done
echo
if ((${#failed[@]})); then
    echo "demo: FAILED: ${failed[*]}"
    exit 1
fi
echo "demo: all 7 scenarios behaved as the seeds promise"
