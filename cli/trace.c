/*
 * trace.c - `sigkit trace`: who sends which signal to whom, live.
 *
 * The library's sk_trace_* reads the kernel's signal_generate and
 * signal_deliver tracepoints in time order and names the senders; this
 * file filters them (targets, sender, the -- CMD tree), pairs each deliver
 * with the send it stems from (the FATE of a signal), and prints.
 *
 * A send line is printed as soon as its record is read; its fate comes on
 * its own deliver line (the target's handler, ignored, or the default
 * action), so nothing waits for an event that may never come (a signal
 * taken by sigwait or signalfd fires no deliver: research fact 5).  The
 * sends never delivered are counted in the summary.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* A set of process ids (the traced targets; grows with the CMD tree)   */
/* ------------------------------------------------------------------ */

typedef struct pidset {
    pid_t *slot; /* 0: free */
    size_t cap, n;
} pidset;

static bool pidset_has(const pidset *s, pid_t pid)
{
    if (!s->cap || pid <= 0)
        return false;
    for (size_t i = (size_t)pid & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->slot[i] == pid)
            return true;
        if (s->slot[i] == 0)
            return false;
    }
}

static int pidset_add(pidset *s, pid_t pid)
{
    if (pid <= 0 || pidset_has(s, pid))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        pid_t *slot = calloc(cap, sizeof *slot), *old = s->slot;
        if (!slot)
            return -ENOMEM;
        size_t oldcap = s->cap;
        s->slot = slot;
        s->cap = cap;
        s->n = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i])
                pidset_add(s, old[i]);
        free(old);
    }
    size_t i = (size_t)pid & (s->cap - 1);
    while (s->slot[i])
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = pid;
    s->n++;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sends waiting for their deliver                                      */
/* ------------------------------------------------------------------ */

/* The oldest undelivered send of one signal to one process.  Standard
 * signals merge, so one slot per (process, signal) is exact for them;
 * queued RT signals from several senders are marked `mixed`, and a
 * deliver then names no sender rather than a wrong one. */
typedef struct pending {
    pid_t pid; /* target process; 0: free */
    int signo;
    long count;
    bool mixed;
    sk_trace_task sender;
} pending;

#define NPENDING 4096
#define PROBE 8

typedef struct tracer {
    const skc_opts *o;
    sk_trace *t;
    pidset targets;
    bool filter_targets; /* PIDs or CMD given */
    bool all_signals;    /* no --signal */
    pid_t child;         /* CMD, or 0 */
    pending *pend;
    long evicted;        /* undelivered sends pushed out of the table */
    long shown, by_signal[NSIG];
    int64_t realtime_offset_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC, for the TIME column */
    volatile bool stop;
    int stop_signo;
} tracer;

static size_t pend_hash(pid_t pid, int signo)
{
    return ((size_t)(uint32_t)pid * 2654435761u + (size_t)signo * 40503u) % NPENDING;
}

static pending *pend_find(tracer *tr, pid_t pid, int signo)
{
    size_t h = pend_hash(pid, signo);
    for (int k = 0; k < PROBE; k++) {
        pending *p = &tr->pend[(h + (size_t)k) % NPENDING];
        if (p->pid == pid && p->signo == signo)
            return p;
    }
    return NULL;
}

/* A queued send: remember its sender until the deliver comes. */
static void pend_add(tracer *tr, pid_t pid, int signo, const sk_trace_task *sender)
{
    pending *p = pend_find(tr, pid, signo);
    if (p) {
        p->count++;
        if (p->sender.tid != sender->tid || strcmp(p->sender.comm, sender->comm) != 0)
            p->mixed = true;
        return;
    }
    size_t h = pend_hash(pid, signo);
    pending *victim = &tr->pend[h];
    for (int k = 0; k < PROBE; k++) {
        p = &tr->pend[(h + (size_t)k) % NPENDING];
        if (p->pid == 0) {
            victim = p;
            break;
        }
    }
    if (victim->pid)
        tr->evicted += victim->count;
    *victim = (pending){.pid = pid, .signo = signo, .count = 1, .sender = *sender};
}

/* Take one send of signo to pid; false when none is known. */
static bool pend_take(tracer *tr, pid_t pid, int signo, sk_trace_task *sender, bool *mixed)
{
    pending *p = pend_find(tr, pid, signo);
    if (!p)
        return false;
    *sender = p->sender;
    *mixed = p->mixed;
    if (--p->count <= 0)
        memset(p, 0, sizeof *p);
    return true;
}

