/*
 * test_trace.c - black-box tests of `sigkit trace` (issue 8).
 *
 * Each case starts the built binary with --json --ready-fd 3, waits for
 * its "ready" line (tracing is on from then: no sleep synchronises
 * anything), makes known processes send known signals, stops the tracer
 * with SIGINT and checks every JSON line it printed.  Senders and targets
 * acknowledge each step through pipes, so a signal is never merged with
 * the one before it and every handler has run before the tracer stops.
 *
 * Skipped (exit 77, saying why) only when this machine gives no tracing
 * privilege (neither root nor CAP_PERFMON, or no tracefs) or the build
 * has no tracing (the portable build).
 */
/* SK_TEST_LABEL_NOCORE */
#include "harness.h"

#include <sigkit.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIGKIT SK_BUILD_DIR "/cli/sigkit"
#define MAX_ARGS 32
#define OUT_MAX (1 << 20)

static char out[OUT_MAX], err[8192];
static int status;

/* ------------------------------------------------------------------ */
/* Running sigkit                                                      */
/* ------------------------------------------------------------------ */

typedef struct tracer {
    pid_t pid;
    FILE *out, *err;
} tracer;

/* Start `sigkit trace ARGS... --ready-fd 3`; with ready, wait for its
 * "ready" line (fails after 20 s). */
static tracer tracer_startv(char *const *args, bool ready)
{
    char *argv[MAX_ARGS + 4] = {(char *)"sigkit", (char *)"trace"};
    int n = 2, rp[2];
    if (ready) { /* first: the words after "--" are the command's */
        argv[n++] = (char *)"--ready-fd";
        argv[n++] = (char *)"3";
    }
    for (int i = 0; args[i]; i++) {
        CHECK(n < MAX_ARGS);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    tracer t = {.out = tmpfile(), .err = tmpfile()};
    CHECK(t.out && t.err && pipe(rp) == 0);
    fflush(NULL);
    t.pid = fork();
    CHECK(t.pid >= 0);
    if (t.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed case leaves no tracer behind */
        close(rp[0]);
        /* stdout and stderr first: a tmpfile may itself be fd 3 */
        dup2(fileno(t.out), 1);
        dup2(fileno(t.err), 2);
        if (rp[1] != 3) {
            dup2(rp[1], 3);
            close(rp[1]);
        }
        execv(SIGKIT, argv);
        _exit(126);
    }
    close(rp[1]);
    if (!ready) {
        close(rp[0]);
        return t;
    }
    char c = 0;
    struct pollfd p = {.fd = rp[0], .events = POLLIN};
    double end = sk_test_now() + 20;
    while (poll(&p, 1, 100) == 0 && sk_test_now() < end)
        ;
    ssize_t r = read(rp[0], &c, 1);
    close(rp[0]);
    if (r != 1) { /* it failed before tracing: show why */
        status = sk_test_exit_code(sk_test_reap(t.pid, 20));
        sk_test_slurp(t.err, err, sizeof err);
        sk_test_fail(__FILE__, __LINE__, "sigkit trace never got ready (exit %d): %s", status,
                     err);
    }
    return t;
}

#define tracer_start(...) tracer_startv((char *const[]){__VA_ARGS__, NULL}, true)

/* Wait for it to end by itself (CMD's exit, --duration) and read its output. */
static void tracer_wait(tracer *t)
{
    status = sk_test_exit_code(sk_test_reap(t->pid, 30));
    sk_test_slurp(t->out, out, sizeof out);
    sk_test_slurp(t->err, err, sizeof err);
}

/* Ctrl-C: it drains what is recorded, prints the summary and exits 0. */
static void tracer_stop(tracer *t)
{
    CHECK(kill(t->pid, SIGINT) == 0);
    tracer_wait(t);
    if (status != 0)
        sk_test_fail(__FILE__, __LINE__, "sigkit trace exit %d: %s", status, err);
}

/* Skip unless tracing works here: a zero-second trace must succeed. */
static void require_tracing(void)
{
    tracer t = tracer_startv((char *const[]){(char *)"--duration", (char *)"0", NULL}, false);
    tracer_wait(&t);
    if (status == 1 && (strstr(err, "needs root") || strstr(err, "tracefs")))
        SK_SKIP("no tracing privilege here (not root, no CAP_PERFMON) or no tracefs");
    if (status == 1 && strstr(err, "not supported"))
        SK_SKIP("this build has no tracing (portable build: no perf_event_open)");
    if (status != 0)
        sk_test_fail(__FILE__, __LINE__, "probe: exit %d: %s", status, err);
}

/* ------------------------------------------------------------------ */
/* Reading the JSON lines                                              */
/* ------------------------------------------------------------------ */

#define MAX_LINES 4096
static char *lines[MAX_LINES];
static int nlines;

static void split_lines(void)
{
    nlines = 0;
    for (char *s = out; *s && nlines < MAX_LINES;) {
        char *nl = strchr(s, '\n');
        lines[nlines++] = s;
        if (!nl)
            break;
        *nl = '\0';
        s = nl + 1;
    }
}

/* The raw value of "key" in a JSON line (our own flat objects): a string
 * without its quotes, or a number / true / false / null as written. */
static const char *get(const char *line, const char *key)
{
    static char val[256];
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && n + 1 < sizeof val; p++)
            val[n++] = *p == '\\' ? *++p : *p;
    } else {
        while (*p && *p != ',' && *p != '}' && n + 1 < sizeof val)
            val[n++] = *p++;
    }
    val[n] = '\0';
    return val;
}

