/*
 * supervise.c - the pre-fork master and container init behind `sigkit run`.
 *
 * Everything here runs in normal context: the master's signal handlers are
 * sigkit's deferred handlers, run by sk_wait() in the thread that called
 * sk_supervisor_run().  So the state below needs no locks and no
 * async-signal-safety, except child_main() and what it calls, which run in
 * a forked child between fork and exec (marked "child context").
 *
 * The master sleeps in a single sk_wait(-1): children exits arrive as
 * SIGCHLD, worker readiness too (their NOTIFY_SOCKETs signal SIGCHLD on
 * arrival, see skp_notify_socket), deadlines as sigkit timers.  With
 * nothing pending the wait has no timeout, so an idle master makes no
 * system calls.
 *
 * What only some systems have (parent-death signal, subreaper, pidfds,
 * the list of our children, notify sockets) comes through the platform
 * layer (platform.h); where it answers -ENOSYS the supervisor does without.
 */
#include "supervise.h"
#include "platform.h"

#include <sigkit.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HEALTHY_UPTIME 5.0 /* a worker that ran this long was not crash-looping */
#define BACKOFF_FIRST 0.1
#define BACKOFF_MAX 30.0
#define FAST_STOP 1.0      /* QUIT: seconds from TERM to KILL */
#define MAX_CONNECTIONS 80

enum { RUN, GRACEFUL, FAST };

typedef struct sk_supervisor sk_supervisor;

typedef struct worker {
    struct worker *next;
    sk_supervisor *sup;
    unsigned id;
    pid_t pid;
    int pidfd;                /* -1 without pidfds: then the unreaped pid is just as safe */
    int nfd;                  /* its NOTIFY_SOCKET, read by the master; -1 in init mode */
    double started;
    int ready, termed, retiring, in_reload;
    struct worker *replaces;    /* HUP: the old worker it relieves once ready */
    struct worker *replaced_by; /* the reverse link */
    sk_timer *timer;            /* ready timeout, then the KILL deadline */
} worker;

struct sk_supervisor {
    sk_supervise_opts o;
    char *exe;                /* argv[0] resolved along PATH */
    sk_listener ls[SK_SUP_MAX_LISTEN];
    int nls;
    worker *ws;
    unsigned next_id;
    int want;
    int state;
    int done;
    int exit_code;
    pid_t self;
    int conn[MAX_CONNECTIONS];
    int nconn;
    char **base_env;          /* environ minus what the supervisor sets itself */
    size_t nbase;
    char *notify_to;          /* our own $NOTIFY_SOCKET (--notify) */
    int announced;            /* READY=1 sent upwards */
    int pidfile_written;
    double backoff, spawn_after;
    sk_timer *spawn_timer, *stop_timer;
    int reload_pending, reload_failed, reload_done_ok;
    /* init mode */
    worker *main;
    int stopping, main_done, no_children, orphans_termed, killing, group_forwarded;
    pid_t pgid;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 2, 3))) static void say(sk_supervisor *s, const char *fmt, ...)
{
    if (s->o.quiet)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sigkit run[%d]: %s\n", (int)s->self, buf);
}

__attribute__((format(printf, 2, 3))) static void notify_up(sk_supervisor *s, const char *fmt, ...)
{
    if (!s->o.notify || !s->notify_to)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int err = sk__notify_to(s->notify_to, buf, (size_t)n);
    if (err < 0)
        say(s, "sd_notify to %s failed: %s", s->notify_to, sk_strerror(err));
}

static const char *signame(int sig)
{
    const char *n = sk_signame(sig);
    return n ? n : "signal?";
}

/* The shell's convention: k for exit k, 128+N for death by signal N. */
static int status_code(const siginfo_t *si)
{
    return si->si_code == CLD_EXITED ? (si->si_status & 255) : 128 + si->si_status;
}

static void describe(const siginfo_t *si, char *buf, size_t size)
{
    if (si->si_code == CLD_EXITED)
        snprintf(buf, size, "exited with status %d", si->si_status);
    else
        snprintf(buf, size, "killed by %s%s", signame(si->si_status),
                 si->si_code == CLD_DUMPED ? " (core dumped)" : "");
}

/* Resolve argv[0] as execvp would, in the parent, so that the child needs
 * no allocation and "not found" / "not executable" are known up front. */
static int resolve_exe(const char *name, char **out)
{
    struct stat st;
    if (strchr(name, '/')) {
        if (stat(name, &st) < 0)
            return -errno;
        if (!S_ISREG(st.st_mode) || access(name, X_OK) < 0)
            return -EACCES;
        return (*out = strdup(name)) ? 0 : -ENOMEM;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    int err = -ENOENT;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char full[4096];
        if (len + strlen(name) + 2 < sizeof full) {
            snprintf(full, sizeof full, "%.*s/%s", (int)len, len ? p : ".", name);
            if (stat(full, &st) == 0) {
                if (S_ISREG(st.st_mode) && access(full, X_OK) == 0)
                    return (*out = strdup(full)) ? 0 : -ENOMEM;
                err = -EACCES;
            }
        }
        p += len + (end ? 1 : 0);
    }
    return err;
}

/* ------------------------------------------------------------------ */
/* Starting a child                                                    */
/* ------------------------------------------------------------------ */

