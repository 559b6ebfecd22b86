/*
 * sk_proc_signals() and its parser.
 *
 * SK_TEST_LABEL_NOCORE: these cases compare sigkit's reading of /proc with
 * the state a process set up; under valgrind /proc shows valgrind's own
 * masks and dispositions, not the program's, so they stay out of the
 * valgrind run.
 */
#include "harness.h"
#include "internal.h"
#include "proc.h"
#include "sigkit.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* s == the signals listed (0-terminated), for every user signal. */
static void check_set_is(const sigset_t *s, const int *want, const char *what)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (sk__check_signal(sig) != 0)
            continue;
        bool wanted = false;
        for (const int *w = want; *w; w++)
            wanted |= *w == sig;
        if ((sigismember(s, sig) == 1) != wanted)
            sk_test_fail(__FILE__, __LINE__, "%s: signal %d is %s", what, sig,
                         wanted ? "missing" : "unexpected");
    }
}

static void on_term(int signo)
{
    (void)signo;
}

struct handshake {
    int ready[2]; /* child -> parent: set up */
    int done[2];  /* parent -> child: finished looking */
};

/* Ignore USR2, catch TERM, block HUP and INT; HUP pending for the process
 * (kill), INT pending for the thread (raise).  Then wait to be looked at. */
static void set_up_and_wait(void *arg)
{
    struct handshake *h = arg;
    struct sigaction ign, catch;
    memset(&ign, 0, sizeof ign);
    memset(&catch, 0, sizeof catch);
    ign.sa_handler = SIG_IGN;
    catch.sa_handler = on_term;
    CHECK_EQ(sigaction(SIGUSR2, &ign, NULL), 0);
    CHECK_EQ(sigaction(SIGTERM, &catch, NULL), 0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGINT);
    CHECK_EQ(sigprocmask(SIG_BLOCK, &block, NULL), 0);
    CHECK_EQ(kill(getpid(), SIGHUP), 0);
    CHECK_EQ(raise(SIGINT), 0);
    CHECK_EQ(write(h->ready[1], "r", 1), 1);
    char b;
    CHECK_EQ(read(h->done[0], &b, 1), 1);
}

static void check_child_state(const sk_procsig *ps)
{
    check_set_is(&ps->ignored, (int[]){SIGUSR2, 0}, "ignored");
    check_set_is(&ps->caught, (int[]){SIGTERM, 0}, "caught");
    check_set_is(&ps->blocked, (int[]){SIGHUP, SIGINT, 0}, "blocked");
    check_set_is(&ps->shared_pending, (int[]){SIGHUP, 0}, "shared_pending");
    check_set_is(&ps->pending, (int[]){SIGINT, 0}, "pending");
}

TEST(proc_signals_of_child)
{
    struct handshake h;
    CHECK_EQ(pipe(h.ready), 0);
    CHECK_EQ(pipe(h.done), 0);
    int pid = sk_test_fork(set_up_and_wait, &h);
    char b;
    CHECK_EQ(read(h.ready[0], &b, 1), 1);

    sk_procsig ps;
    CHECK_EQ(sk_proc_signals(pid, 0, &ps), 0);
    check_child_state(&ps);
    CHECK_EQ(sk_proc_signals(pid, pid, &ps), 0); /* its main thread, by tid */
    check_child_state(&ps);

    CHECK_EQ(write(h.done[1], "d", 1), 1);
    /* HUP is pending and blocked until exit: the child exits normally. */
    int st = sk_test_reap(pid, 20);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

struct thread_probe {
    pid_t tid;
    int ready[2];
    int done[2];
};

static void *block_usr1_and_wait(void *arg)
{
    struct thread_probe *p = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    p->tid = (pid_t)syscall(SYS_gettid);
    pthread_kill(pthread_self(), SIGUSR1); /* pending for this thread only */
    char b;
    if (write(p->ready[1], "r", 1) != 1 || read(p->done[0], &b, 1) != 1)
        return (void *)1;
    return NULL;
}

/* One thread's view differs from the process's. */
TEST(proc_signals_of_thread)
{
    struct thread_probe p;
    CHECK_EQ(pipe(p.ready), 0);
    CHECK_EQ(pipe(p.done), 0);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, block_usr1_and_wait, &p), 0);
    char b;
    CHECK_EQ(read(p.ready[0], &b, 1), 1);

    sk_procsig thread, whole;
    CHECK_EQ(sk_proc_signals(getpid(), p.tid, &thread), 0);
    CHECK_EQ(sk_proc_signals(getpid(), 0, &whole), 0);
    check_set_is(&thread.blocked, (int[]){SIGUSR1, 0}, "thread blocked");
    check_set_is(&thread.pending, (int[]){SIGUSR1, 0}, "thread pending");
    check_set_is(&whole.blocked, (int[]){0}, "main thread blocked");
    check_set_is(&whole.pending, (int[]){0}, "main thread pending");
    check_set_is(&whole.shared_pending, (int[]){0}, "shared pending");

    CHECK_EQ(write(p.done[1], "d", 1), 1);
    void *r;
    CHECK_EQ(pthread_join(t, &r), 0);
    CHECK(r == NULL);
}