static bool is(const char *line, const char *key, const char *want)
{
    const char *v = get(line, key);
    return v && strcmp(v, want) == 0;
}

/* Lines that match every (key, value) pair given; their count, and the
 * index of the first in *first. */
static int count_where(int *first, ...)
{
    int n = 0;
    for (int i = 0; i < nlines; i++) {
        va_list ap;
        va_start(ap, first);
        bool ok = true;
        for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
            const char *v = va_arg(ap, const char *);
            ok = ok && is(lines[i], k, v);
        }
        va_end(ap);
        if (ok && n++ == 0 && first)
            *first = i;
    }
    return n;
}
#define WHERE(...) count_where(NULL, __VA_ARGS__, NULL)

/* CHECK_EQ for a count of lines, showing every line when it fails. */
#define CHECK_LINES(got, want)                                                        \
    do {                                                                              \
        int _g = (got), _w = (want);                                                  \
        if (_g != _w) {                                                               \
            for (int _i = 0; _i < nlines; _i++)                                       \
                fprintf(stderr, "  %s\n", lines[_i]);                                 \
            sk_test_fail(__FILE__, __LINE__, "%s: %d lines, not %d", #got, _g, _w);   \
        }                                                                             \
    } while (0)

static const char *num(long v)
{
    static char buf[8][32];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%ld", v);
    return buf[k];
}

/* A strict little JSON validator (RFC 8259 grammar, no extensions): the
 * value at *p, which is advanced past it.  In C rather than through
 * python3, so that the check needs nothing outside this test. */
static bool json_value(const char **p);

static void json_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static bool json_string(const char **p)
{
    if (**p != '"')
        return false;
    for ((*p)++; **p != '"'; (*p)++) {
        if ((unsigned char)**p < 0x20)
            return false;
        if (**p == '\\') {
            (*p)++;
            if (**p == 'u') {
                for (int k = 1; k <= 4; k++)
                    if (!strchr("0123456789abcdefABCDEF", (*p)[k]) || !(*p)[k])
                        return false;
                *p += 4;
            } else if (!**p || !strchr("\"\\/bfnrt", **p)) {
                return false;
            }
        }
    }
    (*p)++;
    return true;
}

static bool json_number(const char **p)
{
    const char *s = *p;
    if (**p == '-')
        (*p)++;
    if (**p == '0')
        (*p)++;
    else if (**p >= '1' && **p <= '9')
        while (**p >= '0' && **p <= '9')
            (*p)++;
    else
        return false;
    if (**p == '.') {
        (*p)++;
        if (**p < '0' || **p > '9')
            return false;
        while (**p >= '0' && **p <= '9')
            (*p)++;
    }
    return *p > s;
}

static bool json_members(const char **p, char close, bool keyed)
{
    (*p)++;
    json_ws(p);
    if (**p == close) {
        (*p)++;
        return true;
    }
    for (;;) {
        json_ws(p);
        if (keyed) {
            if (!json_string(p))
                return false;
            json_ws(p);
            if (*(*p)++ != ':')
                return false;
        }
        if (!json_value(p))
            return false;
        json_ws(p);
        char c = *(*p)++;
        if (c == close)
            return true;
        if (c != ',')
            return false;
    }
}

static bool json_value(const char **p)
{
    json_ws(p);
    switch (**p) {
    case '{': return json_members(p, '}', true);
    case '[': return json_members(p, ']', false);
    case '"': return json_string(p);
    case 't': return strncmp(*p, "true", 4) == 0 && (*p += 4);
    case 'f': return strncmp(*p, "false", 5) == 0 && (*p += 5);
    case 'n': return strncmp(*p, "null", 4) == 0 && (*p += 4);
    default: return json_number(p);
    }
}

/* Every line is one JSON object, and the last is the summary. */
static void check_json(void)
{
    split_lines();
    CHECK(nlines > 0);
    for (int i = 0; i < nlines; i++) {
        const char *p = lines[i];
        bool ok = *p == '{' && json_value(&p);
        json_ws(&p);
        if (!ok || *p)
            sk_test_fail(__FILE__, __LINE__, "line %d is not one JSON object: %s", i + 1,
                         lines[i]);
    }
    CHECK(is(lines[nlines - 1], "event", "summary"));
    if (!is(lines[nlines - 1], "lost", "0")) /* said, not silent: but the checks need all */
        sk_test_fail(__FILE__, __LINE__, "the kernel dropped records: %s", lines[nlines - 1]);
}

/* ------------------------------------------------------------------ */
/* The target: USR1 handled, USR2 ignored, RTMIN+2 blocked, a thread     */
/* ------------------------------------------------------------------ */

/* Block every signal but `keep`: on a shared machine other tests' stray
 * signals (an RTMIN+4 killed a victim once) must not end our processes. */
static void block_all_but(int keep1, int keep2)
{
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, keep1);
    sigdelset(&all, keep2);
    sigprocmask(SIG_SETMASK, &all, NULL);
}

