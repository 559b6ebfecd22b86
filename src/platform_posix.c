/*
 * Platform layer, portable POSIX: the doorbell is a non-blocking self-pipe
 * and the poll fd its read end; the timer is a helper thread that rings
 * the doorbell at the deadline.  No sigtimedwait fast path and no pidfd.
 * For the supervisor: children reaped with waitpid, fds closed one by one;
 * no parent-death signal, no subreaper, no list of children and no
 * notify sockets (-ENOSYS: it does without them).  Forced on Linux with
 * -DSK_PORTABLE=ON so the suite exercises it.
 */
#include "internal.h"
#include "platform.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const bool skp_have_sigwait = false;
const bool skp_have_requeue = false;

static int pipe_fds[2] = {-1, -1};

/* The timer thread: sleeps until `deadline`, rings, and waits for a new one. */
static pthread_mutex_t tlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tcond;
static int64_t deadline = INT64_MAX;
static bool fired, thread_up;

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    if (fl < 0 || fdfl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

int skp_bell_open(void)
{
    int err = 0;
    if (pipe(pipe_fds) < 0)
        return -errno;
    if ((err = set_flags(pipe_fds[0])) < 0 || (err = set_flags(pipe_fds[1])) < 0) {
        skp_bell_close();
        return err;
    }
    /* After fork() the timer thread is gone: start afresh. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    tlock = fresh;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&tcond, &ca);
    pthread_condattr_destroy(&ca);
    deadline = INT64_MAX;
    fired = false;
    thread_up = false;
    return 0;
}

void skp_bell_close(void)
{
    for (int i = 0; i < 2; i++) {
        if (pipe_fds[i] >= 0)
            close(pipe_fds[i]);
        pipe_fds[i] = -1;
    }
}

SK_SIGNAL_CONTEXT void skp_bell_ring(void)
{
    char b = 0;
    ssize_t r = write(pipe_fds[1], &b, 1); /* a full pipe is rung already */
    (void)r;
}

void skp_bell_clear(void)
{
    char buf[64];
    while (read(pipe_fds[0], buf, sizeof buf) > 0)
        ;
}

int skp_poll_fd(void)
{
    return pipe_fds[0];
}

static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *timer_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&tlock);
    for (;;) {
        if (deadline == INT64_MAX) {
            pthread_cond_wait(&tcond, &tlock);
            continue;
        }
        if (mono_now() >= deadline) {
            deadline = INT64_MAX;
            fired = true;
            skp_bell_ring();
            continue;
        }
        struct timespec ts = {deadline / 1000000000, deadline % 1000000000};
        pthread_cond_timedwait(&tcond, &tlock, &ts);
    }
    return NULL;
}

int skp_timer_arm(int64_t when)
{
    pthread_mutex_lock(&tlock);
    int err = 0;
    if (!thread_up && when != INT64_MAX) {
        pthread_t t;
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old); /* it must never take a signal */
        err = -pthread_create(&t, NULL, timer_main, NULL);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (err == 0) {
            pthread_detach(t);
            thread_up = true;
        }
    }
    deadline = when;
    pthread_cond_signal(&tcond);
    pthread_mutex_unlock(&tlock);
    return err;
}

void skp_timer_clear(void)
{
    pthread_mutex_lock(&tlock);
    fired = false;
    pthread_mutex_unlock(&tlock);
}

int skp_wait_fd(int timeout_ms, const sigset_t *mask)
{
    (void)mask; /* the portable build never blocks handled signals itself */
    struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    return r < 0 ? 1 : r;
}

int skp_sigtimedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
    (void)set;
    (void)si;
    (void)ts;
    return -ENOSYS;
}

SK_SIGNAL_CONTEXT pid_t skp_gettid(void)
{
    /* Without thread ids the fast path is off; the pid stands in. */
    return getpid();
}

SK_SIGNAL_CONTEXT int skp_queue_to_thread(pid_t tid, int signo, siginfo_t *si)
{
    (void)tid;
    (void)signo;
    (void)si;
    return -ENOSYS;
}

SK_SIGNAL_CONTEXT int skp_default_action_raw(int signo)
{
    (void)signo;
    return -ENOSYS; /* a C library with reserved signals is a Linux matter */
}

int skp_pidfd_open(pid_t pid)
{
    (void)pid;
    return -ENOSYS;
}

int skp_pidfd_send_signal(int pidfd, int signo, siginfo_t *info)
{
    (void)pidfd;
    (void)signo;
    (void)info;
    return -ENOSYS;
}

SK_SIGNAL_CONTEXT int skp_set_pdeathsig(int sig)
{
    (void)sig;
    return -ENOSYS;
}

int skp_set_subreaper(void)
{
    return -ENOSYS;
}

SK_SIGNAL_CONTEXT void skp_close_from(int first)
{
    /* No close_range: one close per possible fd, bounded so that a huge
     * limit does not cost seconds. */
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = first; fd < max; fd++)
        close(fd);
}

/* waitpid, not waitid: waitid's siginfo is unreliable on some systems
 * (si_pid or si_status left 0), and a status converts losslessly. */
int skp_reap(int pidfd, pid_t pid, siginfo_t *si)
{
    (void)pidfd; /* never >= 0 here: skp_pidfd_open() has none to give */
    memset(si, 0, sizeof *si);
    int status;
    pid_t r;
    do
        r = waitpid(pid > 0 ? pid : -1, &status, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return 0;
    si->si_signo = SIGCHLD;
    si->si_pid = r;
    if (WIFEXITED(status)) {
        si->si_code = CLD_EXITED;
        si->si_status = WEXITSTATUS(status);
    } else {
        si->si_code = CLD_KILLED;
        si->si_status = WTERMSIG(status);
#ifdef WCOREDUMP /* not POSIX, but nearly everywhere */
        if (WCOREDUMP(status))
            si->si_code = CLD_DUMPED;
#endif
    }
    return 0;
}

int skp_each_child(void (*fn)(pid_t pid, void *arg), void *arg)
{
    (void)fn;
    (void)arg;
    return -ENOSYS; /* POSIX has no way to list a process's children */
}

int skp_dup_cloexec(int fd, int to)
{
    if (dup2(fd, to) < 0)
        return -errno;
    if (fcntl(to, F_SETFD, FD_CLOEXEC) < 0) {
        int err = -errno;
        close(to);
        return err;
    }
    return to;
}

SK_SIGNAL_CONTEXT int skp_unix_addr(struct sockaddr_un *sa, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof sa->sun_path || (name[0] != '/' && name[0] != '@'))
        return -EINVAL;
    if (name[0] == '@')
        return -EAFNOSUPPORT; /* the abstract namespace is Linux's */
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, n);
    return (int)(offsetof(struct sockaddr_un, sun_path) + n);
}

/* Without F_SETSIG a datagram could only raise SIGIO (whose default kills)
 * and without credentials nobody could tell who sent it: no socket, and
 * workers are ready at the ready timeout. */
int skp_notify_socket(const char *name, pid_t owner, int sig)
{
    (void)name;
    (void)owner;
    (void)sig;
    return -ENOSYS;
}

ssize_t skp_notify_recv(int fd, char *buf, size_t size, pid_t *pid, uid_t *uid)
{
    (void)fd;
    (void)buf;
    (void)size;
    *pid = -1;
    *uid = (uid_t)-1;
    return -ENOSYS;
}
