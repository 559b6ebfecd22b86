/*
 * Names, descriptions, default actions, valid signals, error texts and the
 * validation helpers of names.c.
 */
#include "harness.h"
#include "internal.h"
#include "sigkit.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Numbers the C library keeps for itself: above the last standard signal
 * and below SIGRTMIN (32 and 33 with glibc on Linux). */
static bool is_reserved(int s)
{
    return s > SIGSYS && s < SIGRTMIN;
}

TEST(signame_standard)
{
    CHECK_STR(sk_signame(SIGUSR1), "SIGUSR1");
    CHECK_STR(sk_signame(SIGUSR2), "SIGUSR2");
    CHECK_STR(sk_signame(SIGHUP), "SIGHUP");
    CHECK_STR(sk_signame(SIGKILL), "SIGKILL");
    CHECK_STR(sk_signame(SIGSTOP), "SIGSTOP");
    CHECK_STR(sk_signame(SIGSEGV), "SIGSEGV");
    CHECK_STR(sk_signame(SIGWINCH), "SIGWINCH");
    /* The canonical spelling wins over the aliases of the same number. */
    CHECK_STR(sk_signame(SIGABRT), "SIGABRT");
    CHECK_STR(sk_signame(SIGCHLD), "SIGCHLD");
    CHECK_STR(sk_signame(SIGIO), "SIGIO");
#ifdef SIGPWR
    CHECK_STR(sk_signame(SIGPWR), "SIGPWR");
#endif
#ifdef SIGSTKFLT
    CHECK_STR(sk_signame(SIGSTKFLT), "SIGSTKFLT");
#endif
}

TEST(signame_realtime)
{
    int range = SIGRTMAX - SIGRTMIN;
    CHECK_STR(sk_signame(SIGRTMIN), "SIGRTMIN");
    CHECK_STR(sk_signame(SIGRTMIN + 1), "SIGRTMIN+1");
    CHECK_STR(sk_signame(SIGRTMIN + 3), "SIGRTMIN+3");
    CHECK_STR(sk_signame(SIGRTMAX), "SIGRTMAX");
    CHECK_STR(sk_signame(SIGRTMAX - 1), "SIGRTMAX-1");
    /* The lower half counts up from RTMIN, the upper half down from RTMAX
     * (bash's kill -l: on Linux 49 is SIGRTMIN+15, 50 is SIGRTMAX-14). */
    for (int s = SIGRTMIN + 1; s < SIGRTMAX; s++) {
        char want[32];
        if (s - SIGRTMIN <= range / 2)
            snprintf(want, sizeof want, "SIGRTMIN+%d", s - SIGRTMIN);
        else
            snprintf(want, sizeof want, "SIGRTMAX-%d", SIGRTMAX - s);
        CHECK_STR(sk_signame(s), want);
    }
}

TEST(signame_not_signals)
{
    int bad[] = {0, -1, -SIGUSR1, NSIG, NSIG + 1, SIGRTMAX + 1, 128, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(sk_signame(bad[i]) == NULL);
    for (int s = 1; s < SIGRTMIN; s++)
        if (is_reserved(s))
            CHECK(sk_signame(s) == NULL);
}

TEST(signame_pointer_is_stable)
{
    /* Static storage: the same pointer every time, usable after later calls. */
    const char *a = sk_signame(SIGRTMIN + 2);
    const char *b = sk_signame(SIGUSR1);
    CHECK(a == sk_signame(SIGRTMIN + 2));
    CHECK(b == sk_signame(SIGUSR1));
    CHECK_STR(a, "SIGRTMIN+2");
    CHECK_STR(b, "SIGUSR1");
}

/* Several threads race the one-time construction of the tables. */
static void *name_every_signal(void *arg)
{
    (void)arg;
    for (int round = 0; round < 200; round++)
        for (int s = 1; s < NSIG; s++) {
            const char *n = sk_signame(s);
            const char *d = sk_strsignal(s);
            if ((n == NULL) != (sk__check_signal(s) != 0) || (d == NULL) != (n == NULL))
                return (void *)1;
            if (n && (strncmp(n, "SIG", 3) != 0 || sk_signum(n) != s))
                return (void *)1;
        }
    return NULL;
}

TEST(names_from_many_threads)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, name_every_signal, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *r;
        CHECK_EQ(pthread_join(t[i], &r), 0);
        CHECK(r == NULL);
    }
}