static int ack_w = -1; /* the handler acknowledges each USR1 here */

static void on_usr1(int sig)
{
    (void)sig;
    char c = 'a';
    ssize_t r = write(ack_w, &c, 1);
    (void)r;
}

static int ctl_r = -1; /* the target's control pipe, read end */

/* Until fd reaches EOF, waking every 10 ms: ThreadSanitizer runs a
 * handler late, when the thread next enters or leaves a call it
 * intercepts, so a thread must not sleep in one call for good. */
static void wait_for_eof(int fd)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char c;
        if (poll(&p, 1, 10) > 0 && read(fd, &c, 1) <= 0)
            return;
    }
}

static void *second_thread(void *arg)
{
    int fd = *(int *)arg;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    prctl(PR_SET_NAME, "skthread");
    CHECK(write(fd, &tid, sizeof tid) == sizeof tid);
    wait_for_eof(ctl_r);
    return NULL;
}

typedef struct target {
    pid_t pid, tid; /* the process and its second thread */
    int ack;        /* read end: one byte per USR1 handled */
    int ctl;        /* write end: close to end it */
} target;

static target target_start(void)
{
    int info[2], ack[2], ctl[2];
    CHECK(pipe2(info, O_CLOEXEC) == 0 && pipe2(ack, O_CLOEXEC) == 0 &&
          pipe2(ctl, O_CLOEXEC) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_NAME, "sktarget");
        close(ctl[1]); /* EOF on ctl[0] is the order to end */
        close(ack[0]);
        close(info[0]);
        ack_w = ack[1];
        ctl_r = ctl[0];
        struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
        sigaction(SIGUSR1, &sa, NULL);
        signal(SIGUSR2, SIG_IGN);
        block_all_but(SIGUSR1, SIGUSR2); /* RTMIN+2 among them; the thread inherits it */
        pthread_t th;
        static int fd;
        fd = info[1];
        if (pthread_create(&th, NULL, second_thread, &fd) != 0)
            _exit(3);
        wait_for_eof(ctl[0]);
        pthread_join(th, NULL); /* it sees the same EOF */
        _exit(0);
    }
    close(info[1]);
    close(ack[1]);
    close(ctl[0]);
    target t = {.pid = pid, .ack = ack[0], .ctl = ctl[1]};
    CHECK(read(info[0], &t.tid, sizeof t.tid) == sizeof t.tid);
    close(info[0]);
    return t;
}