/* What a child needs, all prepared before fork so the child allocates nothing. */
typedef struct plan {
    char **envp;
    char *pid_digits;  /* inside the LISTEN_PID= string, filled in by the child */
    char listen_pid[40], listen_fds[32], fdnames[64 + SK_SUP_MAX_LISTEN * 16];
    char notify[80];
    pid_t parent;
    int tty_fg;
    int own_nfd;       /* the master's end of this worker's NOTIFY_SOCKET */
} plan;

static int env_is_ours(const sk_supervisor *s, const char *e)
{
    static const char *const worker_vars[] = {"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=",
                                              "LISTEN_PIDFDID=", "NOTIFY_SOCKET="};
    if (s->o.mode == SK_SUPERVISE_INIT) /* an init passes everything on, LISTEN_* included */
        return s->o.notify && strncmp(e, "NOTIFY_SOCKET=", 14) == 0;
    for (size_t i = 0; i < sizeof worker_vars / sizeof *worker_vars; i++)
        if (strncmp(e, worker_vars[i], strlen(worker_vars[i])) == 0)
            return 1;
    return 0;
}

static int build_base_env(sk_supervisor *s)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    s->base_env = calloc(n + 1, sizeof *s->base_env);
    if (!s->base_env)
        return -ENOMEM;
    for (char **e = environ; e && *e; e++)
        if (!env_is_ours(s, *e))
            s->base_env[s->nbase++] = *e;
    return 0;
}

static int prepare_plan(sk_supervisor *s, plan *p, const char *notify_name)
{
    memset(p, 0, sizeof *p);
    p->parent = s->self;
    p->envp = calloc(s->nbase + 5, sizeof *p->envp);
    if (!p->envp)
        return -ENOMEM;
    memcpy(p->envp, s->base_env, s->nbase * sizeof *p->envp);
    size_t n = s->nbase;
    if (s->nls > 0) {
        strcpy(p->listen_pid, "LISTEN_PID=");
        p->pid_digits = p->listen_pid + strlen(p->listen_pid);
        snprintf(p->listen_fds, sizeof p->listen_fds, "LISTEN_FDS=%d", s->nls);
        size_t off = (size_t)snprintf(p->fdnames, sizeof p->fdnames, "LISTEN_FDNAMES=");
        for (int i = 0; i < s->nls; i++)
            off += (size_t)snprintf(p->fdnames + off, sizeof p->fdnames - off, "%s%s",
                                    i ? ":" : "", s->ls[i].name);
        p->envp[n++] = p->listen_pid;
        p->envp[n++] = p->listen_fds;
        p->envp[n++] = p->fdnames;
    }
    if (notify_name) {
        snprintf(p->notify, sizeof p->notify, "NOTIFY_SOCKET=%s", notify_name);
        p->envp[n++] = p->notify;
    }
    p->envp[n] = NULL;
    return 0;
}

/* Child context (async-signal-safe). */
static void put_uint(char *dst, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n > 0)
        *dst++ = tmp[--n];
    *dst = '\0';
}

/* Child context (async-signal-safe): a message on stderr, best effort. */
static void put_err(const char *text)
{
    ssize_t r = write(2, text, strlen(text));
    (void)r;
}

/* Child context: listener i onto fd 3+i, close-on-exec cleared.  They go
 * through fds above the final range first, so that moving one never
 * overwrites another that has not moved yet. */
static void place_listeners(const sk_supervisor *s, int in_process)
{
    int tmp[SK_SUP_MAX_LISTEN];
    int n = s->nls;
    for (int i = 0; i < n; i++)
        tmp[i] = fcntl(s->ls[i].fd, F_DUPFD_CLOEXEC, 3 + n);
    for (int i = 0; i < n; i++) {
        if (tmp[i] < 0 || dup2(tmp[i], 3 + i) < 0)
            _exit(126);
        if (in_process)
            close(tmp[i]);
    }
    if (in_process)
        for (int i = 0; i < n; i++)
            if (s->ls[i].fd >= 3 + n)
                close(s->ls[i].fd);
}

/* Child context up to the exec.  An in-process worker (worker_fn) is the
 * exception: after fork of a single-threaded master it may call anything,
 * as any forking server's child does. */