TEST(signum_spellings)
{
    CHECK_EQ(sk_signum("SIGUSR1"), SIGUSR1);
    CHECK_EQ(sk_signum("USR1"), SIGUSR1);
    CHECK_EQ(sk_signum("usr1"), SIGUSR1);
    CHECK_EQ(sk_signum("sigusr1"), SIGUSR1);
    CHECK_EQ(sk_signum("SigUsr1"), SIGUSR1);
    CHECK_EQ(sk_signum("10"), 10); /* a number: whatever 10 is here */
    CHECK_EQ(sk_signum("1"), 1);
    CHECK_EQ(sk_signum("SIGTERM"), SIGTERM);
    CHECK_EQ(sk_signum("kill"), SIGKILL);
    CHECK_EQ(sk_signum("RTMIN+3"), SIGRTMIN + 3);
    CHECK_EQ(sk_signum("SIGRTMIN+3"), SIGRTMIN + 3);
    CHECK_EQ(sk_signum("rtmin+3"), SIGRTMIN + 3);
    CHECK_EQ(sk_signum("SIGRTMAX-1"), SIGRTMAX - 1);
    CHECK_EQ(sk_signum("SIGRTMIN"), SIGRTMIN);
    CHECK_EQ(sk_signum("RTMAX"), SIGRTMAX);
    CHECK_EQ(sk_signum("RTMIN+0"), SIGRTMIN);
    CHECK_EQ(sk_signum("RTMAX-0"), SIGRTMAX);
    /* The whole range is reachable from either end. */
    char buf[32];
    snprintf(buf, sizeof buf, "SIGRTMIN+%d", SIGRTMAX - SIGRTMIN);
    CHECK_EQ(sk_signum(buf), SIGRTMAX);
    snprintf(buf, sizeof buf, "SIGRTMAX-%d", SIGRTMAX - SIGRTMIN);
    CHECK_EQ(sk_signum(buf), SIGRTMIN);
    snprintf(buf, sizeof buf, "%d", SIGRTMAX);
    CHECK_EQ(sk_signum(buf), SIGRTMAX);
}

TEST(signum_aliases)
{
#ifdef SIGIOT
    CHECK_EQ(sk_signum("SIGIOT"), SIGIOT);
    CHECK_EQ(sk_signum("iot"), SIGABRT);
#endif
#ifdef SIGPOLL
    CHECK_EQ(sk_signum("SIGPOLL"), SIGPOLL);
    CHECK_EQ(sk_signum("POLL"), SIGIO);
#endif
#ifdef SIGCLD
    CHECK_EQ(sk_signum("SIGCLD"), SIGCHLD);
#endif
#ifdef SIGPWR
    CHECK_EQ(sk_signum("SIGPWR"), SIGPWR);
#endif
#ifdef SIGSTKFLT
    CHECK_EQ(sk_signum("STKFLT"), SIGSTKFLT);
#endif
}