static void target_end(target *t)
{
    close(t->ctl);
    close(t->ack);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(t->pid, 20)), 0);
}

/* One USR1 handled by the target (its handler's byte), within 20 s. */
static void wait_ack(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 20000) == 1);
    char c;
    CHECK(read(fd, &c, 1) == 1);
}

/* A sender: a child named `name` that runs fn(arg) and exits. */
typedef struct send_job {
    const char *name;
    void (*fn)(void *);
    void *arg;
} send_job;

static void sender_main(void *arg)
{
    send_job *j = arg;
    prctl(PR_SET_NAME, j->name);
    j->fn(j->arg);
}

static pid_t run_sender(const char *name, void (*fn)(void *), void *arg)
{
    send_job j = {name, fn, arg};
    pid_t pid = sk_test_fork(sender_main, &j);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(pid, 20)), 0);
    return pid;
}

static target tgt;

/* kill, sigqueue with a value, tgkill to the thread (each acknowledged),
 * then a signal the target ignores and one it blocks. */
static void send_all(void *arg)
{
    (void)arg;
    CHECK(kill(tgt.pid, SIGUSR1) == 0);
    wait_ack(tgt.ack);
    CHECK(sigqueue(tgt.pid, SIGUSR1, (union sigval){.sival_int = 42}) == 0);
    wait_ack(tgt.ack);
    CHECK(syscall(SYS_tgkill, tgt.pid, tgt.tid, SIGUSR1) == 0);
    wait_ack(tgt.ack);
    CHECK(kill(tgt.pid, SIGUSR2) == 0);
    CHECK(kill(tgt.pid, SIGRTMIN + 2) == 0);
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */
/* ------------------------------------------------------------------ */

TEST(known_senders)
{
    require_tracing();
    tgt = target_start();
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)tgt.pid);
    /* --signal: the kernel drops everyone else's signals before they
     * reach the ring, so a flood elsewhere on the machine cannot fill it */
    tracer tr = tracer_start(pid, "--json", "--signal", "USR1", "--signal", "USR2", "--signal",
                             "RTMIN+2");
    pid_t s = run_sender("sksender", send_all, NULL);
    tracer_stop(&tr);
    target_end(&tgt);
    check_json();

    const char *me = num(s), *tp = num(tgt.pid), *uid = num((long)getuid());
    int send1 = -1, del1 = -1;
    /* kill: process-directed, taken by the main thread's handler */
    CHECK_LINES(count_where(&send1, "event", "send", "signal", "SIGUSR1", "code", "SI_USER",
                         "sender_pid", me, "sender_comm", "sksender", "sender_uid", uid,
                         "target_pid", tp, "target_comm", "sktarget", "group", "true",
                         "result", "delivered", NULL),
             1);
    CHECK_LINES(count_where(&del1, "event", "deliver", "signal", "SIGUSR1", "code", "SI_USER",
                         "sender_pid", me, "sender_comm", "sksender", "target_pid", tp,
                         "fate", "handler", NULL),
             1);
    CHECK(del1 > send1); /* never a deliver before its send */
    /* sigqueue */
    CHECK_LINES(WHERE("event", "send", "signal", "SIGUSR1", "code", "SI_QUEUE", "sender_pid", me,
                   "target_pid", tp, "result", "delivered"),
             1);
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGUSR1", "code", "SI_QUEUE", "sender_pid", me,
                   "fate", "handler"),
             1);
    /* tgkill to the second thread: thread-directed, delivered in it */
    CHECK_LINES(WHERE("event", "send", "signal", "SIGUSR1", "code", "SI_TKILL", "sender_pid", me,
                   "target_pid", tp, "target_tid", num(tgt.tid), "target_comm", "skthread",
                   "group", "false", "result", "delivered"),
             1);
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGUSR1", "code", "SI_TKILL", "sender_pid", me,
                   "target_tid", num(tgt.tid), "fate", "handler"),
             1);
    /* ignored: no deliver */
    /* ignored: dropped at once, no deliver.  But a thread that has signals
     * blocked for a moment (ThreadSanitizer's runtime does) gets it queued
     * ("delivered"), and then a deliver says SIG_IGN: both are the truth. */
    int dropped = WHERE("event", "send", "signal", "SIGUSR2", "sender_pid", me, "result", "ignored");
    int queued = WHERE("event", "send", "signal", "SIGUSR2", "sender_pid", me, "result", "delivered");
    CHECK_LINES(dropped + queued, 1);
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGUSR2", "sa_handler", "0x1", "fate", "ignored"),
                queued);
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGUSR2"), queued);
    /* blocked: queued, never delivered, counted as such */
    const char *rt = sk_signame(SIGRTMIN + 2);
    CHECK_LINES(WHERE("event", "send", "signal", rt, "sender_pid", me, "result", "delivered"), 1);
    CHECK_LINES(WHERE("event", "deliver", "signal", rt), 0);
    CHECK(is(lines[nlines - 1], "undelivered", "1"));
    /* the PID filter: nothing else (the sender's SIGCHLD went to us) */
    CHECK_LINES(WHERE("event", "send"), 5);
    CHECK_LINES(WHERE("event", "deliver"), 3 + queued);
    CHECK_EQ(nlines, 9 + queued);
}

