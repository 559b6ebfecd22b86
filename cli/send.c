/*
 * send.c - `sigkit send`: signal processes without the pid-reuse race.
 *
 * Each pid is pinned with a pidfd before anything is sent, so the process
 * that was checked is the process that gets the signal, and --timeout can
 * wait for exactly that process (a pidfd becomes readable when it exits).
 * Where the kernel or the portable build has no pidfds, kill(2) and a
 * /proc check stand in, with the old race.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct target {
    pid_t pid;
    int pidfd; /* -1: none (a group, or no pidfd support) */
    int err;   /* first failure, negative errno; 0: fine so far */
    bool gone; /* exited while --timeout waited */
} target;

/* "1234", "group 1234", "all" for messages. */
static const char *target_word(pid_t pid, char *buf, size_t len)
{
    if (pid == -1)
        snprintf(buf, len, "-1 (all)");
    else if (pid == 0)
        snprintf(buf, len, "0 (own group)");
    else if (pid < 0)
        snprintf(buf, len, "group %d", -(int)pid);
    else
        snprintf(buf, len, "%d", (int)pid);
    return buf;
}

static void report_error(const target *t)
{
    char w[48];
    skc_error("send: %s: %s", target_word(t->pid, w, sizeof w), sk_strerror(t->err));
}

/* Pin every single pid.  A pid that is already gone fails here, on its
 * own, and the others still go. */
static void open_pidfds(target *ts, int n)
{
    for (int k = 0; k < n; k++) {
        ts[k].pidfd = -1;
        if (ts[k].pid <= 0)
            continue;
        int fd = sk_pidfd_open(ts[k].pid);
        if (fd >= 0)
            ts[k].pidfd = fd;
        else if (fd != -ENOSYS && fd != -EPERM)
            ts[k].err = fd; /* EPERM: opening needs no permission, signalling will say */
    }
}

/* A signal to a group or to everything reaches sigkit too; blocked, it
 * stays pending here and dies with us, so the report still gets written. */
static void shield_self(int signo)
{
    sigset_t set;
    if (signo <= 0 || signo == SIGKILL || signo == SIGSTOP)
        return;
    sigemptyset(&set);
    sigaddset(&set, signo);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

static int send_one(const target *t, int signo, bool has_value, intptr_t value)
{
    if (t->pidfd >= 0)
        return sk_pidfd_send(t->pidfd, signo, has_value ? value : 0);
    if (has_value)
        return sk_sigqueue(t->pid, signo, value);
    return sk_kill(t->pid, signo);
}

static int send_signal(const target *t, const skc_opts *o, int signo, bool with_value)
{
    bool has_value = with_value && o->has_value;
    if (has_value && t->pidfd >= 0 && signo != 0)
        return sk_pidfd_sigqueue(t->pidfd, signo, o->value); /* --value 0 too */
    return send_one(t, signo, has_value, o->value);
}

static void report_sent(const skc_opts *o, const target *t)
{
    char w[48];
    if (o->quiet)
        return;
    target_word(t->pid, w, sizeof w);
    if (o->signo == 0)
        printf("%s: may be signalled\n", w);
    else if (o->has_value)
        printf("%s: %s sent with value %ld\n", w, sk_signame(o->signo), (long)o->value);
    else
        printf("%s: %s sent\n", w, sk_signame(o->signo));
}

/* ------------------------------------------------------------------ */
/* --timeout MS --then SIGNAL                                          */
/* ------------------------------------------------------------------ */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without a pidfd: gone when kill() says so or /proc shows a zombie (a
 * zombie has exited; it only waits for its parent). */
static bool exited_without_pidfd(pid_t pid)
{
    if (kill(pid, 0) < 0 && errno == ESRCH)
        return true;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the name may hold anything, even ')' */
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* One round: mark what has exited; returns how many still run. */
static int check_exits(target *ts, int n, int wait_ms)
{
    struct pollfd *pf = calloc((size_t)n, sizeof *pf);
    int alive = 0, polled = 0, unpinned = 0;
    if (!pf)
        return -ENOMEM;
    for (int k = 0; k < n; k++) {
        if (ts[k].err || ts[k].gone)
            continue;
        if (ts[k].pidfd >= 0)
            pf[polled++] = (struct pollfd){.fd = ts[k].pidfd, .events = POLLIN};
        else
            unpinned++;
    }
    /* Without pidfds nothing can wake us: look again every 10 ms. */
    int r = poll(pf, (nfds_t)polled, unpinned && (wait_ms < 0 || wait_ms > 10) ? 10 : wait_ms);
    (void)r;
    for (int k = 0, i = 0; k < n; k++) {
        if (ts[k].err || ts[k].gone)
            continue;
        if (ts[k].pidfd >= 0)
            ts[k].gone = (pf[i++].revents & (POLLIN | POLLHUP)) != 0;
        else
            ts[k].gone = exited_without_pidfd(ts[k].pid);
        alive += !ts[k].gone;
    }
    free(pf);
    return alive;
}

static void escalate(const skc_opts *o, target *ts, int n)
{
    long long deadline = now_ms() + o->timeout_ms;
    int alive;
    while ((alive = check_exits(ts, n, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0))) > 0 &&
           now_ms() < deadline)
        ;
    for (int k = 0; k < n; k++) {
        char w[48];
        target *t = &ts[k];
        if (t->err)
            continue;
        target_word(t->pid, w, sizeof w);
        if (t->gone) {
            if (!o->quiet)
                printf("%s: exited\n", w);
            continue;
        }
        int rc = send_signal(t, o, o->then_signo, false);
        if (rc == -ESRCH) { /* it exited in the last instant: what we wanted */
            if (!o->quiet)
                printf("%s: exited\n", w);
        } else if (rc < 0) {
            t->err = rc;
            report_error(t);
        } else if (!o->quiet) {
            printf("%s: still running after %d ms: %s sent\n", w, o->timeout_ms,
                   sk_signame(o->then_signo));
        }
    }
}

/* ------------------------------------------------------------------ */

int skc_send(const skc_opts *o)
{
    int n = o->npids, failed = 0;
    target *ts = calloc((size_t)n, sizeof *ts);
    if (!ts) {
        skc_error("send: %s", sk_strerror(-ENOMEM));
        return SKC_FAILED;
    }
    for (int k = 0; k < n; k++)
        ts[k].pid = o->pids[k];
    open_pidfds(ts, n);
    for (int k = 0; k < n; k++)
        if (ts[k].pid <= 0)
            shield_self(o->signo);

    for (int k = 0; k < n; k++) {
        if (!ts[k].err)
            ts[k].err = send_signal(&ts[k], o, o->signo, true);
        if (ts[k].err)
            report_error(&ts[k]);
        else
            report_sent(o, &ts[k]);
    }
    if (o->timeout_ms >= 0)
        escalate(o, ts, n);
    for (int k = 0; k < n; k++) {
        failed += ts[k].err != 0;
        if (ts[k].pidfd >= 0)
            close(ts[k].pidfd);
    }
    free(ts);
    return failed ? SKC_FAILED : SKC_OK;
}