TEST(signum_rejects)
{
    const char *bad[] = {
        "", "0", "-1", "1e3", "0x10", " 10", "10 ", "+10", "010", "1 0", "10\n",
        "99999999999999999999999999999999999999", "4294967306", "2147483647",
        "SIG", "sig", "SIGSIGUSR1", "USR", "USR3", "SIGUSR1 ", " SIGUSR1", "SIGUSR1x",
        "SIG_USR1", "RTMIN+99", "RTMIN+", "RTMIN-1", "RTMAX+1", "RTMAX-99", "RTMIN+-1",
        "RTMIN++1", "RTMIN+ 1", "RTMIN+0x1", "RTMIN+03", "RTMID", "SIGRT", "SIG RTMIN",
        "\xff\xfe", "SIGUSR1\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sk_signum(bad[i]) != -EINVAL)
            sk_test_fail(__FILE__, __LINE__, "sk_signum(\"%s\") = %d", bad[i], sk_signum(bad[i]));
    }
    CHECK_EQ(sk_signum(NULL), -EINVAL);

    char buf[32];
    snprintf(buf, sizeof buf, "%d", NSIG);
    CHECK_EQ(sk_signum(buf), -EINVAL);
    snprintf(buf, sizeof buf, "%d", SIGRTMAX + 1);
    CHECK_EQ(sk_signum(buf), -EINVAL);
    snprintf(buf, sizeof buf, "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
    CHECK_EQ(sk_signum(buf), -EINVAL);
    /* glibc's reserved numbers cannot be named. */
    for (int s = 1; s < SIGRTMIN; s++) {
        if (!is_reserved(s))
            continue;
        snprintf(buf, sizeof buf, "%d", s);
        CHECK_EQ(sk_signum(buf), -EINVAL);
    }
}

TEST(signum_roundtrip)
{
    int named = 0;
    for (int s = 1; s < NSIG; s++) {
        const char *name = sk_signame(s);
        if (!name)
            continue;
        named++;
        char buf[64];
        CHECK_EQ(sk_signum(name), s);
        CHECK_EQ(sk_signum(name + 3), s); /* without "SIG" */
        snprintf(buf, sizeof buf, "%s", name);
        for (char *p = buf; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        CHECK_EQ(sk_signum(buf), s);
        snprintf(buf, sizeof buf, "%d", s);
        CHECK_EQ(sk_signum(buf), s);
    }
#ifdef __linux__
    /* Linux has 31 standard signals and SIGRTMIN..SIGRTMAX. */
    CHECK_EQ(named, 31 + SIGRTMAX - SIGRTMIN + 1);
#endif
}

TEST(strsignal_texts)
{
    CHECK_STR(sk_strsignal(SIGUSR1), "User defined signal 1");
    CHECK_STR(sk_strsignal(SIGUSR2), "User defined signal 2");
    CHECK_STR(sk_strsignal(SIGINT), "Interrupt");
    CHECK_STR(sk_strsignal(SIGTERM), "Terminated");
    CHECK_STR(sk_strsignal(SIGKILL), "Killed");
    CHECK_STR(sk_strsignal(SIGCHLD), "Child exited");
    CHECK_STR(sk_strsignal(SIGRTMIN), "Real-time signal 0");
    CHECK_STR(sk_strsignal(SIGRTMIN + 3), "Real-time signal 3");
    CHECK(sk_strsignal(0) == NULL);
    CHECK(sk_strsignal(-1) == NULL);
    CHECK(sk_strsignal(NSIG) == NULL);
    for (int s = 1; s < SIGRTMIN; s++)
        if (is_reserved(s))
            CHECK(sk_strsignal(s) == NULL);
}

#ifdef __GLIBC__
/* Same wording as glibc (this test is single-threaded, so strsignal()'s
 * shared buffer is harmless here). */
TEST(strsignal_matches_glibc)
{
    for (int s = 1; s < NSIG; s++) {
        const char *mine = sk_strsignal(s);
        if (!mine)
            continue;
        CHECK_STR(mine, strsignal(s));
    }
}
#endif

TEST(valid_signals_set)
{
    sigset_t set;
    CHECK_EQ(sk_valid_signals(NULL), -EINVAL);
    CHECK_EQ(sk_valid_signals(&set), 0);
    int count = 0;
    for (int s = 1; s < NSIG; s++) {
        bool member = sigismember(&set, s) == 1;
        CHECK_EQ(member, sk_signame(s) != NULL);
        CHECK_EQ(member, sk__check_signal(s) == 0);
        count += member;
    }
    CHECK(sigismember(&set, SIGKILL) == 1);
    CHECK(sigismember(&set, SIGSTOP) == 1);
    CHECK(sigismember(&set, SIGRTMIN) == 1);
    CHECK(sigismember(&set, SIGRTMAX) == 1);
#ifdef __linux__
    CHECK_EQ(count, 31 + SIGRTMAX - SIGRTMIN + 1);
#endif
}

TEST(default_action_table)
{
    CHECK_EQ(sk_default_action(SIGHUP), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(SIGINT), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(SIGQUIT), SK_ACT_CORE);
    CHECK_EQ(sk_default_action(SIGSEGV), SK_ACT_CORE);
    CHECK_EQ(sk_default_action(SIGABRT), SK_ACT_CORE);
    CHECK_EQ(sk_default_action(SIGKILL), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(SIGUSR1), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(SIGPIPE), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(SIGCHLD), SK_ACT_IGN);
    CHECK_EQ(sk_default_action(SIGURG), SK_ACT_IGN);
    CHECK_EQ(sk_default_action(SIGWINCH), SK_ACT_IGN);
    CHECK_EQ(sk_default_action(SIGCONT), SK_ACT_CONT);
    CHECK_EQ(sk_default_action(SIGSTOP), SK_ACT_STOP);
    CHECK_EQ(sk_default_action(SIGTSTP), SK_ACT_STOP);
    CHECK_EQ(sk_default_action(SIGTTIN), SK_ACT_STOP);
    CHECK_EQ(sk_default_action(SIGTTOU), SK_ACT_STOP);
    CHECK_EQ(sk_default_action(SIGXCPU), SK_ACT_CORE);
    CHECK_EQ(sk_default_action(SIGSYS), SK_ACT_CORE);
    CHECK_EQ(sk_default_action(SIGRTMIN), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(SIGRTMAX), SK_ACT_TERM);
    CHECK_EQ(sk_default_action(0), -EINVAL);
    CHECK_EQ(sk_default_action(-3), -EINVAL);
    CHECK_EQ(sk_default_action(NSIG), -EINVAL);
    for (int s = 1; s < SIGRTMIN; s++)
        if (is_reserved(s))
            CHECK_EQ(sk_default_action(s), -EINVAL);
}

/* The child becomes /bin/sh, which sends itself signo with the default
 * disposition; the exit status tells what the kernel did.  exec keeps this
 * honest under valgrind, whose own signal emulation would otherwise answer.
 * Its own process group keeps the job-control stops in force (the kernel
 * drops them in an orphaned group); RLIMIT_CORE 1 means no core at all,
 * for a file core_pattern (below the minimum size) and a pipe alike. */
static void raise_with_default(void *arg)
{
    int signo = *(int *)arg;
    char script[64];
    struct rlimit no_core = {1, 1};
    setrlimit(RLIMIT_CORE, &no_core);
    setpgid(0, 0);
    snprintf(script, sizeof script, "kill -%d $$; exit 42", signo);
    execl("/bin/sh", "sh", "-c", script, (char *)NULL);
    _exit(127);
}

/* The table agrees with the kernel for every signal: terminate (with or
 * without core: indistinguishable without a core file), ignore, stop. */
TEST(default_action_matches_kernel)
{
    for (int s = 1; s < NSIG; s++) {
        int action = sk_default_action(s);
        if (action < 0)
            continue;
        int pid = sk_test_fork(raise_with_default, &s);
        int st;
        CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
        switch (action) {
        case SK_ACT_TERM:
        case SK_ACT_CORE:
            if (!WIFSIGNALED(st) || WTERMSIG(st) != s)
                sk_test_fail(__FILE__, __LINE__, "%s: status %#x", sk_signame(s), st);
            break;
        case SK_ACT_IGN:
        case SK_ACT_CONT:
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 42)
                sk_test_fail(__FILE__, __LINE__, "%s: status %#x", sk_signame(s), st);
            break;
        case SK_ACT_STOP:
            if (!WIFSTOPPED(st) || WSTOPSIG(st) != s)
                sk_test_fail(__FILE__, __LINE__, "%s: status %#x", sk_signame(s), st);
            kill(pid, SIGKILL);
            sk_test_reap(pid, 10);
            break;
        default:
            sk_test_fail(__FILE__, __LINE__, "%s: action %d", sk_signame(s), action);
        }
    }
}

TEST(strerror_texts)
{
    CHECK_STR(sk_strerror(-EINVAL), "Invalid argument");
    CHECK_STR(sk_strerror(EINVAL), "Invalid argument");
    CHECK_STR(sk_strerror(-ESRCH), "No such process");
    CHECK_STR(sk_strerror(-EPERM), "Operation not permitted");
    CHECK_STR(sk_strerror(-ENOTSUP), "Operation not supported");
    CHECK_STR(sk_strerror(-EAGAIN), "Resource temporarily unavailable");
    CHECK_STR(sk_strerror(0), "Success");
    const char *unknown = sk_strerror(-99999);
    CHECK(unknown && strstr(unknown, "99999"));
    CHECK(sk_strerror(INT_MIN) != NULL);
    CHECK(sk_strerror(INT_MAX) != NULL);
}

/* Each thread's text stays its own while the others call sk_strerror(). */
static void *strerror_loop(void *arg)
{
    int err = *(int *)arg;
    char want[128];
    snprintf(want, sizeof want, "%s", sk_strerror(err));
    for (int i = 0; i < 20000; i++) {
        const char *got = sk_strerror(err);
        if (strcmp(got, want) != 0)
            return (void *)1;
    }
    return NULL;
}

TEST(strerror_threads)
{
    int errs[] = {-EINVAL, -ESRCH, -12345, -EPERM};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, strerror_loop, &errs[i]), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        CHECK_EQ(pthread_join(t[i], &r), 0);
        CHECK(r == NULL);
    }
}