static void send_term(void *arg)
{
    CHECK(kill(*(pid_t *)arg, SIGTERM) == 0);
}

static void sleeper(void *arg)
{
    int fd = *(int *)arg;
    block_all_but(SIGTERM, SIGTERM);
    prctl(PR_SET_NAME, "skvictim");
    CHECK(write(fd, "n", 1) == 1); /* named: the test may send now */
    for (;;)
        pause();
}

/* A process named skvictim that leaves TERM at its default; returns once
 * it has its name. */
static pid_t start_victim(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t pid = sk_test_fork(sleeper, &p[1]);
    close(p[1]);
    char c;
    CHECK(read(p[0], &c, 1) == 1);
    close(p[0]);
    return pid;
}

/* The acceptance case: `sigkit send TERM PID` from another process, with
 * the sender's name and what the target did with it (default: killed). */
TEST(term_from_sigkit_send)
{
    require_tracing();
    pid_t victim = start_victim();
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)victim);
    tracer tr = tracer_start(pid, "--json", "--signal", "TERM");
    fflush(NULL);
    pid_t s = fork();
    CHECK(s >= 0);
    if (s == 0) {
        execl(SIGKIT, "sigkit", "send", "TERM", pid, (char *)NULL);
        _exit(126);
    }
    CHECK_EQ(sk_test_exit_code(sk_test_reap(s, 20)), 0);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(victim, 20)), 128 + SIGTERM);
    tracer_stop(&tr);
    check_json();
    const char *me = num(s), *vp = num(victim);
    CHECK_LINES(WHERE("event", "send", "signal", "SIGTERM", "sender_pid", me, "sender_comm", "sigkit",
                   "target_pid", vp, "target_comm", "skvictim", "result", "delivered"),
             1);
    /* delivered by the kernel as SIGKILL (research fact 4), shown as TERM */
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGTERM", "kernel_signo", "9", "sender_pid", me,
                   "sender_comm", "sigkit", "target_pid", vp, "fate", "killed"),
             1);
}

