/*
 * Platform layer, Linux: the doorbell is an eventfd, the timer a timerfd,
 * both in one epoll set whose fd is sk_fd().  The fast path waits with
 * sigtimedwait(2), so a signal that finds the dispatcher asleep costs no
 * signal frame and no doorbell write.  The supervisor's children die with
 * it (PR_SET_PDEATHSIG), orphans come to it (PR_SET_CHILD_SUBREAPER), are
 * reaped by pidfd and listed from /proc; its workers' NOTIFY_SOCKETs are
 * abstract sockets that signal it (F_SETSIG) and name senders (SO_PASSCRED).
 */
#include "internal.h"
#include "platform.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

const bool skp_have_sigwait = true;

#if !SK_TSAN
/* Contended: mark the word 2 so the holder wakes us, and sleep while it
 * stays taken. */
void skp_mutex_lock_slow(skp_mutex *m)
{
    int c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    while (c != 0) {
        syscall(SYS_futex, &m->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
        c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
    }
}

void skp_mutex_wake(skp_mutex *m)
{
    syscall(SYS_futex, &m->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
#endif
const bool skp_have_requeue = true;

static int bell_fd = -1, timer_fd = -1, epoll_fd = -1;

static void close_all(void)
{
    int *fds[] = {&bell_fd, &timer_fd, &epoll_fd};
    for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

static int add_to_epoll(int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

int skp_bell_open(void)
{
    bell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (bell_fd < 0 || timer_fd < 0 || epoll_fd < 0 || add_to_epoll(bell_fd) < 0 ||
        add_to_epoll(timer_fd) < 0) {
        int err = errno;
        close_all();
        return -err;
    }
    return 0;
}

void skp_bell_close(void)
{
    close_all();
}

SK_SIGNAL_CONTEXT void skp_bell_ring(void)
{
    uint64_t one = 1;
    /* EAGAIN only when the counter is at its maximum: it is rung anyway. */
    ssize_t r = write(bell_fd, &one, sizeof one);
    (void)r;
}

void skp_bell_clear(void)
{
    uint64_t n;
    ssize_t r = read(bell_fd, &n, sizeof n);
    (void)r;
}

int skp_poll_fd(void)
{
    return epoll_fd;
}

int skp_timer_arm(int64_t deadline_ns)
{
    struct itimerspec its = {0};
    if (deadline_ns != INT64_MAX) {
        if (deadline_ns <= 0)
            deadline_ns = 1; /* 0 would disarm */
        its.it_value.tv_sec = deadline_ns / 1000000000;
        its.it_value.tv_nsec = deadline_ns % 1000000000;
    }
    if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        return -errno;
    return 0;
}

void skp_timer_clear(void)
{
    uint64_t n;
    ssize_t r = read(timer_fd, &n, sizeof n);
    (void)r;
}

int skp_wait_fd(int timeout_ms, const sigset_t *mask)
{
    struct pollfd p = {.fd = epoll_fd, .events = POLLIN};
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
    int r = ppoll(&p, 1, timeout_ms < 0 ? NULL : &ts, mask);
    return r < 0 ? 1 : r; /* EINTR: a handler ran; the caller looks again */
}

int skp_sigtimedwait(const sigset_t *set, siginfo_t *si, const struct timespec *ts)
{
    int r = sigtimedwait(set, si, ts);
    return r < 0 ? -errno : r;
}

SK_SIGNAL_CONTEXT pid_t skp_gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

SK_SIGNAL_CONTEXT int skp_queue_to_thread(pid_t tid, int signo, siginfo_t *si)
{
    if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, signo, si) < 0)
        return -errno;
    return 0;
}

/* The kernel's struct sigaction (not the C library's): handler, flags,
 * restorer, mask of _NSIG bits. */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask[(_NSIG + 8 * sizeof(unsigned long) - 2) / (8 * sizeof(unsigned long))];
};

SK_SIGNAL_CONTEXT int skp_default_action_raw(int signo)
{
    struct kernel_sigaction ksa = {.handler = SIG_DFL};
    if (syscall(SYS_rt_sigaction, signo, &ksa, NULL, (_NSIG - 1) / 8) < 0)
        return -errno;
    return 0;
}

int skp_pidfd_open(pid_t pid)
{
    long fd = syscall(SYS_pidfd_open, pid, 0);
    return fd < 0 ? -errno : (int)fd;
}

int skp_pidfd_send_signal(int pidfd, int signo, siginfo_t *info)
{
    if (syscall(SYS_pidfd_send_signal, pidfd, signo, info, 0) < 0)
        return -errno;
    return 0;
}

SK_SIGNAL_CONTEXT int skp_set_pdeathsig(int sig)
{
    return prctl(PR_SET_PDEATHSIG, sig) < 0 ? -errno : 0;
}

int skp_set_subreaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 ? -errno : 0;
}

SK_SIGNAL_CONTEXT void skp_close_from(int first)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
        return;
#endif
    /* Kernels before 5.9: one close per possible fd, bounded so that a huge
     * limit does not cost seconds. */
    struct rlimit rl;
    int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
    for (int fd = first; fd < max; fd++)
        close(fd);
}

