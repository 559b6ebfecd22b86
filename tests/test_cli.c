/*
 * test_cli.c - black-box tests of the sigkit command (cli/).
 *
 * Each case runs the built binary as a user would and checks its exit
 * status, its stdout and stderr, and what actually reached the target.
 * Targets block every signal, so whatever is sent to them stays visible in
 * /proc as pending: "signals nothing" is checked, not assumed.  Processes
 * synchronise through pipes (a "ready" line), never through sleeps.
 *
 * Not a core case: the binary is a separate program, and valgrind would
 * only watch this harness.
 */
/* SK_TEST_LABEL_NOCORE */
#include "harness.h"

#include <sigkit.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIGKIT SK_BUILD_DIR "/cli/sigkit"
#define MAX_ARGS 32

typedef struct result {
    int status; /* exit status, or 128+N when killed by signal N */
    char out[64 * 1024];
    char err[8 * 1024];
} result;

static result res; /* one command at a time; big buffers stay off the stack */

/* ------------------------------------------------------------------ */
/* Running sigkit                                                      */
/* ------------------------------------------------------------------ */

/* Start sigkit with argv (NULL-terminated, without argv[0]); its stdout
 * and stderr go to out_fd / err_fd, and extra_fd (if >= 0) becomes fd 3. */
static pid_t spawn(char *const *args, int out_fd, int err_fd, int extra_fd)
{
    char *argv[MAX_ARGS + 2] = {(char *)"sigkit"};
    for (int i = 0; args[i]; i++) {
        CHECK(i < MAX_ARGS);
        argv[i + 1] = args[i];
    }
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (extra_fd >= 0 && extra_fd != 3) {
            dup2(extra_fd, 3);
            close(extra_fd);
        }
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(SIGKIT, argv);
        _exit(126);
    }
    return pid;
}

/* Run sigkit to its end; fills res.  args NULL-terminated. */
static int runv(char *const *args)
{
    FILE *out = tmpfile(), *err = tmpfile();
    CHECK(out && err);
    pid_t pid = spawn(args, fileno(out), fileno(err), -1);
    res.status = sk_test_exit_code(sk_test_reap(pid, 30));
    sk_test_slurp(out, res.out, sizeof res.out);
    sk_test_slurp(err, res.err, sizeof res.err);
    return res.status;
}

static int run(const char *first, ...)
{
    char *args[MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        CHECK(n < MAX_ARGS);
        args[n++] = (char *)a;
    }
    va_end(ap);
    args[n] = NULL;
    return runv(args);
}

static void check_contains(const char *text, const char *needle, const char *what)
{
    if (!strstr(text, needle))
        sk_test_fail(__FILE__, __LINE__, "%s lacks \"%s\":\n%s", what, needle, text);
}
#define CHECK_OUT(needle) check_contains(res.out, needle, "stdout")
#define CHECK_ERR(needle) check_contains(res.err, needle, "stderr")

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static int count_valid_signals(void)
{
    int n = 0;
    for (int s = 1; s < NSIG; s++)
        n += sk_signame(s) != NULL;
    return n;
}

/* Read one line from fd into buf, failing the test after 20 s. */
static void read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    double end = sk_test_now() + 20;
    while (n + 1 < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int left = (int)((end - sk_test_now()) * 1000);
        CHECK(left > 0);
        if (poll(&p, 1, left) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, 1);
        CHECK(r == 1);
        if (buf[n++] == '\n')
            break;
    }
    buf[n] = '\0';
}

static char *fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));
static char *fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */
/* ------------------------------------------------------------------ */

/* A process that blocks every signal it can, says so, and lives until its
 * control pipe closes.  Whatever reaches it stays pending in /proc. */
typedef struct target {
    pid_t pid;
    int ctl; /* write end: close to end the target */
} target;

static target target_start(bool own_group)
{
    int ready[2], ctl[2];
    /* close-on-exec: the sigkit processes must not hold the control pipe */
    CHECK(pipe2(ready, O_CLOEXEC) == 0 && pipe2(ctl, O_CLOEXEC) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        if (own_group)
            setpgid(0, 0);
        close(ready[0]);
        close(ctl[1]);
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        char c;
        while (read(ctl[0], &c, 1) > 0)
            ;
        _exit(0);
    }
    close(ready[1]);
    close(ctl[0]);
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    return (target){pid, ctl[1]};
}