/* Human output: header, the line, and the one-line summary. */
TEST(human_output)
{
    require_tracing();
    pid_t victim = start_victim();
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)victim);
    tracer tr = tracer_start(pid, "--signal", "TERM");
    run_sender("skhuman", send_term, &victim);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(victim, 20)), 128 + SIGTERM);
    tracer_stop(&tr);
    split_lines();
    CHECK(nlines == 4);
    CHECK(strncmp(lines[0], "TIME", 4) == 0);
    CHECK(strstr(lines[1], " send ") && strstr(lines[1], "skhuman") && strstr(lines[1], "TERM") &&
          strstr(lines[1], "SI_USER") && strstr(lines[1], "delivered"));
    CHECK(strstr(lines[2], " deliver ") && strstr(lines[2], "skhuman") &&
          strstr(lines[2], "killed (default action)"));
    CHECK(strncmp(lines[3], "sigkit trace: 1 signal sent (TERM 1)", 36) == 0);
    CHECK(strstr(lines[3], "records read, 0 dropped by the kernel"));
}

/* -- CMD: the command's child is followed; it ends with CMD's status. */
TEST(cmd_follows_children)
{
    require_tracing();
    tracer tr = tracer_start("--json", "--signal", "USR1", "--", "sh", "-c",
                             "sleep 30 & kill -USR1 $!; wait $!; exit 3");
    tracer_wait(&tr);
    CHECK_EQ(status, 3);
    check_json();
    int send = -1;
    CHECK_LINES(count_where(&send, "event", "send", "signal", "SIGUSR1", "sender_comm", "sh",
                         "result", "delivered", NULL),
             1);
    const char *sh = get(lines[send], "sender_pid");
    char shpid[32];
    snprintf(shpid, sizeof shpid, "%s", sh);
    CHECK(!is(lines[send], "target_pid", shpid)); /* the grandchild, not CMD */
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGUSR1", "sender_pid", shpid, "fate", "killed"),
                1);
    /* --signal USR1: the SIGCHLDs are filtered out */
    CHECK_LINES(WHERE("signal", "SIGCHLD"), 0);
}

/* -- CMD without --signal: what the tree sends (its SIGCHLDs) is shown,
 * the rest of the machine is not. */
TEST(cmd_only_its_tree)
{
    require_tracing();
    pid_t victim = start_victim();
    tracer tr = tracer_start("--json", "--signal", "CHLD", "--signal", "TERM", "--", "sh", "-c",
                             "exit 0");
    run_sender("skoutside", send_term, &victim); /* not the tree's business */
    sk_test_reap(victim, 20);
    tracer_wait(&tr);
    CHECK_EQ(status, 0);
    check_json();
    CHECK_LINES(WHERE("sender_comm", "skoutside"), 0);
    for (int i = 0; i < nlines - 1; i++)
        CHECK(is(lines[i], "signal", "SIGCHLD")); /* sh's exit, to sigkit */
}

static void send_usr2_and_usr1(void *arg)
{
    (void)arg;
    CHECK(kill(tgt.pid, SIGUSR2) == 0);
    CHECK(kill(tgt.pid, SIGUSR1) == 0);
    wait_ack(tgt.ack);
}

