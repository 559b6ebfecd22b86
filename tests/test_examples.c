/*
 * The seed programs of examples/ run as child processes: stdout and stderr
 * on pipes, driven with signals once they have printed their pid, and their
 * lines (content and order; pids and times aside) and exit status checked.
 * Timing checks measure when each line arrives; deadlines only bound failures.
 */
/* SK_TEST_LABEL_NOCORE */
#include "harness.h"

#include <sigkit.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_TIMEOUT 10.0 /* seconds a line may take before the test fails */

typedef struct {
    int pid;
    int out, err;        /* read ends of the child's stdout and stderr */
    char buf[16384];     /* stdout bytes not yet handed out as lines */
    size_t len;
    int eof;
    double at;           /* sk_test_now() when the last line was complete */
    char last[256];      /* the last line handed out, for failure messages */
} child;

/* Run SK_BUILD_DIR/examples/NAME; ignore_int: start it with SIGINT ignored
 * (as a background job of a shell script does). */
static void spawn(child *c, const char *name, int ignore_int)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/%s", SK_BUILD_DIR, name);
    if (access(path, X_OK) != 0)
        sk_test_fail(__FILE__, __LINE__, "%s: not built (SK_BUILD_EXAMPLES off?)", path);

    int o[2], e[2];
    CHECK(pipe(o) == 0 && pipe(e) == 0);
    fflush(NULL);
    int pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(o[1], 1);
        dup2(e[1], 2);
        close(o[0]), close(o[1]), close(e[0]), close(e[1]);
        if (ignore_int)
            signal(SIGINT, SIG_IGN);
        execl(path, name, (char *)NULL);
        _exit(127);
    }
    close(o[1]);
    close(e[1]);
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->out = o[0];
    c->err = e[0];
}

/* The next stdout line (without '\n') into line; 0 at end of output.
 * Fails the test if no line comes within LINE_TIMEOUT. */
static int read_line(child *c, char *line, size_t size)
{
    double deadline = sk_test_now() + LINE_TIMEOUT;
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            CHECK(n < size);
            memcpy(line, c->buf, n);
            line[n] = '\0';
            snprintf(c->last, sizeof c->last, "%s", line);
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return 1;
        }
        if (c->eof) {
            CHECK_EQ(c->len, 0); /* no unterminated last line */
            return 0;
        }
        double left = deadline - sk_test_now();
        if (left <= 0) {
            kill(c->pid, SIGKILL);
            sk_test_fail(__FILE__, __LINE__, "no line from the example in %.0f s (last: \"%s\")",
                         LINE_TIMEOUT, c->last);
        }
        struct pollfd p = {.fd = c->out, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        CHECK(r >= 0);
        if (r == 0)
            continue;
        CHECK(c->len < sizeof c->buf);
        ssize_t n = read(c->out, c->buf + c->len, sizeof c->buf - c->len);
        if (n < 0 && errno == EINTR)
            continue;
        CHECK(n >= 0);
        if (n == 0)
            c->eof = 1;
        c->len += (size_t)n;
        c->at = sk_test_now();
    }
}

/* The next line, which must exist. */
static const char *next_line(child *c)
{
    static char line[1024];
    if (!read_line(c, line, sizeof line))
        sk_test_fail(__FILE__, __LINE__, "the example's output ended early");
    return line;
}

/* Expect the end of stdout and exit(code); returns everything the child
 * wrote to stderr. */