static void target_end(target t)
{
    close(t.ctl);
    int st = sk_test_reap(t.pid, 30);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Signals pending at the target (thread or process-wide). */
static sigset_t target_pending(pid_t pid)
{
    sk_procsig ps;
    CHECK_EQ(sk_proc_signals(pid, 0, &ps), 0);
    sigset_t all;
    sigemptyset(&all);
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&ps.pending, s) == 1 || sigismember(&ps.shared_pending, s) == 1)
            sigaddset(&all, s);
    return all;
}

static void check_nothing_pending(pid_t pid)
{
    sigset_t p = target_pending(pid);
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&p, s) == 1)
            sk_test_fail(__FILE__, __LINE__, "%s reached the target", sk_signame(s));
}

/* ------------------------------------------------------------------ */
/* Conventions                                                         */
/* ------------------------------------------------------------------ */

TEST(help)
{
    CHECK_EQ(run("--help", NULL), 0);
    CHECK_OUT("usage: sigkit");
    CHECK_OUT("sigkit send SIGNAL PID...");
    CHECK_STR(res.err, "");
    CHECK_EQ(run("-h", NULL), 0);
    CHECK_OUT("usage: sigkit");
    const char *subs[] = {"list", "names", "send", "wait"};
    for (int i = 0; i < 4; i++) {
        char want[64];
        CHECK_EQ(run(subs[i], "--help", NULL), 0);
        CHECK_OUT(fmt(want, sizeof want, "usage: sigkit %s", subs[i]));
        CHECK_STR(res.err, "");
    }
}

TEST(version)
{
    CHECK_EQ(run("--version", NULL), 0);
    CHECK_STR(res.out, "sigkit " SIGKIT_VERSION "\n");
    CHECK_STR(res.err, "");
}

TEST(usage_errors)
{
    CHECK_EQ(run(NULL), 2);
    CHECK_ERR("missing command");
    CHECK_STR(res.out, "");
    CHECK_EQ(run("frob", NULL), 2);
    CHECK_ERR("'frob'");
    CHECK_EQ(run("names", "--bogus", NULL), 2);
    CHECK_ERR("'--bogus'");
    CHECK_EQ(run("names", "extra", NULL), 2);
    CHECK_ERR("'extra'");
    CHECK_EQ(run("names", "--json=yes", NULL), 2);
    CHECK_ERR("'--json=yes'");
    CHECK_EQ(count_lines(res.err), 1); /* one clear line */
    CHECK_EQ(run("send", "a\nb", "1", NULL), 2); /* found by fuzz_args: still one line */
    CHECK_ERR("'a?b'");
    CHECK_EQ(count_lines(res.err), 1);
}

/* A full stdout is a runtime failure, not a silent success. */
TEST(stdout_full)
{
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        SK_SKIP("no /dev/full");
    FILE *err = tmpfile();
    char *args[] = {(char *)"names", NULL};
    pid_t pid = spawn(args, fd, fileno(err), -1);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(pid, 30)), 1);
    sk_test_slurp(err, res.err, sizeof res.err);
    CHECK_ERR("write error");
    close(fd);
}

/* ------------------------------------------------------------------ */
/* names                                                               */
/* ------------------------------------------------------------------ */

TEST(names_table)
{
    CHECK_EQ(run("names", NULL), 0);
    CHECK_EQ(count_lines(res.out), 1 + count_valid_signals());
    for (int s = 1; s < NSIG; s++) {
        if (!sk_signame(s))
            continue;
        char want[128];
        fmt(want, sizeof want, "%3d  %s ", s, sk_signame(s));
        CHECK_OUT(want);
        CHECK_OUT(sk_strsignal(s));
    }
    CHECK_OUT("SIGKILL ");
    CHECK_OUT("SIGRTMAX ");
}

/* python3 -c "...": validate JSON from stdin with the stdlib parser. */
static void check_json(const char *json, const char *python_check)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        SK_SKIP("python3 missing (scripts/install-deps.sh)");
    int in[2];
    CHECK(pipe(in) == 0);
    FILE *out = tmpfile(), *err = tmpfile();
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(in[0], 0);
        close(in[1]);
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        execl("/usr/bin/python3", "python3", "-c", python_check, (char *)NULL);
        _exit(126);
    }
    close(in[0]);
    size_t len = strlen(json);
    CHECK(write(in[1], json, len) == (ssize_t)len);
    close(in[1]);
    int st = sk_test_reap(pid, 30);
    char o[256], e[2048];
    sk_test_slurp(out, o, sizeof o);
    sk_test_slurp(err, e, sizeof e);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        sk_test_fail(__FILE__, __LINE__, "JSON check failed: %s%s", o, e);
}