/* A dying process takes no more signals: forget its pending sends. */
static void pend_forget(tracer *tr, pid_t pid)
{
    for (int s = 1; s < NSIG; s++) {
        pending *p = pend_find(tr, pid, s);
        if (p)
            memset(p, 0, sizeof *p);
    }
}

static long pend_left(const tracer *tr)
{
    long n = tr->evicted;
    for (size_t i = 0; i < NPENDING; i++)
        n += tr->pend[i].pid ? tr->pend[i].count : 0;
    return n;
}

/* ------------------------------------------------------------------ */
/* Words                                                               */
/* ------------------------------------------------------------------ */

static const char *result_name(int result)
{
    switch (result) {
    case SK_TRACE_DELIVERED: return "delivered";
    case SK_TRACE_IGNORED: return "ignored";
    case SK_TRACE_ALREADY_PENDING: return "already-pending";
    case SK_TRACE_OVERFLOW_FAIL: return "overflow-fail";
    case SK_TRACE_LOSE_INFO: return "lose-info";
    default: return "unknown";
    }
}

/* What the target did, from its deliver record. */
typedef struct fate {
    const char *word; /* JSON "fate" */
    char text[64];    /* the human column */
    int signo;        /* the signal the fate is about (not SIGKILL's stand-in) */
    bool have_sender, mixed;
    sk_trace_task sender;
} fate;

/* A default-fatal signal is delivered as SIGKILL (research fact 4): the
 * send it stands for is the oldest pending one this process would die
 * of.  A real KILL is preferred when there is one. */
static int fatal_origin(tracer *tr, pid_t pid)
{
    if (pend_find(tr, pid, SIGKILL))
        return SIGKILL;
    for (int s = 1; s < NSIG; s++) {
        int act = sk_default_action(s);
        if ((act == SK_ACT_TERM || act == SK_ACT_CORE) && pend_find(tr, pid, s))
            return s;
    }
    return 0;
}

static void decide_fate(tracer *tr, const sk_trace_event *ev, fate *f)
{
    pid_t pid = ev->target.pid ? ev->target.pid : ev->target.tid;
    memset(f, 0, sizeof *f);
    f->signo = ev->signo;
    if (ev->handler == 0 && ev->signo == SIGKILL) {
        int origin = fatal_origin(tr, pid);
        if (origin)
            f->signo = origin;
        f->have_sender = origin && pend_take(tr, pid, origin, &f->sender, &f->mixed);
        pend_forget(tr, pid);
        f->word = "killed";
        snprintf(f->text, sizeof f->text, "killed (default action)");
        return;
    }
    f->have_sender = pend_take(tr, pid, ev->signo, &f->sender, &f->mixed);
    if (ev->handler == 1) {
        f->word = "ignored";
        snprintf(f->text, sizeof f->text, "ignored (SIG_IGN)");
    } else if (ev->handler > 1) {
        f->word = "handler";
        snprintf(f->text, sizeof f->text, "handler %#lx", (unsigned long)ev->handler);
    } else {
        switch (sk_default_action(ev->signo)) {
        case SK_ACT_CORE: f->word = "core"; break;
        case SK_ACT_TERM: f->word = "killed"; break;
        case SK_ACT_STOP: f->word = "stopped"; break;
        case SK_ACT_CONT: f->word = "continued"; break;
        case SK_ACT_IGN: f->word = "ignored"; break;
        default: f->word = "unknown"; break;
        }
        snprintf(f->text, sizeof f->text, "%s (default action)",
                 strcmp(f->word, "core") == 0 ? "core dump" : f->word);
    }
}

/* ------------------------------------------------------------------ */
/* Printing                                                            */
/* ------------------------------------------------------------------ */