/* --signal and --from keep only what they name. */
TEST(filters)
{
    require_tracing();
    tgt = target_start();
    char pid[16], from[16];
    snprintf(pid, sizeof pid, "%d", (int)tgt.pid);
    /* the first sender's pid is not known before it runs: fork it held */
    int go[2];
    CHECK(pipe(go) == 0);
    fflush(NULL);
    pid_t a = fork();
    CHECK(a >= 0);
    if (a == 0) {
        prctl(PR_SET_NAME, "sk-a");
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 1)
            _exit(2);
        send_usr2_and_usr1(NULL);
        _exit(0);
    }
    close(go[0]);
    snprintf(from, sizeof from, "%d", (int)a);
    tracer tr = tracer_start(pid, "--json", "--signal", "USR1", "--signal", "TERM", "--from", from);
    pid_t b = run_sender("sk-b", send_usr2_and_usr1, NULL); /* excluded by --from */
    CHECK(write(go[1], "g", 1) == 1);
    close(go[1]);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(a, 20)), 0);
    tracer_stop(&tr);
    target_end(&tgt);
    check_json();
    CHECK_LINES(WHERE("sender_pid", num(b)), 0);
    CHECK_LINES(WHERE("signal", "SIGUSR2"), 0);
    CHECK_LINES(WHERE("event", "send", "signal", "SIGUSR1", "sender_pid", from), 1);
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGUSR1", "sender_pid", from), 1);
    CHECK_EQ(nlines, 3);
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void alarm_target(void *arg)
{
    int fd = *(int *)arg;
    signal(SIGALRM, on_alarm);
    sigset_t old;
    block_all_but(SIGALRM, SIGALRM);
    sigprocmask(SIG_BLOCK, NULL, &old); /* all but ALRM: what sigsuspend waits with */
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    char c;
    CHECK(read(fd, &c, 1) == 1); /* the tracer is ready */
    struct itimerval it = {.it_value = {.tv_usec = 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    sigsuspend(&old); /* sleeping: the timer fires in an interrupt */
}

/* A signal the kernel raises in an interrupt (the timer of setitimer):
 * shown with the interrupt as its origin, not the task that ran.  When the
 * interrupt hits an idle CPU, perf's per-CPU ring does not get the send
 * (docs/trace.md, "Limits": measured here on a quiet machine); the
 * deliver line still shows the signal, its kernel code and its fate. */
TEST(kernel_timer_signal)
{
    require_tracing();
    int go[2];
    CHECK(pipe(go) == 0);
    pid_t t = sk_test_fork(alarm_target, &go[0]);
    close(go[0]);
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)t);
    tracer tr = tracer_start(pid, "--json", "--signal", "ALRM");
    CHECK(write(go[1], "g", 1) == 1);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(t, 20)), 0);
    close(go[1]);
    tracer_stop(&tr);
    check_json();
    int sends = WHERE("event", "send", "signal", "SIGALRM", "code", "SI_KERNEL", "interrupt", "true",
                      "sender_pid", "null", "sender_comm", "<interrupt>", "target_pid", pid);
    if (sends == 0)
        printf("the send was raised on an idle CPU: not in perf's ring (a known limit)\n");
    CHECK(sends <= 1);
    CHECK_EQ(WHERE("event", "send", "signal", "SIGALRM"), sends); /* never a wrong origin */
    CHECK_LINES(WHERE("event", "deliver", "signal", "SIGALRM", "code", "SI_KERNEL", "fate", "handler",
                      "target_pid", pid),
                1);
}

/* --duration ends it by itself, with the summary. */
TEST(duration)
{
    require_tracing();
    double t0 = sk_test_now();
    tracer tr = tracer_start("--duration", "0.3", "--json", "--signal", "RTMAX");
    tracer_wait(&tr);
    CHECK_EQ(status, 0);
    CHECK(sk_test_now() - t0 >= 0.3);
    check_json();
    CHECK(is(lines[nlines - 1], "event", "summary"));
}