static const char *finish(child *c, int code)
{
    char line[1024];
    if (read_line(c, line, sizeof line))
        sk_test_fail(__FILE__, __LINE__, "unexpected line: \"%s\"", line);
    int st = sk_test_reap(c->pid, LINE_TIMEOUT);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != code)
        sk_test_fail(__FILE__, __LINE__, "%s %d, expected exit status %d",
                     WIFSIGNALED(st) ? "killed by signal" : "exit status",
                     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), code);
    static char err[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof err - 1 && (n = read(c->err, err + len, sizeof err - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(c->out);
    close(c->err);
    return err;
}

/* A 24-character time.ctime() string, "Wed Sep 26 11:07:15 2018", to seconds. */
static time_t parse_ctime(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a %b %d %H:%M:%S %Y", &tm);
    if (!end || end != s + 24)
        sk_test_fail(__FILE__, __LINE__, "not a ctime: \"%s\"", s);
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static void send_sig(child *c, int signo)
{
    CHECK_EQ(kill(c->pid, signo), 0);
}

/* ------------------------------------------------------------------ */

/* recv_signal: a "waiting..." line every 3 s, and between them exactly one
 * line per signal.  A "waiting..." sooner than 3 s after the previous one
 * means a handler cut sk_sleep short (PEP 475 says it resumes). */
static double last_waiting;

static void expect_recv(child *c, const char *want)
{
    double deadline = sk_test_now() + LINE_TIMEOUT;
    for (;;) {
        if (sk_test_now() > deadline) {
            kill(c->pid, SIGKILL);
            sk_test_fail(__FILE__, __LINE__, "no \"%s\" in %.0f s", want, LINE_TIMEOUT);
        }
        const char *line = next_line(c);
        if (strcmp(line, "waiting...") == 0) {
            if (c->at - last_waiting < 2.8)
                sk_test_fail(__FILE__, __LINE__, "'waiting...' after %.2f s: sleep cut short",
                             c->at - last_waiting);
            last_waiting = c->at;
            if (strcmp(want, "waiting...") == 0)
                return;
            continue;
        }
        CHECK_STR(line, want);
        return;
    }
}

TEST(recv_signal)
{
    child c;
    char want[64];
    spawn(&c, "recv_signal", 0);
    snprintf(want, sizeof want, "My pid is %d", c.pid);
    CHECK_STR(next_line(&c), want);
    CHECK_STR(next_line(&c), "waiting...");
    last_waiting = c.at;

    /* One signal at a time: two HUPs in flight at once may merge. */
    send_sig(&c, SIGHUP);
    expect_recv(&c, "get signal: 1");
    send_sig(&c, SIGHUP);
    expect_recv(&c, "get signal: 1");
    send_sig(&c, SIGUSR1);
    snprintf(want, sizeof want, "Received: %d", SIGUSR1);
    expect_recv(&c, want);
    send_sig(&c, SIGUSR2);
    snprintf(want, sizeof want, "Received: %d", SIGUSR2);
    expect_recv(&c, want);
    double first = last_waiting;
    expect_recv(&c, "waiting..."); /* the sleep resumed and ended on time */
    CHECK(last_waiting - first < 3.8);

    send_sig(&c, SIGINT);
    snprintf(want, sizeof want, "get signal: %d, I will quit", SIGINT);
    expect_recv(&c, want);
    CHECK_STR(finish(&c, 0), "");
}

/* ------------------------------------------------------------------ */

/* Run getsignal; rows[signo] gets the handler column of each row.  Checks
 * the header, the row format, ascending numbers and one row per valid
 * signal; returns the number of rows. */
static int run_getsignal(int ignore_int, char rows[NSIG][80])
{
    child c;
    spawn(&c, "getsignal", ignore_int);
    CHECK_STR(next_line(&c), "SIG_IGN 1");
    CHECK_STR(next_line(&c), "SIG_DFL 0");
    CHECK_STR(next_line(&c), "****************************************");

    memset(rows, 0, NSIG * sizeof rows[0]);
    char line[1024];
    int last = 0, nrows = 0;
    while (read_line(&c, line, sizeof line)) {
        char name[32];
        int signo, off = 0;
        if (sscanf(line, "%31s (%d) : %n", name, &signo, &off) != 2 || off == 0)
            sk_test_fail(__FILE__, __LINE__, "not a table row: \"%s\"", line);
        CHECK(signo > last && signo < NSIG);
        last = signo;
        CHECK_STR(name, sk_signame(signo));
        /* seed 002's layout: f"{name:<10} ({s:2d}) :" */
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%-10s (%2d) : ", name, signo);
        CHECK(strncmp(line, prefix, strlen(prefix)) == 0);
        CHECK(strlen(line + off) < 80);
        strcpy(rows[signo], line + off);
        nrows++;
    }
    CHECK_STR(finish(&c, 0), "");

    sigset_t valid;
    CHECK_EQ(sk_valid_signals(&valid), 0);
    int nvalid = 0;
    for (int s = 1; s < NSIG; s++) {
        if (sigismember(&valid, s) == 1) {
            nvalid++;
            if (!rows[s][0])
                sk_test_fail(__FILE__, __LINE__, "no row for signal %d", s);
        }
    }
    CHECK_EQ(nrows, nvalid);
#ifdef SIGRTMIN
    /* Not a table of made-up numbers: the C-library-reserved ones between
     * the standard and the real-time signals (32, 33 on glibc) have no row. */
    for (int s = SIGSYS + 1; s < SIGRTMIN; s++)
        CHECK(rows[s][0] == '\0');
    CHECK(rows[SIGRTMIN][0] && rows[SIGRTMAX][0]);
#endif
    return nrows;
}

/* A sanitizer's runtime installs its own handlers for the fault signals
 * (SEGV, BUS, FPE, ...): the example rightly shows None for them there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static int default_row(const char *row, int signo)
{
    int fault = signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
                signo == SIGTRAP || signo == SIGSYS || signo == SIGABRT;
    return strcmp(row, "SIG_DFL") == 0 || (SANITIZED && fault && strcmp(row, "None") == 0);
}

TEST(getsignal)
{
    static char rows[NSIG][80];
    int nrows = run_getsignal(0, rows);
    CHECK(strncmp(rows[SIGHUP], "<function handle_hup at 0x", 26) == 0);
    CHECK(strncmp(rows[SIGALRM], "<function alarm_received at 0x", 30) == 0);
    CHECK_STR(rows[SIGINT], "<built-in function default_int_handler>");
    CHECK_STR(rows[SIGKILL], "None");
    CHECK_STR(rows[SIGSTOP], "None");
    CHECK_STR(rows[SIGPIPE], "SIG_IGN");
    CHECK_STR(rows[SIGXFSZ], "SIG_IGN");
    CHECK_STR(rows[SIGUSR1], "SIG_DFL");
    CHECK_STR(rows[SIGTERM], "SIG_DFL"); /* sk_graceful's TERM was given back */
    CHECK(default_row(rows[SIGSEGV], SIGSEGV));
    int dfl = 0;
    for (int s = 1; s < NSIG; s++)
        dfl += rows[s][0] && default_row(rows[s], s);
    CHECK_EQ(dfl, nrows - 7); /* all but HUP ALRM INT KILL STOP PIPE XFSZ */
}

/* Like Python, which leaves an inherited SIG_IGN of SIGINT alone. */
TEST(getsignal_int_ignored)
{
    static char rows[NSIG][80];
    run_getsignal(1, rows);
    CHECK_STR(rows[SIGINT], "SIG_IGN");
    CHECK_STR(rows[SIGTERM], "SIG_DFL");
    CHECK(strncmp(rows[SIGHUP], "<function handle_hup at 0x", 26) == 0);
}

/* ------------------------------------------------------------------ */

TEST(alarm)
{
    child c;
    char want[16];
    spawn(&c, "alarm", 0);
    const char *l = next_line(&c);
    CHECK(strncmp(l, "Before: ", 8) == 0);
    time_t before = parse_ctime(l + 8);
    double t_before = c.at;

    snprintf(want, sizeof want, "%d", SIGALRM);
    CHECK_STR(next_line(&c), want);
    double t_signo = c.at;
    CHECK(t_signo - t_before > 1.5 && t_signo - t_before < 3.5); /* alarm(2) */

    l = next_line(&c);
    CHECK(strncmp(l, "Alarm : ", 8) == 0);
    time_t alarm = parse_ctime(l + 8);
    CHECK(c.at - t_signo > 0.9); /* the handler slept 1 s */
    CHECK(alarm - before >= 2 && alarm - before <= 4);

    l = next_line(&c);
    CHECK(strncmp(l, "After: ", 7) == 0);
    time_t after = parse_ctime(l + 7);
    /* 6 s after Before: the sleep resumed for the time left, it neither
     * restarted after the handler (9 s) nor ended with it (3 s). */
    CHECK(c.at - t_before > 5.9 && c.at - t_before < 7.0);
    CHECK(after - before >= 6 && after - before <= 7);
    CHECK_STR(finish(&c, 0), "");
}

/* ------------------------------------------------------------------ */

TEST(ignore)
{
    child c;
    char want[64];
    spawn(&c, "ignore", 0);
    snprintf(want, sizeof want, "My PID: %d", c.pid);
    CHECK_STR(next_line(&c), want);

    sk_procsig ps;
    if (sk_proc_signals(c.pid, 0, &ps) == 0) { /* where /proc is readable */
        CHECK(sigismember(&ps.ignored, SIGINT) == 1);
        CHECK(sigismember(&ps.caught, SIGUSR1) == 1);
    }

    /* INT first: were it not ignored, the child would die by it. */
    send_sig(&c, SIGINT);
    send_sig(&c, SIGUSR1);
    CHECK_STR(finish(&c, 1), "Exiting\n");
}

/* ------------------------------------------------------------------ */

TEST(threads)
{
    /* ThreadSanitizer runs a signal's handler late, when the thread that
     * caught it next enters the runtime; a thread parked in
     * pthread_cond_wait or nanosleep may hold the arrival until then. */
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer holds signals caught by parked threads");
    child c;
    char want[64];
    spawn(&c, "threads", 0);
    CHECK_STR(next_line(&c), "Wait for signal in receiver");
    CHECK_STR(next_line(&c), "Sending signal in sender");
    snprintf(want, sizeof want, "Receive signal %d in MainThread", SIGUSR1);
    CHECK_STR(next_line(&c), want);
    CHECK_STR(next_line(&c), "Waiting for receiver");
    double t_wait = c.at;
    snprintf(want, sizeof want, "%d", SIGALRM);
    CHECK_STR(next_line(&c), want);
    CHECK(c.at - t_wait > 1.0 && c.at - t_wait < 3.5); /* alarm(2) */
    const char *l = next_line(&c);
    CHECK(strncmp(l, "Alarm : ", 8) == 0);
    parse_ctime(l + 8);
    l = next_line(&c);
    CHECK(strncmp(l, "Releasing receiver from the alarm handler", 41) == 0);
    CHECK_STR(next_line(&c), "Done waiting");
    CHECK_STR(finish(&c, 0), "");
}

/* ------------------------------------------------------------------ */

/* "<ctime> TEXT": checks the time and returns TEXT. */
static const char *after_ctime(const char *line)
{
    CHECK(strlen(line) > 25 && line[24] == ' ');
    char t[25];
    memcpy(t, line, 24);
    t[24] = '\0';
    parse_ctime(t);
    return line + 25;
}

TEST(alarm_thread)
{
    /* ThreadSanitizer runs a signal's handler late, when the thread that
     * caught it next enters the runtime; a thread parked in
     * pthread_cond_wait or nanosleep may hold the arrival until then. */
    if (SK_UNDER_TSAN)
        SK_SKIP("ThreadSanitizer holds signals caught by parked threads");
    child c;
    spawn(&c, "alarm_thread", 0);
    CHECK_STR(after_ctime(next_line(&c)), "Setting alarm in alarm_thread");
    CHECK_STR(after_ctime(next_line(&c)), "Sleep in alarm_thread");
    double t_sleep = c.at;
    CHECK_STR(after_ctime(next_line(&c)), "Wait for alarm_thread");
    CHECK_STR(after_ctime(next_line(&c)), "Alarm in MainThread");
    CHECK(c.at - t_sleep > 0.5 && c.at - t_sleep < 2.5); /* alarm(1) */
    CHECK_STR(after_ctime(next_line(&c)), "Done with sleep alarm_thread");
    CHECK(c.at - t_sleep > 2.9 && c.at - t_sleep < 4.0); /* sleep(3), not cut short */
    CHECK_STR(after_ctime(next_line(&c)), "Exiting normally");
    CHECK_STR(finish(&c, 0), "");
}