static void print_time(const tracer *tr, uint64_t ns)
{
    if (tr->o->json) {
        printf("\"time\":%llu.%09llu", (unsigned long long)(ns / 1000000000u),
               (unsigned long long)(ns % 1000000000u));
        return;
    }
    int64_t wall = (int64_t)ns + tr->realtime_offset_ns;
    time_t sec = (time_t)(wall / 1000000000);
    struct tm tm;
    localtime_r(&sec, &tm);
    printf("%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)(wall % 1000000000 / 1000000));
}

static void json_task(const char *role, const sk_trace_task *w, bool known)
{
    if (!known) {
        printf(",\"%s_pid\":null,\"%s_tid\":null,\"%s_comm\":null,\"%s_uid\":null", role, role,
               role, role);
        return;
    }
    if (w->tid == 0 && w->pid == 0) { /* the kernel, in an interrupt */
        printf(",\"%s_pid\":null,\"%s_tid\":null,\"%s_comm\":", role, role, role);
        skc_json_string(stdout, w->comm);
        printf(",\"%s_uid\":null", role);
        return;
    }
    printf(",\"%s_pid\":%d,\"%s_tid\":%d,\"%s_comm\":", role, (int)w->pid, role, (int)w->tid,
           role);
    skc_json_string(stdout, w->comm);
    if (w->uid == (uid_t)-1)
        printf(",\"%s_uid\":null", role);
    else
        printf(",\"%s_uid\":%u", role, (unsigned)w->uid);
}

static void json_signal(int signo, int code, int err)
{
    char buf[16];
    printf(",\"signal\":");
    skc_json_string(stdout, sk_signame(signo) ? sk_signame(signo) : "?");
    printf(",\"signo\":%d,\"code\":\"%s\",\"code_number\":%d,\"errno\":%d", signo,
           skc_code_name(signo, code, buf, sizeof buf), code, err);
}

/* "4242 kill 0" / "? ? ?" in fixed columns. */
static void text_sender(const sk_trace_task *w, bool known)
{
    char uid[16] = "?";
    if (!known) {
        printf("%-7s %-15s %-5s", "?", "?", "?");
        return;
    }
    if (w->tid == 0 && w->pid == 0) { /* the kernel, in an interrupt */
        printf("%-7s %-15s %-5s", "-", w->comm, "-");
        return;
    }
    if (w->uid != (uid_t)-1)
        snprintf(uid, sizeof uid, "%u", (unsigned)w->uid);
    printf("%-7d %-15s %-5s", (int)(w->pid ? w->pid : w->tid), w->comm, uid);
}

/* "4100 worker" or "4100/4102 worker" when one thread is meant. */
static void text_target(const sk_trace_task *w, bool thread)
{
    char id[32];
    if (thread && w->pid && w->pid != w->tid)
        snprintf(id, sizeof id, "%d/%d", (int)w->pid, (int)w->tid);
    else
        snprintf(id, sizeof id, "%d", (int)(w->pid ? w->pid : w->tid));
    printf("%-13s %-15s", id, w->comm);
}

static void print_send(tracer *tr, const sk_trace_event *ev, const sk_trace_task *sender)
{
    char buf[16];
    if (tr->o->json) {
        printf("{\"event\":\"send\",");
        print_time(tr, ev->time_ns);
        printf(",\"cpu\":%d", ev->cpu);
        json_task("sender", sender, true);
        json_task("target", &ev->target, true);
        printf(",\"group\":%s,\"interrupt\":%s", ev->group ? "true" : "false",
               ev->interrupt ? "true" : "false");
        if (ev->interrupt)
            printf(",\"interrupted_pid\":%d", (int)(ev->sender.pid ? ev->sender.pid : ev->sender.tid));
        json_signal(ev->signo, ev->code, ev->err);
        printf(",\"result\":\"%s\",\"result_number\":%d}\n", result_name(ev->result), ev->result);
        return;
    }
    print_time(tr, ev->time_ns);
    printf(" %-7s ", "send");
    text_sender(sender, true);
    fputc(' ', stdout);
    text_target(&ev->target, !ev->group);
    printf(" %-8s %-11s %s\n", skc_short_name(ev->signo),
           skc_code_name(ev->signo, ev->code, buf, sizeof buf), result_name(ev->result));
}

static void print_deliver(tracer *tr, const sk_trace_event *ev, const fate *f)
{
    char buf[16];
    bool known = f->have_sender && !f->mixed;
    if (tr->o->json) {
        printf("{\"event\":\"deliver\",");
        print_time(tr, ev->time_ns);
        printf(",\"cpu\":%d", ev->cpu);
        json_task("sender", &f->sender, known);
        json_task("target", &ev->target, true);
        json_signal(f->signo, ev->code, ev->err);
        printf(",\"kernel_signo\":%d,\"sa_handler\":\"%#lx\",\"sa_flags\":%lu,\"fate\":\"%s\"}\n",
               ev->signo, (unsigned long)ev->handler, ev->handler_flags, f->word);
        return;
    }
    print_time(tr, ev->time_ns);
    printf(" %-7s ", "deliver");
    text_sender(&f->sender, known);
    fputc(' ', stdout);
    text_target(&ev->target, true);
    printf(" %-8s %-11s %s\n", skc_short_name(f->signo),
           skc_code_name(f->signo, ev->code, buf, sizeof buf), f->text);
}

static void print_lost(tracer *tr, const sk_trace_event *ev)
{
    if (tr->o->json) {
        printf("{\"event\":\"lost\",");
        print_time(tr, ev->time_ns);
        printf(",\"cpu\":%d,\"lost\":%llu}\n", ev->cpu, (unsigned long long)ev->lost);
        return;
    }
    print_time(tr, ev->time_ns);
    printf(" %-7s %llu records dropped by the kernel on cpu %d (ring full)\n", "LOST",
           (unsigned long long)ev->lost, ev->cpu);
}

static void print_header(const tracer *tr)
{
    if (tr->o->json)
        return;
    printf("%-12s %-7s %-7s %-15s %-5s %-13s %-15s %-8s %-11s %s\n", "TIME", "EVENT", "SENDER",
           "COMM", "UID", "TARGET", "COMM", "SIGNAL", "CODE", "RESULT/FATE");
}

static void print_summary(tracer *tr, double seconds)
{
    uint64_t records, lost;
    sk_trace_stats(tr->t, &records, &lost);
    long left = pend_left(tr);
    if (tr->o->json) {
        printf("{\"event\":\"summary\",\"seconds\":%.3f,\"records\":%llu,\"shown\":%ld,"
               "\"lost\":%llu,\"undelivered\":%ld,\"signals\":{",
               seconds, (unsigned long long)records, tr->shown, (unsigned long long)lost, left);
        bool first = true;
        for (int s = 1; s < NSIG; s++)
            if (tr->by_signal[s]) {
                printf("%s", first ? "" : ",");
                skc_json_string(stdout, sk_signame(s) ? sk_signame(s) : "?");
                printf(":%ld", tr->by_signal[s]);
                first = false;
            }
        printf("}}\n");
        return;
    }
    printf("sigkit trace: %ld signal%s sent", tr->shown, tr->shown == 1 ? "" : "s");
    const char *sep = " (";
    for (int s = 1; s < NSIG; s++)
        if (tr->by_signal[s]) {
            printf("%s%s %ld", sep, skc_short_name(s), tr->by_signal[s]);
            sep = ", ";
        }
    printf("%s in %.1f s; %llu records read, %llu dropped by the kernel; %ld never reached a "
           "handler (sigwait/signalfd, blocked or still pending)\n",
           tr->shown ? ")" : "", seconds, (unsigned long long)records, (unsigned long long)lost,
           left);
}

/* ------------------------------------------------------------------ */
/* Filtering                                                           */
/* ------------------------------------------------------------------ */

static bool is_target(const tracer *tr, const sk_trace_task *w)
{
    return !tr->filter_targets || pidset_has(&tr->targets, w->pid) ||
           pidset_has(&tr->targets, w->tid);
}

static bool from_ok(const tracer *tr, const sk_trace_task *w, bool known)
{
    pid_t from = tr->o->from_pid;
    return from == 0 || (known && (w->pid == from || w->tid == from));
}

static bool signal_ok(const tracer *tr, int signo)
{
    return tr->all_signals || sigismember(&tr->o->trace_signals, signo) == 1;
}

static void on_send(tracer *tr, const sk_trace_event *ev)
{
    /* In an interrupt the running task is a bystander, not the sender. */
    sk_trace_task sender = ev->sender;
    if (ev->interrupt)
        sender = (sk_trace_task){.uid = (uid_t)-1, .comm = "<interrupt>"};
    bool to_target = is_target(tr, &ev->target);
    /* -- CMD: what the tree sends is part of what it does */
    bool by_tree = tr->child && !ev->interrupt && pidset_has(&tr->targets, sender.pid);
    if (!to_target && !by_tree)
        return;
    if (to_target && (ev->result == SK_TRACE_DELIVERED || ev->result == SK_TRACE_LOSE_INFO))
        pend_add(tr, ev->target.pid ? ev->target.pid : ev->target.tid, ev->signo, &sender);
    if (!from_ok(tr, &sender, !ev->interrupt) || !signal_ok(tr, ev->signo))
        return;
    tr->shown++;
    if (ev->signo > 0 && ev->signo < NSIG)
        tr->by_signal[ev->signo]++;
    print_send(tr, ev, &sender);
}

static void on_deliver(tracer *tr, const sk_trace_event *ev)
{
    fate f;
    if (!is_target(tr, &ev->target))
        return;
    decide_fate(tr, ev, &f);
    if (!from_ok(tr, &f.sender, f.have_sender && !f.mixed))
        return;
    if (!signal_ok(tr, f.signo) && !signal_ok(tr, ev->signo))
        return;
    print_deliver(tr, ev, &f);
}

static void on_event(tracer *tr, const sk_trace_event *ev)
{
    switch (ev->kind) {
    case SK_TRACE_GENERATE: on_send(tr, ev); break;
    case SK_TRACE_DELIVER: on_deliver(tr, ev); break;
    case SK_TRACE_LOST: print_lost(tr, ev); break;
    case SK_TRACE_FORK:
        /* a new process (not a thread) whose parent is in the CMD tree */
        if (tr->child && ev->target.pid != ev->sender.pid &&
            pidset_has(&tr->targets, ev->sender.pid))
            pidset_add(&tr->targets, ev->target.pid);
        break;
    default: break;
    }
}

/* ------------------------------------------------------------------ */
/* Running                                                             */
/* ------------------------------------------------------------------ */

static tracer *the_tracer; /* for the INT/TERM handler */

static void on_stop(const sk_info *info, void *arg)
{
    (void)arg;
    the_tracer->stop = true;
    the_tracer->stop_signo = info->signo;
}

static uint64_t now_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fork CMD; it waits on a pipe until tracing is on, then execs. */
static pid_t start_cmd(const skc_opts *o, int *go_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid == 0) {
        char c;
        close(p[1]);
        ssize_t n;
        do
            n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
            _exit(127); /* the tracer died before tracing */
        sk_child_reset(); /* CMD starts as if run by a shell: no sigkit handlers, no mask */
        execvp(o->cmd_argv[0], o->cmd_argv);
        int e = errno;
        skc_error("trace: %s: %s", o->cmd_argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }
    close(p[0]);
    *go_fd = p[1];
    return pid;
}


static int drain_events(tracer *tr, bool flush)
{
    int rc = sk_trace_read(tr->t, flush);
    if (rc < 0) {
        skc_error("trace: reading the rings: %s", sk_strerror(rc));
        return SKC_FAILED;
    }
    sk_trace_event ev;
    while (sk_trace_next(tr->t, &ev) > 0)
        on_event(tr, &ev);
    fflush(stdout);
    return ferror(stdout) ? SKC_FAILED : SKC_OK;
}

/* Wait for CMD once its pidfd says it ended; its exit status as a shell's. */
static int reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return SKC_FAILED;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int loop(tracer *tr, int child_fd, int *cmd_status)
{
    const skc_opts *o = tr->o;
    uint64_t start = now_ns(CLOCK_MONOTONIC);
    uint64_t end = o->duration_ms >= 0 ? start + (uint64_t)o->duration_ms * 1000000u : 0;
    while (!tr->stop) {
        struct pollfd fds[3] = {{.fd = sk_trace_fd(tr->t), .events = POLLIN},
                                {.fd = sk_fd(), .events = POLLIN},
                                {.fd = child_fd, .events = POLLIN}};
        int timeout = 100; /* a quiet ring never reaches its wake-up mark */
        if (end) {
            uint64_t now = now_ns(CLOCK_MONOTONIC);
            if (now >= end)
                break;
            if ((end - now) / 1000000u < (uint64_t)timeout)
                timeout = (int)((end - now) / 1000000u) + 1;
        }
        if (poll(fds, child_fd >= 0 ? 3 : 2, timeout) < 0 && errno != EINTR) {
            skc_error("trace: poll: %s", strerror(errno));
            return SKC_FAILED;
        }
        if (fds[1].revents)
            sk_dispatch();
        if (drain_events(tr, false) != SKC_OK)
            return SKC_FAILED;
        if (child_fd >= 0 && fds[2].revents) {
            *cmd_status = reap(tr->child);
            break;
        }
    }
    return drain_events(tr, true);
}

static int open_trace(const skc_opts *o, sk_trace **t)
{
    sk_trace_opts to;
    char why[256];
    sk_trace_defaults(&to);
    to.signals = o->trace_signals;
    int rc = sk_trace_open(&to, t, why, sizeof why);
    if (rc == 0)
        return SKC_OK;
    skc_error("trace: %s", why[0] ? why : sk_strerror(rc));
    return SKC_FAILED;
}

/* Start CMD (held until tracing is on), put it in the traced set. */
static int setup_cmd(tracer *tr, int *child_fd)
{
    int go_fd = -1;
    pid_t pid = start_cmd(tr->o, &go_fd);
    if (pid < 0) {
        skc_error("trace: fork: %s", strerror(-pid));
        return SKC_FAILED;
    }
    tr->child = pid;
    pidset_add(&tr->targets, pid);
    *child_fd = sk_pidfd_open(pid);
    if (*child_fd < 0) {
        skc_error("trace: pidfd_open: %s", sk_strerror(*child_fd));
        close(go_fd);
        reap(pid);
        return SKC_FAILED;
    }
    ssize_t n = write(go_fd, "g", 1);
    close(go_fd);
    return n == 1 ? SKC_OK : SKC_FAILED;
}

static int install_stop(tracer *tr)
{
    the_tracer = tr;
    int signals[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t k = 0; k < sizeof signals / sizeof signals[0]; k++) {
        int rc = sk_signal(signals[k], on_stop, NULL);
        if (rc < 0) {
            skc_error("trace: handling %s: %s", sk_signame(signals[k]), sk_strerror(rc));
            return SKC_FAILED;
        }
    }
    return SKC_OK;
}

/* A PID that does not exist is a typo, not a wish to wait for it. */
static int check_pids(const skc_opts *o)
{
    for (int k = 0; k < o->npids; k++)
        if (kill(o->pids[k], 0) < 0 && errno == ESRCH) {
            skc_error("trace: %d: %s", (int)o->pids[k], strerror(ESRCH));
            return SKC_FAILED;
        }
    return SKC_OK;
}

int skc_trace(const skc_opts *o)
{
    static tracer tr; /* the pending table is big: off the stack */
    memset(&tr, 0, sizeof tr);
    tr.o = o;
    tr.filter_targets = o->npids > 0 || o->cmd_argv;
    tr.all_signals = true; /* not sigisemptyset(): glibc 2.36's misses signals 33..64 */
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&o->trace_signals, s) == 1)
            tr.all_signals = false;
    for (int k = 0; k < o->npids; k++)
        pidset_add(&tr.targets, o->pids[k]);
    if (!(tr.pend = calloc(NPENDING, sizeof *tr.pend))) {
        skc_error("trace: out of memory");
        return SKC_FAILED;
    }
    int rc = check_pids(o);
    if (rc == SKC_OK)
        rc = install_stop(&tr);
    if (rc == SKC_OK)
        rc = open_trace(o, &tr.t);
    int child_fd = -1, cmd_status = 0;
    if (rc == SKC_OK) {
        tr.realtime_offset_ns =
            (int64_t)now_ns(CLOCK_REALTIME) - (int64_t)now_ns(CLOCK_MONOTONIC);
        uint64_t start = now_ns(CLOCK_MONOTONIC);
        print_header(&tr);
        fflush(stdout);
        if (o->ready_fd >= 0)
            rc = skc_announce_ready("trace", o->ready_fd);
        if (rc == SKC_OK && o->cmd_argv)
            rc = setup_cmd(&tr, &child_fd);
        if (rc == SKC_OK)
            rc = loop(&tr, child_fd, &cmd_status);
        if (rc == SKC_OK) {
            print_summary(&tr, (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9);
            if (o->cmd_argv)
                rc = cmd_status;
        }
    }
    if (child_fd >= 0)
        close(child_fd);
    sk_trace_close(tr.t);
    free(tr.pend);
    free(tr.targets.slot);
    return rc;
}