static void exit_at_once(void *arg)
{
    (void)arg;
}

TEST(proc_signals_errors)
{
    sk_procsig ps;
    CHECK_EQ(sk_proc_signals(0, 0, &ps), -EINVAL);
    CHECK_EQ(sk_proc_signals(-1, 0, &ps), -EINVAL);
    CHECK_EQ(sk_proc_signals(getpid(), -1, &ps), -EINVAL);
    CHECK_EQ(sk_proc_signals(getpid(), 0, NULL), -EINVAL);

    int pid = sk_test_fork(exit_at_once, NULL);
    sk_test_reap(pid, 20);
    CHECK_EQ(sk_proc_signals(pid, 0, &ps), -ESRCH);
    /* A live process, but not a thread of it. */
    CHECK_EQ(sk_proc_signals(getpid(), pid, &ps), -ESRCH);
    CHECK_EQ(sk_proc_signals(1, getpid(), &ps), -ESRCH);
}

/* Without /proc (a private mount namespace where it is unmounted), the
 * answer is ENOENT, not "no such process". */
static void without_proc(void *arg)
{
    (void)arg;
    sk_procsig ps;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        umount2("/proc", MNT_DETACH) < 0) {
        printf("cannot unmount /proc here (%s): skipped\n", strerror(errno));
        _exit(0);
    }
    CHECK_EQ(sk_proc_signals(getpid(), 0, &ps), -ENOENT);
}

TEST(proc_signals_no_proc)
{
    int st = sk_test_reap(sk_test_fork(without_proc, NULL), 20);
    CHECK(WIFEXITED(st));
    CHECK_EQ(WEXITSTATUS(st), 0);
}

/* ------------------------------------------------------------------ */
/* The parser                                                          */
/* ------------------------------------------------------------------ */

static const char good_status[] =
    "Name:\tcat\n"
    "Umask:\t0022\n"
    "State:\tR (running)\n"
    "Pid:\t4242\n"
    "SigQ:\t1/96365\n"
    "SigPnd:\t0000000000000200\n"   /* 10 */
    "ShdPnd:\t0000000000000001\n"   /* 1 */
    "SigBlk:\t0000000000000201\n"   /* 1, 10 */
    "SigIgn:\t0000000000001000\n"   /* 13 */
    "SigCgt:\t8000000180004002\n"   /* 2, 15, 32 (reserved), 33 (reserved), 64 */
    "CapInh:\t0000000000000000\n"
    "voluntary_ctxt_switches:\t0\n";

TEST(parse_good)
{
    sk_procsig ps;
    CHECK_EQ(sk__parse_proc_status(good_status, strlen(good_status), &ps), 0);
    check_set_is(&ps.pending, (int[]){10, 0}, "pending");
    check_set_is(&ps.shared_pending, (int[]){1, 0}, "shared");
    check_set_is(&ps.blocked, (int[]){1, 10, 0}, "blocked");
    check_set_is(&ps.ignored, (int[]){13, 0}, "ignored");
    /* 32 and 33 are glibc's: dropped; 64 is SIGRTMAX. */
    check_set_is(&ps.caught, (int[]){2, 15, 64, 0}, "caught");
}

/* Feed text with one line replaced (or removed, when replacement is ""). */
static int parse_with(const char *key, const char *replacement)
{
    char buf[4096];
    size_t n = 0;
    const char *p = good_status;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p) + 1;
        const char *src = p;
        if (strncmp(p, key, strlen(key)) == 0) {
            src = replacement;
            len = strlen(replacement);
        }
        memcpy(buf + n, src, len);
        n += len;
        p = nl + 1;
    }
    sk_procsig ps;
    return sk__parse_proc_status(buf, n, &ps);
}

TEST(parse_variants_accepted)
{
    CHECK_EQ(parse_with("SigBlk", "SigBlk:\t00000000000000000000000000000201\n"), 0);
    CHECK_EQ(parse_with("SigBlk", "SigBlk: 201\n"), 0);
    CHECK_EQ(parse_with("SigBlk", "SigBlk:201\n"), 0);
    CHECK_EQ(parse_with("SigBlk", "SigBlk:\tABCDEF \n"), 0);
    CHECK_EQ(parse_with("SigBlk", "SigBlk:\tffffffffffffffffffffffffffffffffffff\n"), 0);
    /* Unknown and nearly-matching lines are not ours. */
    CHECK_EQ(parse_with("Name", "SigBlkX:\tzz\nsigblk:\tzz\n SigBlk:\tzz\n"), 0);
    /* The last line needs no newline. */
    char buf[sizeof good_status];
    memcpy(buf, good_status, sizeof good_status);
    char *cut = strstr(buf, "\nCapInh");
    sk_procsig ps;
    CHECK_EQ(sk__parse_proc_status(buf, (size_t)(cut - buf), &ps), 0);
}