TEST(names_json)
{
    CHECK_EQ(run("names", "--json", NULL), 0);
    char py[512];
    fmt(py, sizeof py,
        "import json,sys; d=json.load(sys.stdin); s=d['signals']; assert len(s)==%d, len(s); "
        "k=[x for x in s if x['name']=='SIGKILL'][0]; assert k['number']==%d and not k['catchable']; "
        "assert all(set(x)=={'number','name','default_action','catchable','description'} for x in s)",
        count_valid_signals(), SIGKILL);
    check_json(res.out, py);
}

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

/* One parsed row of `sigkit list`. */
typedef struct list_row {
    char disposition[16], blocked[8], pending[16];
} list_row;

/* Parse the table in res.out into rows[signo]; returns how many rows. */
static int parse_list(list_row rows[NSIG])
{
    int n = 0;
    memset(rows, 0, sizeof(list_row) * NSIG);
    for (char *line = res.out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int signo;
        char name[64];
        list_row r;
        if (sscanf(line, "%d %63s %15s %7s %15s", &signo, name, r.disposition, r.blocked,
                   r.pending) != 5)
            continue;
        CHECK(signo > 0 && signo < NSIG);
        CHECK_STR(name, sk_signame(signo));
        rows[signo] = r;
        n++;
    }
    return n;
}

/* The raw masks, from /proc (read here, not through libsigkit's parser)
 * and from procps. */
typedef struct masks {
    unsigned long long caught, ignored, blocked, pending, shared;
} masks;

static unsigned long long status_field(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    CHECK(p);
    return strtoull(p + strlen(key), NULL, 16);
}

