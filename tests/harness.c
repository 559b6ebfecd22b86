#include "harness.h"

#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 256
struct test_case {
    const char *name;
    sk_test_fn fn;
};
static struct test_case tests[MAX_TESTS];
static int ntests;

void sk_test_register(const char *name, sk_test_fn fn)
{
    if (ntests < MAX_TESTS)
        tests[ntests++] = (struct test_case){name, fn};
}

void sk_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    _exit(1);
}

int sk_test_under_valgrind(void)
{
    const char *pre = getenv("LD_PRELOAD");
    return pre && strstr(pre, "vgpreload") != NULL;
}

double sk_test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int sk_test_fork(void (*fn)(void *), void *arg)
{
    fflush(NULL);
    int pid = fork();
    if (pid == 0) {
        fn(arg);
        _exit(0);
    }
    CHECK(pid > 0);
    return pid;
}

int sk_test_reap(int pid, double timeout_s)
{
    double end = sk_test_now() + timeout_s;
    for (;;) {
        int st;
        int r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        CHECK(r == 0 || errno == EINTR);
        if (sk_test_now() > end) {
            kill(pid, SIGKILL);
            sk_test_fail(__FILE__, __LINE__, "child %d did not exit in %.1fs", pid, timeout_s);
        }
        usleep(1000);
    }
}

int sk_test_exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void sk_test_slurp(FILE *f, char *buf, size_t len)
{
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Every catchable signal to its default and an empty mask: a case must not
 * depend on what ctest or the shell left behind. */
static void clean_signal_state(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ntests; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASE | --list\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < ntests; i++) {
        if (strcmp(tests[i].name, argv[1]) == 0) {
            clean_signal_state();
            setvbuf(stdout, NULL, _IONBF, 0);
            tests[i].fn();
            return 0;
        }
    }
    fprintf(stderr, "no test case named '%s'\n", argv[1]);
    return 2;
}