TEST(parse_rejects)
{
    const char *keys[] = {"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"};
    for (size_t i = 0; i < 5; i++) {
        char line[64];
        CHECK_EQ(parse_with(keys[i], ""), -EPROTO); /* missing */
        snprintf(line, sizeof line, "%s:\n", keys[i]);
        CHECK_EQ(parse_with(keys[i], line), -EPROTO); /* empty */
        snprintf(line, sizeof line, "%s:\t00zz\n", keys[i]);
        CHECK_EQ(parse_with(keys[i], line), -EPROTO);
        snprintf(line, sizeof line, "%s:\t0x10\n", keys[i]);
        CHECK_EQ(parse_with(keys[i], line), -EPROTO);
        snprintf(line, sizeof line, "%s:\t-1\n", keys[i]);
        CHECK_EQ(parse_with(keys[i], line), -EPROTO);
        snprintf(line, sizeof line, "%s:\t12 34\n", keys[i]);
        CHECK_EQ(parse_with(keys[i], line), -EPROTO);
        snprintf(line, sizeof line, "%s:\t1\n%s:\t2\n", keys[i], keys[i]);
        CHECK_EQ(parse_with(keys[i], line), -EPROTO); /* twice */
    }
    sk_procsig ps;
    CHECK_EQ(sk__parse_proc_status("", 0, &ps), -EPROTO);
    CHECK_EQ(sk__parse_proc_status(NULL, 0, &ps), -EINVAL);
    CHECK_EQ(sk__parse_proc_status(good_status, strlen(good_status), NULL), -EINVAL);
    /* A NUL inside a value is not a terminator to skip over. */
    char buf[sizeof good_status];
    memcpy(buf, good_status, sizeof good_status);
    buf[strstr(buf, "SigIgn") - buf + 9] = '\0';
    CHECK_EQ(sk__parse_proc_status(buf, sizeof good_status - 1, &ps), -EPROTO);
}

TEST(parse_failure_leaves_output)
{
    sk_procsig ps, before;
    memset(&ps, 0x5a, sizeof ps);
    before = ps;
    const char half[] = "SigPnd:\t1\nShdPnd:\t2\n";
    CHECK_EQ(sk__parse_proc_status(half, sizeof half - 1, &ps), -EPROTO);
    CHECK(memcmp(&ps, &before, sizeof ps) == 0);
}

/* A buffer that ends exactly where the bytes do (no NUL after), in memory
 * of its own, so that ASan sees any read past the end. */
static int parse_exact(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, text, len);
    sk_procsig ps;
    int rc = sk__parse_proc_status(copy, len, &ps);
    free(copy);
    return rc;
}

TEST(parse_long_lines_and_truncation)
{
    /* 1 MB lines before and inside the fields. */
    size_t big = 1 << 20;
    char *buf = malloc(big * 2 + sizeof good_status + 64);
    CHECK(buf != NULL);
    size_t n = 0;
    memcpy(buf, "Groups:\t", 8);
    n = 8;
    memset(buf + n, '7', big);
    n += big;
    buf[n++] = '\n';
    memcpy(buf + n, good_status, sizeof good_status - 1);
    n += sizeof good_status - 1;
    CHECK_EQ(parse_exact(buf, n), 0);
    /* A mask a megabyte long (all zeros but the last digit): still fine. */
    n = 0;
    const char *head = "SigPnd:\t";
    memcpy(buf, head, strlen(head));
    n = strlen(head);
    memset(buf + n, '0', big);
    n += big;
    buf[n - 1] = '1';
    const char *rest = "\nShdPnd:\t0\nSigBlk:\t0\nSigIgn:\t0\nSigCgt:\t0\n";
    memcpy(buf + n, rest, strlen(rest));
    n += strlen(rest);
    CHECK_EQ(parse_exact(buf, n), 0);
    free(buf);
    /* Every prefix of a good file: no crash, and success only once all five
     * lines are complete. */
    size_t full = strlen(good_status);
    size_t need = (size_t)(strstr(good_status, "SigCgt") - good_status) + strlen("SigCgt:\t8");
    for (size_t len = 0; len <= full; len++) {
        int rc = parse_exact(good_status, len);
        CHECK_EQ(rc, len >= need ? 0 : -EPROTO);
    }
}

/* Deterministic garbage and mutations: the parser must only ever return
 * 0 or -EPROTO (the fuzzer will do this at scale). */
TEST(parse_garbage)
{
    uint32_t x = 2463534242u;
    char buf[512];
    for (int round = 0; round < 20000; round++) {
        size_t len;
        if (round % 2) {
            len = x % sizeof buf;
            for (size_t i = 0; i < len; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                buf[i] = (char)(x & 0xff);
            }
        } else {
            len = strlen(good_status);
            memcpy(buf, good_status, len);
            for (int k = 0; k < 4; k++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                buf[x % len] = "0f:\n\t zG\xff"[(x >> 16) % 9];
            }
        }
        int rc = parse_exact(buf, len);
        CHECK(rc == 0 || rc == -EPROTO);
    }
}