static void unprivileged(void *arg)
{
    (void)arg;
    /* as root, setuid() to another user drops every capability */
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
        _exit(3);
    execl(SIGKIT, "sigkit", "trace", "--duration", "1", (char *)NULL);
    _exit(126);
}

/* Without the privilege: one line naming it, exit 1. */
TEST(privilege_error)
{
#ifdef SK_PORTABLE
    SK_SKIP("this build has no tracing (portable build: no perf_event_open)");
#endif
    if (geteuid() != 0)
        SK_SKIP("needs root, to drop it in a child");
    FILE *e = tmpfile();
    CHECK(e);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fileno(e), 2);
        unprivileged(NULL);
    }
    status = sk_test_exit_code(sk_test_reap(pid, 20));
    sk_test_slurp(e, err, sizeof err);
    CHECK_EQ(status, 1);
    if (!strstr(err, "needs root") || !strstr(err, "CAP_PERFMON"))
        sk_test_fail(__FILE__, __LINE__, "message: %s", err);
    CHECK(strncmp(err, "sigkit: trace: ", 15) == 0);
    CHECK(strchr(err, '\n') == err + strlen(err) - 1); /* one line */
}

/* Bad words: exit 2, naming the word; nothing traced. */
TEST(bad_args)
{
    static const char *const cases[][4] = {
        {"--signal", "NOPE", NULL}, {"--signal", NULL},      {"--from", "x", NULL},
        {"--from", "1", "--from"},  {"0", NULL},             {"-5", NULL},
        {"--duration", "-1", NULL}, {"--duration", "1e3", NULL}, {"--json=1", NULL},
        {"--", NULL},               {"--bogus", NULL},       {"12x", NULL},
    };
    static const char *const words[] = {"NOPE", "--signal", "'x'", "--from", "'0'", "-5",
                                        "-1",   "1e3",      "--json", "--", "--bogus", "12x"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char *argv[6] = {(char *)"trace"};
        int n = 1;
        for (int i = 0; i < 4 && cases[k][i]; i++)
            argv[n++] = (char *)cases[k][i];
        argv[n] = NULL;
        FILE *e = tmpfile(), *o = tmpfile();
        CHECK(e && o);
        fflush(NULL);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            dup2(fileno(o), 1);
            dup2(fileno(e), 2);
            char *full[8] = {(char *)"sigkit"};
            for (int i = 0; i <= n; i++)
                full[i + 1] = argv[i];
            execv(SIGKIT, full);
            _exit(126);
        }
        status = sk_test_exit_code(sk_test_reap(pid, 20));
        sk_test_slurp(e, err, sizeof err);
        sk_test_slurp(o, out, sizeof out);
        if (status != 2 || !strstr(err, words[k]) || out[0])
            sk_test_fail(__FILE__, __LINE__, "case %zu: exit %d, stderr: %s", k, status, err);
    }
}

TEST(help)
{
    tracer t = {.out = tmpfile(), .err = tmpfile()};
    CHECK(t.out && t.err);
    fflush(NULL);
    t.pid = fork();
    CHECK(t.pid >= 0);
    if (t.pid == 0) {
        dup2(fileno(t.out), 1);
        dup2(fileno(t.err), 2);
        execl(SIGKIT, "sigkit", "trace", "--help", (char *)NULL);
        _exit(126);
    }
    tracer_wait(&t);
    CHECK_EQ(status, 0);
    CHECK(strncmp(out, "usage: sigkit trace", 19) == 0);
}

/* A PID that does not exist: exit 1 with the errno text, before tracing. */
TEST(no_such_pid)
{
    tracer t = tracer_startv((char *const[]){(char *)"2147483647", NULL}, false);
    tracer_wait(&t);
    CHECK_EQ(status, 1);
    if (!strstr(err, "trace: 2147483647: No such process"))
        sk_test_fail(__FILE__, __LINE__, "stderr: %s", err);
}