TEST(check_helpers)
{
    int never[] = {0, -1, NSIG, NSIG + 5, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        CHECK_EQ(sk__check_signal(never[i]), -EINVAL);
        CHECK_EQ(sk__check_catchable(never[i]), -EINVAL);
        CHECK_EQ(sk__check_handleable(never[i]), -EINVAL);
    }
    for (int s = 1; s < SIGRTMIN; s++) {
        if (!is_reserved(s))
            continue;
        CHECK_EQ(sk__check_signal(s), -EINVAL);
        CHECK_EQ(sk__check_catchable(s), -EINVAL);
        CHECK_EQ(sk__check_handleable(s), -EINVAL);
    }
    /* KILL and STOP are signals, but nobody catches them. */
    CHECK_EQ(sk__check_signal(SIGKILL), 0);
    CHECK_EQ(sk__check_signal(SIGSTOP), 0);
    CHECK_EQ(sk__check_catchable(SIGKILL), -EINVAL);
    CHECK_EQ(sk__check_catchable(SIGSTOP), -EINVAL);
    CHECK_EQ(sk__check_handleable(SIGKILL), -EINVAL);
    CHECK_EQ(sk__check_handleable(SIGSTOP), -EINVAL);
    /* Faults may be caught (SK_DFL/SK_IGN), not given a deferred handler. */
    int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        CHECK_EQ(sk__check_catchable(faults[i]), 0);
        CHECK_EQ(sk__check_handleable(faults[i]), -ENOTSUP);
    }
    int fine[] = {SIGHUP, SIGINT, SIGUSR1, SIGCHLD, SIGPIPE, SIGALRM, SIGRTMIN, SIGRTMAX};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        CHECK_EQ(sk__check_signal(fine[i]), 0);
        CHECK_EQ(sk__check_catchable(fine[i]), 0);
        CHECK_EQ(sk__check_handleable(fine[i]), 0);
    }
}