int skp_reap(int pidfd, pid_t pid, siginfo_t *si)
{
    memset(si, 0, sizeof *si); /* si_pid stays 0 when nobody has exited */
    int r = pidfd >= 0 ? waitid((idtype_t)P_PIDFD, (id_t)pidfd, si, WEXITED | WNOHANG)
            : pid > 0  ? waitid(P_PID, (id_t)pid, si, WEXITED | WNOHANG)
                       : waitid(P_ALL, 0, si, WEXITED | WNOHANG);
    return r < 0 ? -errno : 0;
}

/* Each thread has its own children list (a child's parent is the thread
 * that forked it), so all of /proc/self/task is read. */
int skp_each_child(void (*fn)(pid_t pid, void *arg), void *arg)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -errno;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%.32s/children", de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        long pid;
        while (fscanf(f, "%ld", &pid) == 1) {
            fn((pid_t)pid, arg);
            n++;
        }
        fclose(f);
    }
    closedir(d);
    return n;
}

int skp_dup_cloexec(int fd, int to)
{
    return dup3(fd, to, O_CLOEXEC) < 0 ? -errno : to;
}

SK_SIGNAL_CONTEXT int skp_unix_addr(struct sockaddr_un *sa, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof sa->sun_path || (name[0] != '/' && name[0] != '@'))
        return -EINVAL;
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, name, n);
    if (name[0] == '@')
        sa->sun_path[0] = '\0'; /* abstract namespace: the length ends the name */
    return (int)(offsetof(struct sockaddr_un, sun_path) + n);
}

/* Abstract, so there is nothing to clean up if the master is killed.  An
 * arrival signals the owner (O_ASYNC) with `sig`, chosen with F_SETSIG:
 * the supervisor passes SIGCHLD, which it handles anyway and whose default
 * is to ignore, so an arrival still pending once it has released its
 * handlers cannot kill the process (SIGIO, the default, would). */
int skp_notify_socket(const char *name, pid_t owner, int sig)
{
    struct sockaddr_un sa;
    int len = skp_unix_addr(&sa, name);
    if (len < 0)
        return len;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, (struct sockaddr *)&sa, (socklen_t)len) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int)) < 0 ||
        fcntl(fd, F_SETOWN, (int)owner) < 0 || fcntl(fd, F_SETSIG, sig) < 0 ||
        fcntl(fd, F_SETFL, O_NONBLOCK | O_ASYNC) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

ssize_t skp_notify_recv(int fd, char *buf, size_t size, pid_t *pid, uid_t *uid)
{
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = size};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.bytes,
                        .msg_controllen = sizeof ctl.bytes};
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    *pid = -1;
    *uid = (uid_t)-1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
            continue;
        struct ucred cred;
        memcpy(&cred, CMSG_DATA(c), sizeof cred);
        *pid = cred.pid;
        *uid = cred.uid;
        break;
    }
    return n;
}