static masks proc_masks(pid_t pid)
{
    char path[64], buf[8192];
    FILE *f = fopen(fmt(path, sizeof path, "/proc/%d/status", (int)pid), "r");
    CHECK(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return (masks){status_field(buf, "\nSigCgt:"), status_field(buf, "\nSigIgn:"),
                   status_field(buf, "\nSigBlk:"), status_field(buf, "\nSigPnd:"),
                   status_field(buf, "\nShdPnd:")};
}

static masks ps_masks(pid_t pid)
{
    if (access("/usr/bin/ps", X_OK) != 0 && access("/bin/ps", X_OK) != 0)
        SK_SKIP("procps ps missing (scripts/install-deps.sh)");
    char cmd[128];
    fmt(cmd, sizeof cmd, "ps -o caught=,ignored=,blocked=,pending= -p %d", (int)pid);
    FILE *p = popen(cmd, "r");
    CHECK(p);
    char line[256] = "";
    CHECK(fgets(line, sizeof line, p) != NULL);
    CHECK_EQ(pclose(p), 0);
    masks m = {0};
    char *s = line, *e;
    m.caught = strtoull(s, &e, 16);
    CHECK(e != s);
    m.ignored = strtoull(s = e, &e, 16);
    CHECK(e != s);
    m.blocked = strtoull(s = e, &e, 16);
    CHECK(e != s);
    m.shared = strtoull(s = e, &e, 16); /* procps' PENDING is the process-wide set */
    CHECK(e != s);
    return m;
}

static bool bit(unsigned long long mask, int signo)
{
    return (mask >> (signo - 1)) & 1;
}

/* Every row against both sources. */
static void check_list_agrees(pid_t pid, const list_row rows[NSIG])
{
    masks pr = proc_masks(pid), ps = ps_masks(pid);
    CHECK_EQ(pr.caught, ps.caught);
    CHECK_EQ(pr.ignored, ps.ignored);
    CHECK_EQ(pr.blocked, ps.blocked);
    CHECK_EQ(pr.shared, ps.shared);
    for (int s = 1; s < NSIG && s <= 64; s++) {
        if (!sk_signame(s))
            continue;
        const list_row *r = &rows[s];
        const char *disp = bit(ps.caught, s) ? "caught" : bit(ps.ignored, s) ? "ignored" : "default";
        if (strcmp(r->disposition, disp) != 0)
            sk_test_fail(__FILE__, __LINE__, "%s: list says %s, ps %s", sk_signame(s),
                         r->disposition, disp);
        CHECK_STR(r->blocked, bit(ps.blocked, s) ? "yes" : "no");
        bool thread = bit(pr.pending, s), process = bit(ps.shared, s);
        CHECK_STR(r->pending, thread && process ? "both" : thread ? "thread" : process ? "process" : "no");
    }
}

/* The acceptance check: a shell's traps, as ps sees them. */
TEST(list_shell_traps_agree_with_ps)
{
    int in[2], out[2];
    CHECK(pipe(in) == 0 && pipe(out) == 0);
    fflush(NULL);
    pid_t sh = fork();
    CHECK(sh >= 0);
    if (sh == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl("/bin/sh", "sh", "-c", "trap '' USR2; trap 'echo usr1' USR1; echo ready; read x",
              (char *)NULL);
        _exit(126);
    }
    close(in[0]);
    close(out[1]);
    char line[64];
    read_line(out[0], line, sizeof line);
    CHECK_STR(line, "ready\n");

    char pid[16];
    CHECK_EQ(run("list", fmt(pid, sizeof pid, "%d", (int)sh), NULL), 0);
    list_row rows[NSIG];
    CHECK_EQ(parse_list(rows), count_valid_signals());
    CHECK_STR(rows[SIGUSR2].disposition, "ignored");
    CHECK_STR(rows[SIGUSR1].disposition, "caught");
    check_list_agrees(sh, rows);
    CHECK_OUT("caught (");
    CHECK_OUT("1 ignored (USR2)");

    close(in[1]); /* read x sees EOF: the shell ends */
    CHECK(WIFEXITED(sk_test_reap(sh, 30)));
    close(out[0]);
}

/* Blocked and pending, thread and process-wide, against ps and /proc. */
TEST(list_blocked_pending_agree_with_ps)
{
    target t = target_start(false);
    CHECK_EQ(kill(t.pid, SIGUSR1), 0);                          /* process-wide */
    CHECK_EQ(syscall(SYS_tgkill, t.pid, t.pid, SIGUSR2), 0);    /* its one thread */
    CHECK_EQ(syscall(SYS_tgkill, t.pid, t.pid, SIGHUP), 0);
    CHECK_EQ(kill(t.pid, SIGHUP), 0);
    char pid[16];
    CHECK_EQ(run("list", fmt(pid, sizeof pid, "%d", (int)t.pid), NULL), 0);
    list_row rows[NSIG];
    CHECK_EQ(parse_list(rows), count_valid_signals());
    CHECK_STR(rows[SIGUSR1].pending, "process");
    CHECK_STR(rows[SIGUSR2].pending, "thread");
    CHECK_STR(rows[SIGHUP].pending, "both");
    CHECK_STR(rows[SIGTERM].pending, "no");
    CHECK_STR(rows[SIGTERM].blocked, "yes");
    CHECK_STR(rows[SIGKILL].blocked, "no");
    check_list_agrees(t.pid, rows);
    CHECK_OUT("3 pending (HUP USR1 USR2)");

    /* --thread: the main thread's own view (its tid is the pid). */
    CHECK_EQ(run("list", pid, "--thread", pid, NULL), 0);
    CHECK_EQ(parse_list(rows), count_valid_signals());
    CHECK_STR(rows[SIGUSR2].pending, "thread");
    CHECK_OUT("thread");
    target_end(t);
}

TEST(list_self_and_json)
{
    CHECK_EQ(run("list", NULL), 0);
    list_row rows[NSIG];
    CHECK_EQ(parse_list(rows), count_valid_signals());
    CHECK_OUT("pid ");

    target t = target_start(false);
    CHECK_EQ(kill(t.pid, SIGUSR1), 0);
    char pid[16], py[1024];
    CHECK_EQ(run("list", fmt(pid, sizeof pid, "%d", (int)t.pid), "--json", NULL), 0);
    fmt(py, sizeof py,
        "import json,sys; d=json.load(sys.stdin); assert d['pid']==%d and d['tid'] is None; "
        "s={x['number']:x for x in d['signals']}; assert len(s)==%d; u=s[%d]; "
        "assert u['name']=='SIGUSR1' and u['pending_process'] and not u['pending_thread'] "
        "and u['blocked'] and u['disposition']=='default' and u['default_action']=='term', u; "
        "assert set(u)=={'number','name','disposition','blocked','pending_thread',"
        "'pending_process','default_action','description'}",
        (int)t.pid, count_valid_signals(), SIGUSR1);
    check_json(res.out, py);
    target_end(t);
}

TEST(list_errors)
{
    CHECK_EQ(run("list", "999999999", NULL), 1);
    CHECK_ERR("999999999: No such process");
    CHECK_STR(res.out, "");
    char pid[16];
    fmt(pid, sizeof pid, "%d", (int)getpid());
    CHECK_EQ(run("list", pid, "--thread", "999999999", NULL), 1);
    CHECK_ERR("No such process");

    struct {
        const char *args[3];
        const char *word;
    } bad[] = {{{"abc"}, "'abc'"},          {{"0"}, "'0'"},
               {{"-5"}, "'-5'"},            {{"1", "2"}, "'2'"},
               {{"--thread", "x"}, "'x'"},  {{"--thread", "0"}, "'0'"},
               {{"--bogus"}, "'--bogus'"},  {{"007"}, "'007'"},
               {{"99999999999"}, "'99999999999'"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(run("list", bad[i].args[0], bad[i].args[1], NULL), 2);
        CHECK_ERR(bad[i].word);
        CHECK_STR(res.out, "");
    }
    CHECK_EQ(run("list", "--thread", NULL), 2);
    CHECK_ERR("'--thread' needs a value");
}

/* ------------------------------------------------------------------ */
/* send                                                                */
/* ------------------------------------------------------------------ */

TEST(send_reaches_target)
{
    target t = target_start(false);
    char pid[16], want[64];
    fmt(pid, sizeof pid, "%d", (int)t.pid);
    CHECK_EQ(run("send", "usr1", pid, NULL), 0);
    CHECK_STR(res.out, fmt(want, sizeof want, "%s: SIGUSR1 sent\n", pid));
    CHECK_STR(res.err, "");
    sigset_t p = target_pending(t.pid);
    CHECK(sigismember(&p, SIGUSR1) == 1);
    CHECK(sigismember(&p, SIGUSR2) == 0);

    CHECK_EQ(run("send", "SIGRTMIN+1", pid, "-q", NULL), 0); /* any spelling; quiet */
    CHECK_STR(res.out, "");
    p = target_pending(t.pid);
    CHECK(sigismember(&p, SIGRTMIN + 1) == 1);
    target_end(t);
}

/* Signal 0 checks and sends nothing, as kill -0. */
TEST(send_zero_probes_only)
{
    target t = target_start(false);
    char pid[16];
    fmt(pid, sizeof pid, "%d", (int)t.pid);
    CHECK_EQ(run("send", "0", pid, NULL), 0);
    CHECK_OUT("may be signalled");
    check_nothing_pending(t.pid);
    CHECK_EQ(run("send", "0", "999999999", NULL), 1);
    CHECK_ERR("No such process");
    target_end(t);
}

/* The acceptance lines, plus every malformed word: exit 2 (or 1 for a
 * process that does not exist), the word named, nothing signalled. */
TEST(send_bad_input_signals_nothing)
{
    target t = target_start(false);
    char pid[16];
    fmt(pid, sizeof pid, "%d", (int)t.pid);
    struct {
        const char *args[6];
        const char *word;
    } bad[] = {
        {{"BOGUS", "1"}, "'BOGUS'"},
        {{"BOGUS", pid}, "'BOGUS'"},
        {{"-1", pid}, "'-1'"},
        {{"0x10", pid}, "'0x10'"},
        {{"1e3", pid}, "'1e3'"},
        {{"", pid}, "''"},
        {{"--", "--", pid}, "'--'"},
        {{"65", pid}, "'65'"},
        {{"010", pid}, "'010'"},
        {{"99999999999999999999999999999999", pid}, "'9999"},
        {{"SIGRTMAX+1", pid}, "'SIGRTMAX+1'"},
        {{"TERM", pid, "0"}, "'0'"},
        {{"TERM", pid, "-1"}, "'-1'"},
        {{"TERM", pid, "-" "5"}, "'-5'"},
        {{"TERM", pid, "999999999999999999999"}, "'999999999999999999999'"},
        {{"TERM", pid, "1e3"}, "'1e3'"},
        {{"TERM", pid, "0x10"}, "'0x10'"},
        {{"TERM", pid, "+5"}, "'+5'"},
        {{"TERM", pid, ""}, "''"},
        {{"TERM", pid, "oops"}, "'oops'"},
        {{"TERM", pid, "--bogus"}, "'--bogus'"},
        {{"TERM", pid, "--value", "x"}, "'x'"},
        {{"TERM", pid, "--value"}, "'--value'"},
        {{"TERM", pid, "--timeout", "10"}, "'--then"},
        {{"TERM", pid, "--then", "KILL"}, "'--timeout"},
        {{"TERM", pid, "--timeout", "-3", "--then"}, "'-3'"},
        {{"TERM", pid, "--timeout", "10", "--then", "NOPE"}, "'NOPE'"},
        {{"TERM", pid, "--group", "-1"}, "'-1'"},
        {{"TERM", pid, "--group", "--value", "1", "0"}, "'0'"},
        {{"0", pid, "--value", "1"}, "'0'"},
        {{"TERM"}, "missing process id"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *args[8] = {(char *)"send"};
        for (int k = 0; k < 6 && bad[i].args[k]; k++)
            args[k + 1] = (char *)bad[i].args[k];
        if (runv(args) != 2)
            sk_test_fail(__FILE__, __LINE__, "case %zu: exit %d, stderr %s", i, res.status, res.err);
        CHECK_ERR(bad[i].word);
        CHECK_EQ(count_lines(res.err), 1);
        CHECK_STR(res.out, "");
        check_nothing_pending(t.pid);
    }
    CHECK_EQ(run("send", "TERM", "999999999", NULL), 1);
    CHECK_ERR("999999999: No such process");
    target_end(t);
}

/* `sigkit send TERM 0` must not reach our process group.  This test makes
 * its own group (so a mistake cannot reach ctest) and blocks TERM. */
TEST(send_term_0_refused)
{
    CHECK_EQ(setpgid(0, 0), 0);
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    CHECK_EQ(sigprocmask(SIG_BLOCK, &set, NULL), 0);
    CHECK_EQ(run("send", "TERM", "0", NULL), 2);
    CHECK_ERR("'0'");
    CHECK_ERR("--group");
    CHECK_EQ(run("send", "TERM", "--", "-1", NULL), 2);
    CHECK_ERR("--all");
    CHECK_EQ(sigpending(&pending), 0);
    CHECK(sigismember(&pending, SIGTERM) == 0);
}

TEST(send_group)
{
    CHECK_EQ(setpgid(0, 0), 0);
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    CHECK_EQ(sigprocmask(SIG_BLOCK, &set, NULL), 0);
    CHECK_EQ(run("send", "USR1", "--group", "0", NULL), 0); /* our group: us and sigkit */
    CHECK_OUT("0 (own group): SIGUSR1 sent");
    CHECK_EQ(sigpending(&pending), 0);
    CHECK(sigismember(&pending, SIGUSR1) == 1);

    target t = target_start(true);
    char group[16];
    CHECK_EQ(run("send", "USR2", fmt(group, sizeof group, "-%d", (int)t.pid), "--group", NULL), 0);
    CHECK_OUT("group ");
    sigset_t p = target_pending(t.pid);
    CHECK(sigismember(&p, SIGUSR2) == 1);
    target_end(t);
}

/* Several pids: each reported, the good one signalled, exit 1. */
TEST(send_several_pids)
{
    target a = target_start(false), b = target_start(false);
    char pa[16], pb[16], want[64];
    fmt(pa, sizeof pa, "%d", (int)a.pid);
    fmt(pb, sizeof pb, "%d", (int)b.pid);
    CHECK_EQ(run("send", "HUP", pa, "999999999", pb, NULL), 1);
    CHECK_OUT(fmt(want, sizeof want, "%s: SIGHUP sent", pa));
    CHECK_OUT(fmt(want, sizeof want, "%s: SIGHUP sent", pb));
    CHECK_ERR("999999999: No such process");
    sigset_t p = target_pending(a.pid);
    CHECK(sigismember(&p, SIGHUP) == 1);
    p = target_pending(b.pid);
    CHECK(sigismember(&p, SIGHUP) == 1);
    target_end(b); /* b holds a copy of a's control pipe: end it first */
    target_end(a);
}

TEST(send_permission_denied)
{
    if (geteuid() != 0) {
        CHECK_EQ(run("send", "0", "1", NULL), 1);
        CHECK_ERR("1: Operation not permitted");
        return;
    }
    /* As root, drop to nobody in a child: init is then out of reach. */
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(77);
        int rc = run("send", "0", "1", NULL);
        _exit(rc == 1 && strstr(res.err, "1: Operation not permitted") ? 0 : 1);
    }
    int st = sk_test_reap(pid, 30);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        SK_SKIP("cannot drop privileges");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A child that dies of the first TERM (default disposition, not blocked). */
static void sit(void *arg)
{
    int fd = *(int *)arg;
    char c;
    while (read(fd, &c, 1) > 0)
        ;
}

TEST(send_timeout_exits_in_time)
{
    int hold[2];
    CHECK(pipe(hold) == 0);
    pid_t pid = sk_test_fork(sit, &hold[0]);
    char p[16], want[64];
    fmt(p, sizeof p, "%d", (int)pid);
    CHECK_EQ(run("send", "TERM", p, "--timeout", "20000", "--then", "KILL", NULL), 0);
    CHECK_OUT(fmt(want, sizeof want, "%s: exited", p));
    int st = sk_test_reap(pid, 30);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    close(hold[0]);
    close(hold[1]);
}

TEST(send_timeout_escalates)
{
    target t = target_start(false); /* blocks TERM: only KILL ends it */
    char p[16], want[96];
    fmt(p, sizeof p, "%d", (int)t.pid);
    CHECK_EQ(run("send", "TERM", p, "--timeout", "50", "--then", "KILL", NULL), 0);
    CHECK_OUT(fmt(want, sizeof want, "%s: still running after 50 ms: SIGKILL sent", p));
    int st = sk_test_reap(t.pid, 30);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    close(t.ctl);
}

/* ------------------------------------------------------------------ */
/* wait, and the wait/send pair                                        */
/* ------------------------------------------------------------------ */

typedef struct waiter {
    pid_t pid;
    int out; /* its stdout */
} waiter;

/* Start `sigkit wait ARGS... --ready-fd 3` and return once it is ready. */
static waiter waiter_start(char *const *args)
{
    int out[2], ready[2];
    CHECK(pipe(out) == 0 && pipe(ready) == 0);
    char *argv[MAX_ARGS + 1];
    int n = 0;
    argv[n++] = (char *)"wait";
    for (int i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n++] = (char *)"--ready-fd";
    argv[n++] = (char *)"3";
    argv[n] = NULL;
    pid_t pid = spawn(argv, out[1], 2, ready[1]);
    close(out[1]);
    close(ready[1]);
    char line[32];
    read_line(ready[0], line, sizeof line);
    CHECK_STR(line, "ready\n");
    close(ready[0]);
    return (waiter){pid, out[0]};
}

static int waiter_end(waiter w)
{
    close(w.out);
    return sk_test_exit_code(sk_test_reap(w.pid, 30));
}

/* Send with `sigkit send`; returns the sender's pid. */
static pid_t send_with_sigkit(const char *sig, pid_t to, const char *value)
{
    char p[16];
    fmt(p, sizeof p, "%d", (int)to);
    char *args[] = {(char *)"send", (char *)sig, p, (char *)"-q",
                    value ? (char *)"--value" : NULL, (char *)value, NULL};
    FILE *out = tmpfile(), *err = tmpfile();
    pid_t pid = spawn(args, fileno(out), fileno(err), -1);
    int st = sk_test_reap(pid, 30);
    sk_test_slurp(out, res.out, sizeof res.out);
    sk_test_slurp(err, res.err, sizeof res.err);
    if (sk_test_exit_code(st) != 0)
        sk_test_fail(__FILE__, __LINE__, "send failed: %s", res.err);
    return pid;
}

TEST(wait_send_pair)
{
    char *args[] = {(char *)"USR1", NULL};
    waiter w = waiter_start(args);
    pid_t sender = send_with_sigkit("USR1", w.pid, NULL);
    char line[256], want[256];
    read_line(w.out, line, sizeof line);
    CHECK_STR(line, fmt(want, sizeof want, "SIGUSR1 pid=%d uid=%u code=SI_USER value=0\n",
                        (int)sender, (unsigned)getuid()));
    CHECK_EQ(waiter_end(w), 0);
}

TEST(wait_values_json_count)
{
    char *args[] = {(char *)"RTMIN", (char *)"usr2", (char *)"--json", (char *)"--count",
                    (char *)"3", NULL};
    waiter w = waiter_start(args);
    char line[512], want[512];
    pid_t s1 = send_with_sigkit("SIGRTMIN", w.pid, "42");
    read_line(w.out, line, sizeof line);
    CHECK_STR(line, fmt(want, sizeof want,
                        "{\"signal\":\"SIGRTMIN\",\"number\":%d,\"pid\":%d,\"uid\":%u,"
                        "\"code\":\"SI_QUEUE\",\"code_number\":%d,\"value\":42}\n",
                        SIGRTMIN, (int)s1, (unsigned)getuid(), SI_QUEUE));
    pid_t s2 = send_with_sigkit("USR2", w.pid, "0"); /* --value 0 is still a value */
    read_line(w.out, line, sizeof line);
    CHECK_STR(line, fmt(want, sizeof want,
                        "{\"signal\":\"SIGUSR2\",\"number\":%d,\"pid\":%d,\"uid\":%u,"
                        "\"code\":\"SI_QUEUE\",\"code_number\":%d,\"value\":0}\n",
                        SIGUSR2, (int)s2, (unsigned)getuid(), SI_QUEUE));
    pid_t s3 = send_with_sigkit("RTMIN", w.pid, "-7");
    read_line(w.out, line, sizeof line);
    fmt(want, sizeof want, "\"pid\":%d", (int)s3);
    check_contains(line, want, "third line");
    check_contains(line, "\"value\":-7}", "third line");
    CHECK_EQ(waiter_end(w), 0); /* --count 3 reached */
}

/* An ignored signal (as a background job of sh gets INT) still arrives. */
TEST(wait_inherited_ignore)
{
    CHECK(signal(SIGINT, SIG_IGN) != SIG_ERR); /* inherited across exec */
    char *args[] = {(char *)"INT", NULL};
    waiter w = waiter_start(args);
    CHECK_EQ(kill(w.pid, SIGINT), 0);
    char line[256];
    read_line(w.out, line, sizeof line);
    check_contains(line, "SIGINT pid=", "wait line");
    CHECK_EQ(waiter_end(w), 0);
}

TEST(wait_timeout)
{
    double t0 = sk_test_now();
    CHECK_EQ(run("wait", "USR1", "--timeout", "0.2", NULL), 124);
    CHECK(sk_test_now() - t0 >= 0.19);
    CHECK_STR(res.out, "");
    CHECK_STR(res.err, "");
    CHECK_EQ(run("wait", "USR1", "--timeout", "0", NULL), 124);
}

TEST(wait_errors)
{
    CHECK_EQ(run("wait", "USR1", "--ready-fd", "99", NULL), 1);
    CHECK_ERR("--ready-fd 99: Bad file descriptor");
    const char *bad[][3] = {{"BOGUS"}, {"KILL"}, {"STOP"}, {"0"}, {"USR1", "--timeout", "1e3"},
                            {"USR1", "--timeout", "-1"}, {"USR1", "--timeout", "0.0001"},
                            {"USR1", "--count", "x"}, {"USR1", "--ready-fd", "-3"},
                            {"--json"}, {"USR1", "--frob"}};
    const char *word[] = {"'BOGUS'", "'KILL'", "'STOP'", "'0'", "'1e3'", "'-1'", "'0.0001'",
                          "'x'", "'-3'", "missing signal", "'--frob'"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(run("wait", bad[i][0], bad[i][1], bad[i][2], NULL), 2);
        CHECK_ERR(word[i]);
        CHECK_STR(res.out, "");
    }
}

/* The recipe of sigkit(1), run by a shell as a script would. */
TEST(shell_recipe_fifo)
{
    char dir[] = "/tmp/sigkit-cli-XXXXXX", script[2048];
    CHECK(mkdtemp(dir));
    fmt(script, sizeof script,
        "set -e; PATH=%s/cli:$PATH; cd %s; mkfifo ready\n"
        "sigkit wait USR1 --ready-fd 3 3>ready >out &\n"
        "read _ <ready\n"
        "sigkit send USR1 $! >/dev/null\n"
        "wait $!\n"
        "cat out\n",
        SK_BUILD_DIR, dir);
    CHECK_EQ(run("names", NULL), 0); /* warm: the binary is there */
    FILE *p = popen(script, "r");
    CHECK(p);
    char line[256] = "";
    CHECK(fgets(line, sizeof line, p) != NULL);
    CHECK_EQ(pclose(p), 0);
    check_contains(line, "SIGUSR1 pid=", "script output");
    check_contains(line, "code=SI_USER", "script output");
    char path[128];
    unlink(fmt(path, sizeof path, "%s/ready", dir));
    unlink(fmt(path, sizeof path, "%s/out", dir));
    CHECK_EQ(rmdir(dir), 0);
}

/* The bash completion offers this system's names, from `sigkit names`. */
TEST(bash_completion)
{
    if (access("/bin/bash", X_OK) != 0)
        SK_SKIP("no bash");
    char script[1024];
    fmt(script, sizeof script,
        "PATH=%s/cli:$PATH; . %s/completions/sigkit.bash; "
        "COMP_WORDS=(sigkit send us); COMP_CWORD=2; _sigkit; echo \"${COMPREPLY[*]}\"; "
        "COMP_WORDS=(sigkit wait USR1 --co); COMP_CWORD=3; _sigkit; echo \"${COMPREPLY[*]}\"",
        SK_BUILD_DIR, SK_SOURCE_DIR);
    char *args[] = {(char *)"/bin/bash", (char *)"-c", script, NULL};
    int out[2];
    CHECK(pipe(out) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(out[1], 1);
        close(out[0]);
        execv(args[0], args);
        _exit(126);
    }
    close(out[1]);
    char line[256];
    read_line(out[0], line, sizeof line);
    CHECK_STR(line, "USR1 USR2\n");
    read_line(out[0], line, sizeof line);
    CHECK_STR(line, "--count\n");
    close(out[0]);
    CHECK_EQ(sk_test_exit_code(sk_test_reap(pid, 30)), 0);
}