__attribute__((noreturn)) static void child_main(sk_supervisor *s, plan *p)
{
    /* Die with the master.  Set first, then check the parent: a master that
     * died before the setting would otherwise never deliver it.  Without
     * the facility (-ENOSYS) only the check is left. */
    int err = skp_set_pdeathsig(SIGKILL);
    if ((err < 0 && err != -ENOSYS) || getppid() != p->parent)
        _exit(1);
    if (s->o.mode == SK_SUPERVISE_INIT && s->o.group) {
        setpgid(0, 0);
        if (p->tty_fg) /* SIGTTOU is blocked here (fork blocks all), so this cannot stop us */
            tcsetpgrp(0, getpid());
    }
    if (s->o.mode == SK_SUPERVISE_WORKERS) {
        /* Out of the terminal's process group: ^C (or a kill of the job)
         * reaches the master, which stops the workers gracefully, and not
         * the workers directly, which would die mid-request. */
        setpgid(0, 0);
        place_listeners(s, s->o.worker_fn != NULL);
    }
    if (p->pid_digits)
        put_uint(p->pid_digits, (unsigned long)getpid());
    if (s->o.worker_fn) {
        for (worker *w = s->ws; w; w = w->next) {
            if (w->pidfd >= 0)
                close(w->pidfd);
            if (w->nfd >= 0)
                close(w->nfd);
        }
        if (p->own_nfd >= 0)
            close(p->own_nfd);
        for (int i = 0; i < s->nconn; i++)
            sk_disconnect(s->conn[i]);
        environ = p->envp;
        sk_child_reset();
        _exit(s->o.worker_fn(s->o.worker_arg) & 255);
    }
    if (s->o.mode == SK_SUPERVISE_WORKERS)
        skp_close_from(3 + s->nls); /* no pidfd, notify socket or inherited fd leaks */
    sk_child_reset();
    execve(s->exe, s->o.argv, p->envp);
    err = errno;
    static const char pre[] = "sigkit run: cannot execute ";
    char num[32] = "errno ";
    put_uint(num + 6, (unsigned long)err);
    /* strerror() may allocate or take locks: not in a child before exec. */
    const char *why = err == ENOENT    ? "No such file or directory"
                      : err == EACCES  ? "Permission denied"
                      : err == ENOEXEC ? "Exec format error"
                      : err == E2BIG   ? "Argument list too long"
                      : err == ENOMEM  ? "Cannot allocate memory"
                                       : num;
    put_err(pre);
    put_err(s->exe);
    put_err(": ");
    put_err(why);
    put_err("\n");
    _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

/* A worker's NOTIFY_SOCKET, named after the master and the worker.  A
 * message wakes the master with SIGCHLD, because the master handles it
 * anyway and its default is to ignore: an arrival still pending when the
 * master has released its handlers cannot kill the process. */
static int open_notify_socket(sk_supervisor *s, unsigned id, char *name, size_t size)
{
    snprintf(name, size, "@sigkit-%d-%u", (int)s->self, id);
    return skp_notify_socket(name, s->self, SIGCHLD);
}

static void ready_timeout_cb(const sk_info *info, void *arg);

/* Fork a child that runs child_main(p).  Every signal is blocked across
 * the fork, and stays blocked in the child until sk_child_reset(): a TERM
 * sent to the new pid at once must not be caught by the master's handlers,
 * which the child still has until then (it would be lost there); blocked,
 * it waits and then takes its default action. */
static pid_t fork_child(sk_supervisor *s, plan *p)
{
    fflush(NULL); /* buffered output must not be written twice */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        child_main(s, p);
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return pid;
}

static void worker_ready(sk_supervisor *s, worker *w, const char *how);

/* Track a child just forked: pidfd, list, ready deadline. */
static void track(sk_supervisor *s, worker *w, pid_t pid, worker *replaces)
{
    if (s->o.mode == SK_SUPERVISE_INIT && s->o.group)
        setpgid(pid, pid); /* also here: no signal to the group before the child ran */
    w->pid = pid;
    w->started = now_s();
    /* Right after fork: the child cannot have been reaped yet (only we reap
     * it), so this pidfd is for our child and no other process. */
    int fd = sk_pidfd_open(pid);
    w->pidfd = fd >= 0 ? fd : -1;
    w->replaces = replaces;
    if (replaces)
        replaces->replaced_by = w;
    worker **tail = &s->ws;
    while (*tail)
        tail = &(*tail)->next;
    *tail = w;
    if (s->o.mode == SK_SUPERVISE_INIT) {
        say(s, "started %s as pid %d", s->o.argv[0], (int)pid);
        return;
    }
    say(s, "worker %d started", (int)pid);
    int err = sk_timer_start(&w->timer, s->o.ready_timeout, 0, ready_timeout_cb, w);
    if (err < 0) { /* no deadline possible: do not let a reload wait for ever */
        say(s, "worker %d: no ready timer (%s)", (int)pid, sk_strerror(err));
        worker_ready(s, w, "no ready timer");
    }
}

static worker *spawn(sk_supervisor *s, worker *replaces)
{
    worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    *w = (worker){.sup = s, .id = ++s->next_id, .pidfd = -1, .nfd = -1};
    char name[64];
    int err = 0;
    if (s->o.mode == SK_SUPERVISE_WORKERS) {
        w->nfd = open_notify_socket(s, w->id, name, sizeof name);
        err = w->nfd < 0 && w->nfd != -ENOSYS ? w->nfd : 0;
        if (w->nfd < 0) /* -ENOSYS: no NOTIFY_SOCKET; ready at the ready timeout */
            w->nfd = -1;
    }
    plan p;
    if (err == 0)
        err = prepare_plan(s, &p, w->nfd >= 0 ? name : NULL);
    pid_t pid = -1;
    if (err == 0) {
        p.tty_fg = s->o.group && isatty(0) && tcgetpgrp(0) == getpgrp();
        p.own_nfd = w->nfd;
        pid = fork_child(s, &p);
        err = pid < 0 ? -errno : 0;
        free(p.envp);
    }
    if (err < 0) {
        say(s, "cannot start a worker: %s", sk_strerror(err));
        if (w->nfd >= 0)
            close(w->nfd);
        free(w);
        return NULL;
    }
    track(s, w, pid, replaces);
    return w;
}

/* ------------------------------------------------------------------ */
/* Signalling children                                                 */
/* ------------------------------------------------------------------ */

/* By pidfd where there is one; else by pid, which is safe for an unreaped
 * child of ours (its pid cannot be reused before we reap it). */
static int send_to(worker *w, int sig, intptr_t value)
{
    if (w->pidfd >= 0)
        return sk_pidfd_send(w->pidfd, sig, value);
    return value ? sk_sigqueue(w->pid, sig, value) : sk_kill(w->pid, sig);
}

static void stop_timer(sk_timer **t)
{
    if (*t) {
        sk_timer_stop(*t);
        *t = NULL;
    }
}

static void kill_deadline_cb(const sk_info *info, void *arg)
{
    (void)info;
    worker *w = arg;
    stop_timer(&w->timer);
    say(w->sup, "worker %d still running %.1f s after TERM: KILL", (int)w->pid,
        w->sup->o.graceful_timeout);
    send_to(w, SIGKILL, 0);
}

/* Ask a worker to leave (HUP's old ones, TTOU): TERM now, KILL at the
 * graceful timeout. */
static void retire(sk_supervisor *s, worker *w, const char *why)
{
    if (w->retiring)
        return;
    w->retiring = 1;
    if (w->replaced_by) { /* its replacement now stands on its own */
        w->replaced_by->replaces = NULL;
        w->replaced_by = NULL;
    }
    say(s, "worker %d: TERM (%s)", (int)w->pid, why);
    if (!w->termed)
        send_to(w, SIGTERM, 0);
    w->termed = 1;
    stop_timer(&w->timer);
    int err = sk_timer_start(&w->timer, s->o.graceful_timeout, 0, kill_deadline_cb, w);
    if (err < 0) /* without a deadline, no graceful wait: KILL now, never hang */
        kill_deadline_cb(NULL, w);
}

/* ------------------------------------------------------------------ */
/* Readiness                                                           */
/* ------------------------------------------------------------------ */

static int active_count(const sk_supervisor *s)
{
    int n = 0;
    for (const worker *w = s->ws; w; w = w->next)
        n += !w->retiring && !w->replaces;
    return n;
}

static void check_reload_done(sk_supervisor *s)
{
    if (s->reload_pending > 0 || !s->reload_done_ok)
        return;
    s->reload_done_ok = 0;
    if (s->state != RUN)
        return; /* a stop overtook the reload: READY=1 would be a lie */
    if (s->reload_failed)
        say(s, "reload failed: %d new worker(s) died before ready; the old ones keep serving",
            s->reload_failed);
    else
        say(s, "reload done");
    notify_up(s, "READY=1");
}

static void announce_if_ready(sk_supervisor *s)
{
    if (s->announced || s->state != RUN)
        return;
    int ready = 0;
    for (worker *w = s->ws; w; w = w->next)
        ready += w->ready && !w->retiring;
    if (ready >= s->want) {
        s->announced = 1;
        say(s, "%d worker(s) ready", ready);
        notify_up(s, "MAINPID=%d\nREADY=1", (int)s->self);
    }
}

static void reload_member_settled(sk_supervisor *s, worker *w)
{
    if (!w->in_reload)
        return;
    w->in_reload = 0;
    s->reload_pending--;
    check_reload_done(s);
}

static void worker_ready(sk_supervisor *s, worker *w, const char *how)
{
    if (w->ready)
        return;
    w->ready = 1;
    stop_timer(&w->timer);
    say(s, "worker %d ready (%s)", (int)w->pid, how);
    if (w->replaces)
        retire(s, w->replaces, "replaced by a ready worker");
    reload_member_settled(s, w);
    announce_if_ready(s);
}

static void ready_timeout_cb(const sk_info *info, void *arg)
{
    (void)info;
    worker *w = arg;
    worker_ready(w->sup, w, "ready timeout");
}

/* Abstract sockets have no file permissions: anyone in the network
 * namespace could send to one.  The kernel's credentials say who did; the
 * worker itself, root and our own user are believed.  A message without
 * credentials is ignored silently. */
static int sender_trusted(sk_supervisor *s, worker *w, pid_t pid, uid_t uid)
{
    if (pid == -1 && uid == (uid_t)-1)
        return 0;
    if (pid == w->pid || uid == 0 || uid == geteuid())
        return 1;
    say(s, "worker %d: sd_notify message from pid %d uid %d ignored", (int)w->pid, (int)pid,
        (int)uid);
    return 0;
}

/* Each datagram: systemd's newline-separated KEY=VALUE list.  Only READY=1
 * means something here; a worker's STOPPING=1 is never passed up. */
static void read_notify(sk_supervisor *s, worker *w)
{
    char buf[4096];
    for (;;) {
        pid_t pid;
        uid_t uid;
        ssize_t n = skp_notify_recv(w->nfd, buf, sizeof buf - 1, &pid, &uid);
        if (n < 0)
            return;
        if (!sender_trusted(s, w, pid, uid))
            continue;
        buf[n] = '\0';
        for (char *line = buf; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (strcmp(line, "READY=1") == 0)
                worker_ready(s, w, "READY=1");
            line = nl ? nl + 1 : NULL;
        }
    }
}

static void read_all_notify(sk_supervisor *s)
{
    for (worker *w = s->ws; w; w = w->next)
        if (w->nfd >= 0 && !w->retiring)
            read_notify(s, w);
}

/* ------------------------------------------------------------------ */
/* Keeping the count: respawn with backoff, scale                      */
/* ------------------------------------------------------------------ */

static void reconcile(sk_supervisor *s);

static void spawn_timer_cb(const sk_info *info, void *arg)
{
    (void)info;
    sk_supervisor *s = arg;
    stop_timer(&s->spawn_timer);
    reconcile(s);
}

/* The oldest worker that counts, preferring one no HUP is replacing. */
static worker *oldest_active(sk_supervisor *s)
{
    worker *fallback = NULL;
    for (worker *w = s->ws; w; w = w->next) {
        if (w->retiring || w->replaces)
            continue;
        if (!w->replaced_by)
            return w;
        if (!fallback)
            fallback = w;
    }
    return fallback;
}

static void reconcile(sk_supervisor *s)
{
    if (s->state != RUN || s->o.mode != SK_SUPERVISE_WORKERS)
        return;
    for (int guard = 0; active_count(s) > s->want && guard < 4096; guard++) {
        worker *w = oldest_active(s);
        if (!w)
            break;
        retire(s, w, "scaled down");
    }
    int missing = s->want - active_count(s);
    if (missing <= 0)
        return;
    double t = now_s();
    if (t < s->spawn_after) {
        if (!s->spawn_timer)
            sk_timer_start(&s->spawn_timer, s->spawn_after - t, 0, spawn_timer_cb, s);
        return;
    }
    for (int i = 0; i < missing; i++)
        if (!spawn(s, NULL)) { /* fork failed: try again later, backed off */
            s->backoff = s->backoff ? s->backoff * 2 : BACKOFF_FIRST;
            if (s->backoff > BACKOFF_MAX)
                s->backoff = BACKOFF_MAX;
            s->spawn_after = now_s() + s->backoff;
            if (!s->spawn_timer)
                sk_timer_start(&s->spawn_timer, s->backoff, 0, spawn_timer_cb, s);
            return;
        }
}

/* Health is judged when a worker exits, from when it started: no timer is
 * needed to notice that a worker has been fine for a while. */
static void note_death_for_backoff(sk_supervisor *s, const worker *w)
{
    double t = now_s();
    if (w->ready && t - w->started >= HEALTHY_UPTIME) {
        s->backoff = 0;
        return;
    }
    s->backoff = s->backoff ? s->backoff * 2 : BACKOFF_FIRST;
    if (s->backoff > BACKOFF_MAX)
        s->backoff = BACKOFF_MAX;
    s->spawn_after = t + s->backoff;
    say(s, "worker %d died %s after %.2f s: respawn delayed %.1f s", (int)w->pid,
        w->ready ? "young" : "before ready", t - w->started, s->backoff);
}

static void unlink_worker(sk_supervisor *s, worker *w)
{
    for (worker **pp = &s->ws; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    stop_timer(&w->timer);
    if (w->pidfd >= 0)
        close(w->pidfd);
    if (w->nfd >= 0)
        close(w->nfd);
    free(w);
}

static void check_done(sk_supervisor *s)
{
    if (s->o.mode == SK_SUPERVISE_WORKERS && s->state != RUN && !s->ws) {
        s->done = 1;
        s->exit_code = 0;
    }
}

static void worker_exited(sk_supervisor *s, worker *w, const siginfo_t *si)
{
    char how[96];
    describe(si, how, sizeof how);
    say(s, "worker %d %s", (int)w->pid, how);
    if (w->replaced_by) { /* died while a HUP replacement was starting: that one takes over */
        w->replaced_by->replaces = NULL;
        w->replaced_by = NULL;
    }
    if (w->replaces) { /* a HUP replacement that never got ready */
        say(s, "reload: new worker %d died before ready; old worker %d keeps serving",
            (int)w->pid, (int)w->replaces->pid);
        w->replaces->replaced_by = NULL;
        w->replaces = NULL;
        s->reload_failed++;
    } else if (!w->retiring && s->state == RUN) {
        note_death_for_backoff(s, w);
    }
    int was_reload = w->in_reload;
    w->in_reload = 0;
    unlink_worker(s, w);
    if (was_reload) {
        s->reload_pending--;
        check_reload_done(s);
    }
    reconcile(s);
    check_done(s);
}

/* ------------------------------------------------------------------ */
/* Reaping                                                             */
/* ------------------------------------------------------------------ */

static worker *find_pid(sk_supervisor *s, pid_t pid)
{
    for (worker *w = s->ws; w; w = w->next)
        if (w->pid == pid)
            return w;
    return NULL;
}

/* Only our own workers, one by one through their pidfds: a library that
 * forked children of its own in the same process keeps them. */
static void reap_workers(sk_supervisor *s)
{
    for (worker *w = s->ws, *next; w; w = next) {
        next = w->next;
        siginfo_t si;
        int r = skp_reap(w->pidfd, w->pid, &si);
        if (r == 0 && si.si_pid != 0)
            worker_exited(s, w, &si);
        else if (r == -ECHILD) /* reaped elsewhere (SIGCHLD ignored?) */
            worker_exited(s, w, &(siginfo_t){.si_code = CLD_KILLED, .si_status = 0});
    }
}

static void init_child_exited(sk_supervisor *s, const siginfo_t *si);

/* As subreaper / init: every zombie is ours to reap, orphans included. */
static void reap_all(sk_supervisor *s)
{
    for (;;) {
        siginfo_t si;
        int r = skp_reap(-1, -1, &si);
        if (r < 0) {
            if (r == -EINTR)
                continue;
            s->no_children = 1; /* ECHILD */
            return;
        }
        if (si.si_pid == 0)
            return;
        worker *w = find_pid(s, si.si_pid);
        if (s->o.mode == SK_SUPERVISE_INIT)
            init_child_exited(s, &si);
        else if (w)
            worker_exited(s, w, &si);
    }
}

/* ------------------------------------------------------------------ */
/* Init mode                                                           */
/* ------------------------------------------------------------------ */

typedef struct signal_job {
    sk_supervisor *s;
    int sig, sent;
} signal_job;

static void signal_one_child(pid_t pid, void *arg)
{
    signal_job *j = arg;
    if (j->s->main && pid == j->s->main->pid && !j->s->main_done)
        return; /* the main child is signalled through its pidfd */
    if (kill(pid, j->sig) == 0)
        j->sent++;
}

/* Our direct children (orphans re-parented to us as subreaper included).
 * Signalling them by pid is safe: an unreaped child keeps its pid.  Where
 * they cannot be listed (-ENOSYS) there is no subreaper either, so the
 * only child is the main one, signalled on its own. */
static int signal_direct_children(sk_supervisor *s, int sig)
{
    signal_job j = {.s = s, .sig = sig};
    skp_each_child(signal_one_child, &j);
    return j.sent;
}

static void init_kill_cb(const sk_info *info, void *arg)
{
    (void)info;
    sk_supervisor *s = arg;
    stop_timer(&s->stop_timer);
    s->killing = 1;
    say(s, "graceful timeout (%.1f s): KILL every descendant left", s->o.graceful_timeout);
    if (!s->main_done) {
        send_to(s->main, SIGKILL, 0);
        if (s->o.group)
            kill(-s->pgid, SIGKILL);
    }
    signal_direct_children(s, SIGKILL);
}

static void arm_stop_timer(sk_supervisor *s, double after, sk_handler fn)
{
    stop_timer(&s->stop_timer);
    if (sk_timer_start(&s->stop_timer, after, 0, fn, s) < 0)
        fn(NULL, s); /* without a deadline, no graceful wait: never hang */
}

/* After the main child: wait for every other descendant (they got TERM
 * once), then leave with the main child's status. */
static void init_after_reap(sk_supervisor *s)
{
    if (!s->main_done)
        return;
    if (s->no_children) {
        s->done = 1;
        return;
    }
    if (s->killing) { /* orphans re-parented since the KILL */
        signal_direct_children(s, SIGKILL);
        return;
    }
    if (!s->orphans_termed) {
        s->orphans_termed = 1;
        int n = s->group_forwarded ? 0 : signal_direct_children(s, SIGTERM);
        say(s, "main child gone; waiting up to %.1f s for the other descendants%s",
            s->o.graceful_timeout, n ? " (sent TERM)" : "");
        if (!s->stop_timer)
            arm_stop_timer(s, s->o.graceful_timeout, init_kill_cb);
    }
}

static void init_child_exited(sk_supervisor *s, const siginfo_t *si)
{
    if (!s->main || si->si_pid != s->main->pid || s->main_done)
        return; /* an orphan: reaped, nothing more */
    char how[96];
    describe(si, how, sizeof how);
    say(s, "%s (pid %d) %s", s->o.argv[0], (int)si->si_pid, how);
    s->main_done = 1;
    s->exit_code = status_code(si);
    if (s->main->pidfd >= 0)
        close(s->main->pidfd);
    s->main->pidfd = -1;
}

static void init_on_signal(const sk_info *info, void *arg)
{
    sk_supervisor *s = arg;
    int sig = info->signo;
    intptr_t value = info->code == SI_QUEUE ? info->value : 0;
    int stop = sig == SIGTERM || sig == SIGINT || sig == SIGQUIT;
    if (sig == SIGPIPE && info->pid == s->self)
        return; /* our own log write to a closed pipe: not the child's business */
    if (stop || !s->o.quiet)
        say(s, "%s from pid %d uid %d: forwarded", signame(sig), (int)info->pid, (int)info->uid);
    if (!s->main_done) {
        if (s->o.group) { /* a group has no sigqueue: the value is lost (docs/supervisor.md) */
            kill(-s->pgid, sig);
            s->group_forwarded |= stop;
        } else {
            send_to(s->main, sig, value);
        }
    }
    if (stop && !s->stopping) {
        s->stopping = 1;
        notify_up(s, "STOPPING=1");
    }
    if (stop && !s->stop_timer && !s->killing)
        arm_stop_timer(s, s->o.graceful_timeout, init_kill_cb);
}

static void init_on_chld(const sk_info *info, void *arg)
{
    (void)info;
    sk_supervisor *s = arg;
    reap_all(s);
    init_after_reap(s);
}

/* ------------------------------------------------------------------ */
/* Workers mode: the signal map                                        */
/* ------------------------------------------------------------------ */

static void log_control(sk_supervisor *s, const sk_info *info, const char *what)
{
    say(s, "%s from pid %d uid %d: %s", signame(info->signo), (int)info->pid, (int)info->uid,
        what);
}

static void stop_kill_cb(const sk_info *info, void *arg)
{
    (void)info;
    sk_supervisor *s = arg;
    stop_timer(&s->stop_timer);
    int n = 0;
    for (worker *w = s->ws; w; w = w->next, n++)
        send_to(w, SIGKILL, 0);
    say(s, "stop timeout: KILL %d worker(s)", n);
}

static void begin_stop(sk_supervisor *s, int fast)
{
    if (s->state == RUN) {
        s->state = fast ? FAST : GRACEFUL;
        notify_up(s, "STOPPING=1");
        stop_timer(&s->spawn_timer);
        for (worker *w = s->ws; w; w = w->next) {
            if (!w->termed)
                send_to(w, SIGTERM, 0);
            w->termed = 1;
        }
        arm_stop_timer(s, fast ? FAST_STOP : s->o.graceful_timeout, stop_kill_cb);
    } else if (fast && s->state == GRACEFUL) {
        s->state = FAST;
        arm_stop_timer(s, FAST_STOP, stop_kill_cb);
    }
    check_done(s);
}

static void reload(sk_supervisor *s)
{
    if (s->reload_pending > 0) {
        say(s, "reload already in progress: HUP ignored");
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    notify_up(s, "RELOADING=1\nMONOTONIC_USEC=%llu",
              (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
    s->reload_failed = 0;
    s->reload_done_ok = 1;
    say(s, "reload begun");
    worker *olds[1024];
    int n = 0;
    for (worker *w = s->ws; w && n < 1024; w = w->next)
        if (!w->retiring && !w->replaces && !w->replaced_by)
            olds[n++] = w;
    for (int i = 0; i < n; i++) {
        worker *nw = spawn(s, olds[i]);
        if (nw) {
            nw->in_reload = 1;
            s->reload_pending++;
        } else {
            s->reload_failed++;
        }
    }
    check_reload_done(s);
}

static void scale(sk_supervisor *s, const sk_info *info, int dir)
{
    long k = info->code == SI_QUEUE && info->value > 0 ? (long)info->value : (long)info->count;
    if (k < 1)
        k = 1;
    long want = s->want + dir * k;
    if (want < 1)
        want = 1;
    if (want > 4096)
        want = 4096;
    char what[64];
    snprintf(what, sizeof what, "workers %d -> %ld%s", s->want, want,
             info->code == SI_QUEUE ? " (sigqueue value)" : "");
    log_control(s, info, what);
    s->want = (int)want;
    reconcile(s);
}

static void on_control(const sk_info *info, void *arg)
{
    sk_supervisor *s = arg;
    switch (info->signo) {
    case SIGTERM:
        log_control(s, info, s->state == RUN ? "graceful stop" : "already stopping");
        begin_stop(s, 0);
        break;
    case SIGINT:
        log_control(s, info, s->state == RUN ? "graceful stop (again: fast)" : "fast stop");
        begin_stop(s, s->state != RUN);
        break;
    case SIGQUIT:
        log_control(s, info, "fast stop");
        begin_stop(s, 1);
        break;
    case SIGHUP:
        log_control(s, info, s->state == RUN ? "reload" : "ignored while stopping");
        if (s->state == RUN)
            reload(s);
        break;
    case SIGTTIN:
        if (s->state == RUN)
            scale(s, info, +1);
        break;
    case SIGTTOU:
        if (s->state == RUN)
            scale(s, info, -1);
        break;
    default: /* USR1, USR2, WINCH */
        log_control(s, info, "forwarded to the workers");
        for (worker *w = s->ws; w; w = w->next)
            send_to(w, info->signo, 0);
        break;
    }
}

static void on_chld(const sk_info *info, void *arg)
{
    (void)info;
    sk_supervisor *s = arg;
    read_all_notify(s); /* first: a READY=1 sent just before dying still counts */
    if (s->o.subreaper)
        reap_all(s);
    else
        reap_workers(s);
}

/* ------------------------------------------------------------------ */
/* Handlers, pidfile, the loop                                         */
/* ------------------------------------------------------------------ */

static int connect_one(sk_supervisor *s, int sig, sk_handler fn)
{
    if (s->nconn >= MAX_CONNECTIONS)
        return -ENOSPC;
    int id = sk_connect(sig, fn, s);
    if (id > 0)
        s->conn[s->nconn++] = id;
    return id;
}

static int install_handlers(sk_supervisor *s)
{
    if (s->o.mode == SK_SUPERVISE_INIT) {
        int err = connect_one(s, SIGCHLD, init_on_chld);
        if (err < 0)
            return err;
        for (int sig = 1; sig <= SIGRTMAX; sig++) {
            if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD)
                continue;
            connect_one(s, sig, init_on_signal); /* reserved and fault signals refuse: skipped */
        }
        return 0;
    }
    static const int control[] = {SIGTERM, SIGINT,  SIGQUIT, SIGHUP,  SIGTTIN,
                                  SIGTTOU, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < sizeof control / sizeof *control; i++) {
        int err = connect_one(s, control[i], on_control);
        if (err < 0)
            return err;
    }
    int err = connect_one(s, SIGCHLD, on_chld);
    return err < 0 ? err : 0;
}

static void uninstall_handlers(sk_supervisor *s)
{
    while (s->nconn > 0)
        sk_disconnect(s->conn[--s->nconn]);
}

/* Written to a temporary name and renamed: a reader never sees half a pid. */
static int write_pidfile(sk_supervisor *s)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", s->o.pidfile, (int)s->self) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    char line[32];
    int n = snprintf(line, sizeof line, "%d\n", (int)s->self);
    int ok = write(fd, line, (size_t)n) == n;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, s->o.pidfile) < 0) {
        int err = errno ? -errno : -EIO;
        unlink(tmp);
        return err;
    }
    return 0;
}

/* Listeners on 3, 4, ... in the master already when those fds are free:
 * an in-process worker then keeps sigkit's own descriptors untouched. */
static void settle_listeners(sk_supervisor *s)
{
    for (int i = 0; i < s->nls; i++) {
        int want = 3 + i;
        if (s->ls[i].fd == want || fcntl(want, F_GETFD) >= 0)
            continue;
        if (skp_dup_cloexec(s->ls[i].fd, want) == want) {
            close(s->ls[i].fd);
            s->ls[i].fd = want;
        }
    }
}

static int start(sk_supervisor *s)
{
    int err = s->o.subreaper ? skp_set_subreaper() : 0;
    if (err == -ENOSYS)
        say(s, "no child subreaper on this system: orphans go to init");
    else if (err < 0)
        say(s, "cannot become a child subreaper: %s", sk_strerror(err));
    const char *ns = getenv("NOTIFY_SOCKET");
    if (s->o.notify && ns && *ns && !(s->notify_to = strdup(ns)))
        return -ENOMEM;
    err = build_base_env(s);
    if (err < 0)
        return err;
    settle_listeners(s);
    for (int i = 0; i < s->nls; i++)
        say(s, "listening on %s (fd %d in workers)", s->ls[i].addr, 3 + i);
    if (s->o.pidfile && (err = write_pidfile(s)) < 0) {
        say(s, "cannot write pidfile %s: %s", s->o.pidfile, sk_strerror(err));
        return err;
    }
    s->pidfile_written = s->o.pidfile != NULL;
    err = install_handlers(s);
    if (err < 0)
        return err;
    if (s->o.mode == SK_SUPERVISE_INIT) {
        s->main = spawn(s, NULL);
        if (!s->main)
            return -EAGAIN;
        s->pgid = s->main->pid;
        notify_up(s, "MAINPID=%d\nREADY=1", (int)s->self);
        return 0;
    }
    reconcile(s);
    return 0;
}

int sk_supervisor_run(sk_supervisor *s)
{
    if (!s)
        return -EINVAL;
    s->self = getpid();
    int err = start(s);
    while (err == 0 && !s->done) {
        int r = sk_wait(-1);
        if (r < 0 && r != -EINTR)
            err = r;
    }
    if (s->o.mode == SK_SUPERVISE_INIT && s->main_done)
        say(s, "exit %d", s->exit_code);
    else if (err == 0)
        say(s, "stopped");
    stop_timer(&s->spawn_timer);
    stop_timer(&s->stop_timer);
    uninstall_handlers(s);
    if (s->pidfile_written)
        unlink(s->o.pidfile);
    return err < 0 ? err : s->exit_code;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

void sk_supervise_defaults(sk_supervise_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = SK_SUPERVISE_WORKERS;
    o->workers = 1;
    o->graceful_timeout = 30;
    o->ready_timeout = 1;
}

int sk_supervisor_new(sk_supervisor **out, const sk_supervise_opts *o)
{
    if (!out || !o || o->workers < 1 || !(o->graceful_timeout >= 0) || !(o->ready_timeout >= 0) ||
        o->graceful_timeout > 1e6 || o->ready_timeout > 1e6 ||
        (o->mode != SK_SUPERVISE_WORKERS && o->mode != SK_SUPERVISE_INIT) ||
        (!o->worker_fn && (!o->argv || !o->argv[0])) ||
        (o->mode == SK_SUPERVISE_INIT && o->worker_fn))
        return -EINVAL;
    sk_supervisor *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->o = *o;
    s->want = o->mode == SK_SUPERVISE_INIT ? 1 : o->workers;
    s->self = getpid();
    if (!o->worker_fn) {
        int err = resolve_exe(o->argv[0], &s->exe);
        if (err < 0) {
            free(s);
            return err;
        }
    }
    *out = s;
    return 0;
}

int sk_supervisor_listen(sk_supervisor *s, const char *addr)
{
    if (!s || !addr || s->o.mode != SK_SUPERVISE_WORKERS)
        return -EINVAL;
    if (s->nls >= SK_SUP_MAX_LISTEN)
        return -EMFILE;
    const char *why;
    int err = sk__listen_open(addr, &s->ls[s->nls], &why);
    if (err < 0)
        return err;
    return 3 + s->nls++;
}

int sk_supervisor_address(sk_supervisor *s, int i, char *buf, size_t size)
{
    if (!s || i < 0 || i >= s->nls)
        return -ENOENT;
    if (strlen(s->ls[i].addr) >= size)
        return -ENOSPC;
    strcpy(buf, s->ls[i].addr);
    return 0;
}

void sk_supervisor_free(sk_supervisor *s)
{
    if (!s)
        return;
    while (s->ws)
        unlink_worker(s, s->ws);
    for (int i = 0; i < s->nls; i++)
        sk__listen_close(&s->ls[i]);
    free(s->base_env);
    free(s->notify_to);
    free(s->exe);
    free(s);
}
