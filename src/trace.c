/*
 * trace.c - sk_trace_*: the kernel's signal tracepoints through
 * perf_event_open(2), merged across CPUs, with the senders' names.
 *
 * Per CPU, three events share one mmap'd ring (PERF_EVENT_IOC_SET_OUTPUT):
 * signal_generate, signal_deliver, and a dummy software event that only
 * carries the kernel's FORK/EXIT/COMM side records.  One ring per CPU keeps
 * a task's fork, its rename and its signals in the order they happened on
 * that CPU; the CPUs are then merged by timestamp.  Rings wake the reader
 * when a quarter full (a wake-up per record costs the traced processes
 * ~87%, research §1.9), so the caller also polls with a timeout.
 *
 * The record's comm/pid name the TARGET; the sender is only the task that
 * ran (PERF_SAMPLE_TID).  Its name and uid come from a table of tasks,
 * seeded by a /proc scan at open and kept by the side records, applied in
 * time order so a name is the one the task had when it sent.
 */
#include <sigkit.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && !defined(SK_PORTABLE)

#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* 1 MiB per CPU: at 200,000 records/s on a loaded 2-vCPU box the reader
 * was starved long enough to lose records with 64 pages, none with 256. */
#define DEFAULT_PAGES 256
#define FALLBACK_PAGES 64 /* fits perf_event_mlock_kb (516) without CAP_IPC_LOCK */
#define REORDER_NS (20 * 1000000ull) /* a record may reach its ring this late */
#define DEAD_KEEP_NS (10 * 1000000000ull) /* exited tasks kept for late records */
#define KIND_COMM 100 /* internal: a rename (exec or prctl) */
#define SAMPLE_TYPE (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW)
#define TRAILER 24 /* sample_id_all: pid/tid, time, cpu/res */

/* Where the fields of one tracepoint are in its raw record. */
typedef struct field {
    const char *name;
    int offset, size;
} field;

enum { F_SIG, F_ERRNO, F_CODE, F_COMM, F_PID, F_GROUP, F_RESULT, F_FLAGS, F_NGEN };

/* common_flags bits (kernel/trace/trace.h): hard IRQ, soft IRQ, NMI.  Stable
 * since 2.6.x; a signal raised there has no sender, only a task that was
 * interrupted (research fact 6). */
#define IN_INTERRUPT (0x08 | 0x10 | 0x40)
enum { D_SIG, D_ERRNO, D_CODE, D_HANDLER, D_FLAGS, F_NDEL };

typedef struct ring {
    int fds[3]; /* generate (owns the ring), deliver, dummy */
    int cpu;
    void *base;          /* the control page, then the data */
    unsigned char *data;
    size_t data_size;    /* a power of two */
} ring;

/* What the tracer knows of one thread. */
typedef struct task {
    pid_t tid, pid;
    uid_t uid;
    bool used, uid_checked;
    uint64_t dead_ns; /* 0: alive */
    char comm[16];
} task;

struct sk_trace {
    ring *rings;
    int nrings;
    int epfd;
    int gen_id, del_id;
    field gen[F_NGEN], del[F_NDEL];
    sigset_t signals;
    bool all_signals;
    /* the reorder queue: [head, ready) ready, [ready, n) waiting */
    sk_trace_event *q;
    size_t n, head, ready, cap;
    uint64_t *seq; /* arrival order, to keep ties stable */
    uint64_t next_seq;
    /* tasks, open addressing on tid */
    task *tasks;
    size_t ntasks, tcap;
    uint64_t records, lost;
    unsigned char *scratch; /* one record copied out of a ring */
};

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t len, const char *fmt, ...)
{
    if (!why || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* sigisemptyset() of glibc 2.36 here calls a set holding only signals 33..64
 * (the real-time ones) empty: ask each signal. */
static bool any_signal(const sigset_t *set)
{
    for (int s = 1; s < NSIG; s++)
        if (sigismember(set, s) == 1)
            return true;
    return false;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* tracefs: event ids and field offsets                                */
/* ------------------------------------------------------------------ */

static int read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (int)got;
}

static int paranoid(void)
{
    char buf[16];
    return read_small("/proc/sys/kernel/perf_event_paranoid", buf, sizeof buf) > 0 ? atoi(buf)
                                                                                  : 99;
}

static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

/* The tracefs directory that has the signal events; mounts it if allowed. */
static int find_tracefs(const sk_trace_opts *o, const char **root, char *why, size_t wl)
{
    char path[256];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < sizeof roots / sizeof roots[0]; k++) {
            snprintf(path, sizeof path, "%s/events/signal/signal_generate/id", roots[k]);
            if (access(path, R_OK) == 0) {
                *root = roots[k];
                return 0;
            }
            if (errno == EACCES) {
                say(why, wl, "tracing signals needs root or CAP_PERFMON (kernel.perf_event_paranoid"
                             " is %d), and read access to %s (root-only here)", paranoid(), roots[k]);
                return -EACCES;
            }
        }
        struct stat st;
        if (pass > 0 || !o->may_mount || stat(roots[0], &st) != 0)
            break;
        snprintf(path, sizeof path, "%s/events", roots[0]);
        if (access(path, F_OK) == 0) /* mounted, yet no signal events */
            break;
        if (mount("nodev", roots[0], "tracefs", 0, NULL) != 0) {
            int e = errno;
            say(why, wl, "tracing signals needs root: tracefs is not mounted and mounting it "
                         "on %s failed: %s", roots[0], strerror(e));
            return e == EPERM ? -EPERM : -e;
        }
    }
    say(why, wl, "no signal:signal_generate event in tracefs (%s): kernel without tracepoints?",
        roots[0]);
    return -ENOENT;
}

/* "\tfield:int sig;\toffset:8;\tsize:4;\tsigned:1;" -> name, offset, size */
static bool parse_field_line(const char *line, char *name, size_t nlen, int *off, int *size)
{
    const char *f = strstr(line, "field:"), *semi, *o, *s;
    if (!f || !(semi = strchr(f, ';')) || !(o = strstr(semi, "offset:")) ||
        !(s = strstr(semi, "size:")))
        return false;
    const char *end = semi;
    const char *br = memchr(f, '[', (size_t)(semi - f));
    if (br)
        end = br; /* "char comm[16]" */
    const char *start = end;
    while (start > f && (start[-1] == '_' || (start[-1] >= 'a' && start[-1] <= 'z') ||
                         (start[-1] >= 'A' && start[-1] <= 'Z') ||
                         (start[-1] >= '0' && start[-1] <= '9')))
        start--;
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= nlen)
        return false;
    memcpy(name, start, len);
    name[len] = '\0';
    *off = atoi(o + 7);
    *size = atoi(s + 5);
    return true;
}

/* Fill fields[] from ROOT/events/signal/EVENT/format; every one is needed. */
static int parse_format(const char *root, const char *event, field *fields, int n, char *why,
                        size_t wl)
{
    char path[256], buf[8192], name[64];
    int off, size;
    snprintf(path, sizeof path, "%s/events/signal/%s/format", root, event);
    int r = read_small(path, buf, sizeof buf);
    if (r < 0) {
        say(why, wl, "%s: %s", path, strerror(-r));
        return r;
    }
    for (int k = 0; k < n; k++)
        fields[k].offset = -1;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!parse_field_line(line, name, sizeof name, &off, &size))
            continue;
        for (int k = 0; k < n; k++)
            if (strcmp(name, fields[k].name) == 0) {
                fields[k].offset = off;
                fields[k].size = size;
            }
    }
    for (int k = 0; k < n; k++)
        if (fields[k].offset < 0) {
            say(why, wl, "the kernel's signal:%s has no field '%s' (Linux older than 3.4?)",
                event, fields[k].name);
            return -EPROTO;
        }
    return 0;
}

static int event_id(const char *root, const char *event, char *why, size_t wl)
{
    char path[256], buf[32];
    snprintf(path, sizeof path, "%s/events/signal/%s/id", root, event);
    int r = read_small(path, buf, sizeof buf);
    if (r < 0) {
        say(why, wl, "%s: %s", path, strerror(-r));
        return r;
    }
    return atoi(buf);
}

static int load_events(sk_trace *t, const sk_trace_opts *o, char *why, size_t wl)
{
    const char *root = NULL;
    static const char *const gnames[F_NGEN] = {"sig",   "errno",  "code",        "comm",
                                               "pid",   "group",  "result",      "common_flags"};
    static const char *const dnames[F_NDEL] = {"sig", "errno", "code", "sa_handler", "sa_flags"};
    int r = find_tracefs(o, &root, why, wl);
    if (r < 0)
        return r;
    for (int k = 0; k < F_NGEN; k++)
        t->gen[k].name = gnames[k];
    for (int k = 0; k < F_NDEL; k++)
        t->del[k].name = dnames[k];
    if ((r = parse_format(root, "signal_generate", t->gen, F_NGEN, why, wl)) < 0 ||
        (r = parse_format(root, "signal_deliver", t->del, F_NDEL, why, wl)) < 0)
        return r;
    if ((t->gen_id = event_id(root, "signal_generate", why, wl)) < 0)
        return t->gen_id;
    if ((t->del_id = event_id(root, "signal_deliver", why, wl)) < 0)
        return t->del_id;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The task table                                                      */
/* ------------------------------------------------------------------ */

static size_t slot_of(const sk_trace *t, pid_t tid)
{
    return ((size_t)(uint32_t)tid * 2654435761u) & (t->tcap - 1);
}

static task *task_find(sk_trace *t, pid_t tid)
{
    for (size_t i = slot_of(t, tid);; i = (i + 1) & (t->tcap - 1)) {
        if (!t->tasks[i].used)
            return NULL;
        if (t->tasks[i].tid == tid)
            return &t->tasks[i];
    }
}

/* Rebuild the table, forgetting tasks dead for a while; doubles when that
 * frees too little.  Keeps it at most half full. */
static int task_rehash(sk_trace *t, uint64_t now)
{
    size_t live = 0;
    for (size_t i = 0; i < t->tcap; i++)
        live += t->tasks[i].used && !(t->tasks[i].dead_ns && now - t->tasks[i].dead_ns > DEAD_KEEP_NS);
    size_t cap = t->tcap ? t->tcap : 1024;
    while (live * 4 >= cap)
        cap *= 2;
    task *old = t->tasks;
    size_t oldcap = t->tcap;
    if (!(t->tasks = calloc(cap, sizeof *t->tasks))) {
        t->tasks = old;
        return -ENOMEM;
    }
    t->tcap = cap;
    t->ntasks = 0;
    for (size_t i = 0; i < oldcap; i++) {
        task *o = &old[i];
        if (!o->used || (o->dead_ns && now - o->dead_ns > DEAD_KEEP_NS))
            continue;
        size_t j = slot_of(t, o->tid);
        while (t->tasks[j].used)
            j = (j + 1) & (cap - 1);
        t->tasks[j] = *o;
        t->ntasks++;
    }
    free(old);
    return 0;
}

/* The entry of tid, created (zeroed but for tid) when missing; NULL on ENOMEM. */
static task *task_get(sk_trace *t, pid_t tid, uint64_t now)
{
    task *e = task_find(t, tid);
    if (e)
        return e;
    if ((t->ntasks + 1) * 2 > t->tcap && task_rehash(t, now) < 0)
        return NULL;
    size_t i = slot_of(t, tid);
    while (t->tasks[i].used)
        i = (i + 1) & (t->tcap - 1);
    e = &t->tasks[i];
    memset(e, 0, sizeof *e);
    e->used = true;
    e->tid = tid;
    e->uid = (uid_t)-1;
    t->ntasks++;
    return e;
}

/* Uid and tgid from a status file; false when it cannot be read. */
static bool read_status(const char *path, pid_t *tgid, uid_t *uid, char *name, size_t nlen)
{
    char buf[4096];
    if (read_small(path, buf, sizeof buf) <= 0)
        return false;
    char *p;
    if (name && (p = strstr(buf, "Name:\t"))) {
        p += 6;
        size_t k = 0;
        while (p[k] && p[k] != '\n' && k + 1 < nlen) {
            name[k] = p[k];
            k++;
        }
        name[k] = '\0';
    }
    if (!(p = strstr(buf, "\nTgid:")))
        return false;
    *tgid = (pid_t)atoi(p + 6);
    if (!(p = strstr(buf, "\nUid:")))
        return false;
    *uid = (uid_t)strtoul(p + 5, NULL, 10);
    return true;
}

static void scan_task(sk_trace *t, const char *pid, const char *tid, uint64_t now)
{
    char path[600], comm[32];
    pid_t tgid;
    uid_t uid;
    snprintf(path, sizeof path, "/proc/%s/task/%s/comm", pid, tid);
    int r = read_small(path, comm, sizeof comm);
    if (r <= 0)
        return;
    if (comm[r - 1] == '\n')
        comm[r - 1] = '\0';
    snprintf(path, sizeof path, "/proc/%s/task/%s/status", pid, tid);
    if (!read_status(path, &tgid, &uid, NULL, 0))
        return;
    task *e = task_get(t, (pid_t)atoi(tid), now);
    if (!e || e->pid) /* a side record was first: it is newer */
        return;
    e->pid = tgid;
    e->uid = uid;
    e->uid_checked = true;
    snprintf(e->comm, sizeof e->comm, "%.15s", comm);
}

/* Every thread that exists now.  Runs after the events are on, so a task
 * born during the scan is known from its FORK record. */
static void scan_proc(sk_trace *t)
{
    uint64_t now = mono_ns();
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/%s/task", de->d_name);
        DIR *td = opendir(path);
        if (!td)
            continue;
        struct dirent *te;
        while ((te = readdir(td)))
            if (te->d_name[0] >= '1' && te->d_name[0] <= '9')
                scan_task(t, de->d_name, te->d_name, now);
        closedir(td);
    }
    closedir(d);
}

/* A task born while tracing inherited its uid at fork; it may have
 * changed it since (setuid) without a record.  Look once, while it lives,
 * and believe /proc only when it is still the same task (same name and
 * thread group), so a reused pid cannot lend its uid. */
static void check_uid(task *e)
{
    char path[96], name[32];
    pid_t tgid;
    uid_t uid;
    e->uid_checked = true;
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)e->pid, (int)e->tid);
    if (read_status(path, &tgid, &uid, name, sizeof name) && tgid == e->pid &&
        strncmp(name, e->comm, 15) == 0)
        e->uid = uid;
}

/* Fill who from the table; unknown stays "?". */
static void resolve(sk_trace *t, sk_trace_task *who, bool want_uid)
{
    if (who->tid == 0) { /* the idle task: an interrupt on an idle CPU */
        who->pid = 0;
        who->uid = 0;
        snprintf(who->comm, sizeof who->comm, "<idle>");
        return;
    }
    task *e = task_find(t, who->tid);
    if (!e || !e->pid) {
        who->uid = (uid_t)-1;
        snprintf(who->comm, sizeof who->comm, "?");
        return;
    }
    if (want_uid && !e->uid_checked && !e->dead_ns)
        check_uid(e);
    who->pid = e->pid;
    who->uid = e->uid;
    memcpy(who->comm, e->comm, sizeof who->comm);
}

/* Side records change the table when their time comes. */
static void apply_side(sk_trace *t, const sk_trace_event *ev)
{
    task *e;
    if (ev->kind == SK_TRACE_FORK) {
        task *parent = task_find(t, ev->sender.tid);
        /* copied: task_get() may move the table */
        task copy = parent ? *parent : (task){.uid = (uid_t)-1};
        if (!(e = task_get(t, ev->target.tid, ev->time_ns)))
            return;
        e->pid = ev->target.pid;
        e->uid = copy.uid; /* the real uid is inherited at fork */
        e->uid_checked = false;
        e->dead_ns = 0;
        if (copy.pid)
            memcpy(e->comm, copy.comm, sizeof e->comm);
        else
            snprintf(e->comm, sizeof e->comm, "?");
    } else if (ev->kind == (enum sk_trace_kind)KIND_COMM) {
        if (!(e = task_get(t, ev->target.tid, ev->time_ns)))
            return;
        e->pid = ev->target.pid;
        memcpy(e->comm, ev->target.comm, sizeof e->comm);
    } else if (ev->kind == SK_TRACE_EXIT && (e = task_find(t, ev->target.tid))) {
        e->dead_ns = ev->time_ns ? ev->time_ns : 1;
    }
}

/* ------------------------------------------------------------------ */
/* perf rings                                                          */
/* ------------------------------------------------------------------ */

static int perf_open(struct perf_event_attr *a, int cpu, int group)
{
    return (int)syscall(SYS_perf_event_open, a, -1, cpu, group, PERF_FLAG_FD_CLOEXEC);
}

static void base_attr(struct perf_event_attr *a, size_t ring_bytes)
{
    memset(a, 0, sizeof *a);
    a->size = sizeof *a;
    a->sample_period = 1;
    a->sample_type = SAMPLE_TYPE;
    a->disabled = 1;
    a->sample_id_all = 1;
    a->use_clockid = 1;
    a->clockid = CLOCK_MONOTONIC;
    a->watermark = 1;
    /* A quarter of the ring, not half: the same rare wake-ups (~100/s at
     * 200,000 records/s), but 3/4 of the ring left for a reader that a
     * loaded machine schedules late. */
    a->wakeup_watermark = (uint32_t)(ring_bytes / 4);
}

static int perf_error(int e, char *why, size_t wl)
{
    if (e == EACCES || e == EPERM)
        say(why, wl, "tracing signals needs root or CAP_PERFMON (kernel.perf_event_paranoid is %d;"
                     " -1 would allow it)", paranoid());
    else if (e == ENOSYS)
        say(why, wl, "this kernel has no perf_event_open");
    else
        say(why, wl, "perf_event_open: %s", strerror(e));
    return -e;
}

/* "sig == 10 || sig == 15": the kernel drops the rest before they reach
 * the ring.  SIGKILL stays for deliver: a default-fatal signal is
 * delivered as SIGKILL (research fact 4). */
static void build_filter(const sk_trace *t, bool deliver, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int s = 1; s < NSIG; s++) {
        if (sigismember(&t->signals, s) != 1 && !(deliver && s == SIGKILL))
            continue;
        int n = snprintf(buf + at, len - at, "%ssig == %d", at ? " || " : "", s);
        if (n < 0 || (size_t)n >= len - at) {
            buf[0] = '\0'; /* too long: filter in user space only */
            return;
        }
        at += (size_t)n;
    }
}

static int open_ring(sk_trace *t, ring *r, int cpu, size_t pages, char *why, size_t wl)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), bytes = pages * page;
    struct perf_event_attr a;
    r->cpu = cpu;
    r->fds[0] = r->fds[1] = r->fds[2] = -1;
    base_attr(&a, bytes);
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = (uint64_t)t->gen_id;
    if ((r->fds[0] = perf_open(&a, cpu, -1)) < 0)
        return -errno;
    a.config = (uint64_t)t->del_id;
    if ((r->fds[1] = perf_open(&a, cpu, -1)) < 0)
        return -errno;
    base_attr(&a, bytes);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_DUMMY;
    a.comm = a.comm_exec = a.task = 1;
    if ((r->fds[2] = perf_open(&a, cpu, -1)) < 0)
        return -errno;
    r->base = mmap(NULL, bytes + page, PROT_READ | PROT_WRITE, MAP_SHARED, r->fds[0], 0);
    if (r->base == MAP_FAILED) {
        int e = errno;
        r->base = NULL;
        say(why, wl, "mmap of the CPU %d ring (%zu KiB): %s (kernel.perf_event_mlock_kb)", cpu,
            bytes / 1024, strerror(e));
        return e == EPERM ? -EDQUOT : -e; /* EDQUOT: over the locked-memory allowance */
    }
    r->data_size = bytes;
    r->data = (unsigned char *)r->base + page;
    if (ioctl(r->fds[1], PERF_EVENT_IOC_SET_OUTPUT, r->fds[0]) < 0 ||
        ioctl(r->fds[2], PERF_EVENT_IOC_SET_OUTPUT, r->fds[0]) < 0) {
        say(why, wl, "PERF_EVENT_IOC_SET_OUTPUT: %s", strerror(errno));
        return -errno;
    }
    if (!t->all_signals) {
        char filter[1024];
        for (int k = 0; k < 2; k++) {
            build_filter(t, k == 1, filter, sizeof filter);
            if (filter[0]) /* best effort: user space checks again */
                (void)ioctl(r->fds[k], PERF_EVENT_IOC_SET_FILTER, filter);
        }
    }
    struct epoll_event ee = {.events = EPOLLIN, .data.ptr = r};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, r->fds[0], &ee) < 0) {
        say(why, wl, "epoll_ctl: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

static int open_rings(sk_trace *t, size_t pages, char *why, size_t wl)
{
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (ncpu < 1)
        ncpu = 1;
    if (!(t->rings = calloc((size_t)ncpu, sizeof *t->rings)))
        return -ENOMEM;
    for (int cpu = 0; cpu < ncpu; cpu++) {
        ring *r = &t->rings[t->nrings++];
        int rc = open_ring(t, r, cpu, pages, why, wl);
        if (rc == -ENODEV) { /* an offline CPU */
            for (int k = 0; k < 3; k++)
                if (r->fds[k] >= 0)
                    close(r->fds[k]);
            t->nrings--;
            continue;
        }
        if (rc < 0)
            return why && why[0] ? rc : perf_error(-rc, why, wl);
    }
    if (t->nrings == 0) {
        say(why, wl, "no online CPU could be traced");
        return -ENODEV;
    }
    for (int i = 0; i < t->nrings; i++)
        for (int k = 2; k >= 0; k--) /* side records first: names before signals */
            if (ioctl(t->rings[i].fds[k], PERF_EVENT_IOC_ENABLE, 0) < 0)
                return perf_error(errno, why, wl);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding records                                                    */
/* ------------------------------------------------------------------ */

static int64_t raw_int(const unsigned char *raw, uint32_t rawlen, const field *f)
{
    if ((uint32_t)(f->offset + f->size) > rawlen)
        return 0;
    const unsigned char *p = raw + f->offset;
    switch (f->size) {
    case 1: return (int8_t)p[0];
    case 2: { int16_t v; memcpy(&v, p, 2); return v; }
    case 4: { int32_t v; memcpy(&v, p, 4); return v; }
    case 8: { int64_t v; memcpy(&v, p, 8); return v; }
    default: return 0;
    }
}

static sk_trace_event *push(sk_trace *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        sk_trace_event *q = realloc(t->q, cap * sizeof *q);
        if (!q)
            return NULL;
        t->q = q;
        uint64_t *seq = realloc(t->seq, cap * sizeof *seq);
        if (!seq)
            return NULL;
        t->seq = seq;
        t->cap = cap;
    }
    t->seq[t->n] = t->next_seq++;
    sk_trace_event *ev = &t->q[t->n++];
    memset(ev, 0, sizeof *ev);
    return ev;
}

static bool wanted(const sk_trace *t, int signo, bool deliver)
{
    return t->all_signals || sigismember(&t->signals, signo) == 1 || (deliver && signo == SIGKILL);
}

static void decode_sample(sk_trace *t, const unsigned char *p, size_t len)
{
    struct { uint32_t pid, tid; uint64_t time; uint32_t cpu, res, rawlen; } h;
    if (len < 28)
        return;
    memcpy(&h, p, 8);
    memcpy(&h.time, p + 8, 8);
    memcpy(&h.cpu, p + 16, 4);
    memcpy(&h.rawlen, p + 24, 4);
    const unsigned char *raw = p + 28;
    if (h.rawlen > len - 28 || h.rawlen < 8)
        return;
    uint16_t type;
    memcpy(&type, raw, 2);
    bool gen = type == t->gen_id, del = type == t->del_id;
    if (!gen && !del)
        return;
    const field *f = gen ? t->gen : t->del;
    int signo = (int)raw_int(raw, h.rawlen, &f[F_SIG]);
    t->records++;
    if (!wanted(t, signo, del))
        return;
    sk_trace_event *ev = push(t);
    if (!ev)
        return;
    ev->kind = gen ? SK_TRACE_GENERATE : SK_TRACE_DELIVER;
    ev->time_ns = h.time;
    ev->cpu = (int)h.cpu;
    ev->signo = signo;
    ev->err = (int)raw_int(raw, h.rawlen, &f[F_ERRNO]);
    ev->code = (int)raw_int(raw, h.rawlen, &f[F_CODE]);
    if (gen) {
        ev->sender.tid = (pid_t)h.tid;
        ev->sender.pid = (pid_t)h.pid;
        ev->target.tid = (pid_t)raw_int(raw, h.rawlen, &f[F_PID]);
        ev->group = (int)raw_int(raw, h.rawlen, &f[F_GROUP]);
        ev->result = (int)raw_int(raw, h.rawlen, &f[F_RESULT]);
        ev->interrupt = ((uint8_t)raw_int(raw, h.rawlen, &f[F_FLAGS]) & IN_INTERRUPT) != 0;
        const field *c = &f[F_COMM];
        if ((uint32_t)(c->offset + c->size) <= h.rawlen) {
            size_t n = (size_t)c->size < sizeof ev->target.comm ? (size_t)c->size
                                                                : sizeof ev->target.comm - 1;
            memcpy(ev->target.comm, raw + c->offset, n);
            ev->target.comm[n] = '\0';
        }
    } else {
        ev->target.tid = (pid_t)h.tid;
        ev->target.pid = (pid_t)h.pid;
        ev->handler = (uintptr_t)raw_int(raw, h.rawlen, &t->del[D_HANDLER]);
        ev->handler_flags = (unsigned long)raw_int(raw, h.rawlen, &t->del[D_FLAGS]);
    }
}

/* The time and cpu in a side record's sample_id trailer. */
static void trailer(const unsigned char *p, size_t len, sk_trace_event *ev)
{
    if (len < TRAILER)
        return;
    const unsigned char *s = p + len - TRAILER;
    uint32_t cpu;
    memcpy(&ev->time_ns, s + 8, 8);
    memcpy(&cpu, s + 16, 4);
    ev->cpu = (int)cpu;
}

/* One record; p points past its header, len counts the rest. */
static void decode(sk_trace *t, uint32_t type, uint16_t misc, const unsigned char *p, size_t len)
{
    sk_trace_event *ev;
    uint32_t ids[4];
    (void)misc;
    switch (type) {
    case PERF_RECORD_SAMPLE:
        decode_sample(t, p, len);
        return;
    case PERF_RECORD_LOST: {
        uint64_t lost;
        if (len < 16 || !(ev = push(t)))
            return;
        memcpy(&lost, p + 8, 8);
        ev->kind = SK_TRACE_LOST;
        ev->lost = lost;
        t->lost += lost;
        trailer(p, len, ev);
        return;
    }
    case PERF_RECORD_COMM:
        if (len < 8 + TRAILER || !(ev = push(t)))
            return;
        memcpy(ids, p, 8);
        ev->kind = (enum sk_trace_kind)KIND_COMM;
        ev->target.pid = (pid_t)ids[0];
        ev->target.tid = (pid_t)ids[1];
        snprintf(ev->target.comm, sizeof ev->target.comm, "%.*s",
                 (int)(len - 8 - TRAILER < 15 ? len - 8 - TRAILER : 15), (const char *)p + 8);
        trailer(p, len, ev);
        return;
    case PERF_RECORD_FORK:
    case PERF_RECORD_EXIT:
        if (len < 16 + TRAILER || !(ev = push(t)))
            return;
        memcpy(ids, p, 16); /* pid, ppid, tid, ptid */
        ev->kind = type == PERF_RECORD_FORK ? SK_TRACE_FORK : SK_TRACE_EXIT;
        ev->target.pid = (pid_t)ids[0];
        ev->target.tid = (pid_t)ids[2];
        ev->sender.pid = (pid_t)ids[1];
        ev->sender.tid = (pid_t)ids[3];
        trailer(p, len, ev);
        return;
    default:
        return;
    }
}

/* Copy len bytes at ring offset off (which may wrap) to dst. */
static void ring_copy(const ring *r, uint64_t off, void *dst, size_t len)
{
    const unsigned char *data = r->data;
    size_t at = (size_t)(off & (r->data_size - 1));
    size_t first = len < r->data_size - at ? len : r->data_size - at;
    memcpy(dst, data + at, first);
    memcpy((unsigned char *)dst + first, data, len - first);
}

static void drain(sk_trace *t, ring *r)
{
    struct perf_event_mmap_page *m = r->base;
    uint64_t head = __atomic_load_n(&m->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = m->data_tail;
    while (tail + sizeof(struct perf_event_header) <= head) {
        struct perf_event_header h;
        ring_copy(r, tail, &h, sizeof h);
        if (h.size < sizeof h || tail + h.size > head)
            break;
        ring_copy(r, tail + sizeof h, t->scratch, h.size - sizeof h);
        decode(t, h.type, h.misc, t->scratch, h.size - sizeof h);
        tail += h.size;
    }
    __atomic_store_n(&m->data_tail, tail, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* The reorder queue                                                   */
/* ------------------------------------------------------------------ */

/* Sort [from, n) by time, ties in arrival order.  Keys are sorted, then
 * the events gathered once: cheaper than moving whole events in qsort. */
typedef struct sort_key {
    uint64_t time, seq;
    size_t at;
} sort_key;

static int by_key(const void *a, const void *b)
{
    const sort_key *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int sort_pending(sk_trace *t, size_t from)
{
    size_t n = t->n - from;
    bool sorted = true;
    for (size_t i = from + 1; i < t->n && sorted; i++)
        sorted = t->q[i - 1].time_ns <= t->q[i].time_ns;
    if (n < 2 || sorted) /* one busy CPU: already in order */
        return 0;
    sort_key *k = malloc(n * sizeof *k);
    sk_trace_event *ev = malloc(n * sizeof *ev);
    if (!k || !ev) {
        free(k);
        free(ev);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (sort_key){t->q[from + i].time_ns, t->seq[from + i], from + i};
    qsort(k, n, sizeof *k, by_key);
    for (size_t i = 0; i < n; i++)
        ev[i] = t->q[k[i].at];
    memcpy(t->q + from, ev, n * sizeof *ev);
    for (size_t i = 0; i < n; i++)
        t->seq[from + i] = k[i].seq;
    free(k);
    free(ev);
    return 0;
}

int sk_trace_read(sk_trace *t, int flush)
{
    if (!t)
        return -EINVAL;
    /* forget what was handed out */
    if (t->head > 0) {
        memmove(t->q, t->q + t->head, (t->n - t->head) * sizeof *t->q);
        memmove(t->seq, t->seq + t->head, (t->n - t->head) * sizeof *t->seq);
    }
    t->n -= t->head;
    t->ready -= t->head;
    t->head = 0;
    size_t before = t->n;
    uint64_t horizon = mono_ns() - REORDER_NS;
    for (int i = 0; i < t->nrings; i++)
        drain(t, &t->rings[i]);
    if (t->n > before) {
        int rc = sort_pending(t, t->ready);
        if (rc < 0)
            return rc;
    }
    while (t->ready < t->n && (flush || t->q[t->ready].time_ns <= horizon))
        t->ready++;
    return (int)(t->ready - t->head);
}

int sk_trace_next(sk_trace *t, sk_trace_event *ev)
{
    while (t && t->head < t->ready) {
        sk_trace_event *e = &t->q[t->head++];
        switch ((int)e->kind) {
        case SK_TRACE_GENERATE:
            resolve(t, &e->sender, true);
            {
                char comm[16];
                memcpy(comm, e->target.comm, sizeof comm); /* the record's: name at send time */
                resolve(t, &e->target, false);
                if (!e->target.pid && e->group)
                    e->target.pid = e->target.tid; /* process-directed: the leader */
                if (comm[0])
                    memcpy(e->target.comm, comm, sizeof comm);
            }
            break;
        case SK_TRACE_DELIVER:
            resolve(t, &e->target, false);
            break;
        case SK_TRACE_FORK:
            apply_side(t, e);
            resolve(t, &e->target, false);
            resolve(t, &e->sender, false);
            break;
        case SK_TRACE_EXIT:
            resolve(t, &e->target, false);
            apply_side(t, e);
            break;
        case KIND_COMM:
            apply_side(t, e);
            continue;
        default:
            break;
        }
        *ev = *e;
        return 1;
    }
    return 0;
}

int sk_trace_fd(const sk_trace *t)
{
    return t ? t->epfd : -EINVAL;
}

void sk_trace_stats(const sk_trace *t, uint64_t *records, uint64_t *lost)
{
    if (records)
        *records = t ? t->records : 0;
    if (lost)
        *lost = t ? t->lost : 0;
}

/* Close every ring (their fds leave the epoll set as they close). */
static void close_rings(sk_trace *t)
{
    for (int i = 0; i < t->nrings; i++) {
        ring *r = &t->rings[i];
        for (int k = 0; k < 3; k++)
            if (r->fds[k] >= 0)
                close(r->fds[k]);
        if (r->base)
            munmap(r->base, r->data_size + (size_t)sysconf(_SC_PAGESIZE));
    }
    free(t->rings);
    t->rings = NULL;
    t->nrings = 0;
}

void sk_trace_close(sk_trace *t)
{
    if (!t)
        return;
    close_rings(t);
    if (t->epfd >= 0)
        close(t->epfd);
    free(t->q);
    free(t->seq);
    free(t->tasks);
    free(t->scratch);
    free(t);
}

int sk_trace_open(const sk_trace_opts *o, sk_trace **out, char *why, size_t whylen)
{
    sk_trace_opts defaults;
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (why && whylen)
        why[0] = '\0';
    if (!o) {
        sk_trace_defaults(&defaults);
        o = &defaults;
    }
    size_t pages = o->ring_pages > 0 ? (size_t)o->ring_pages : DEFAULT_PAGES;
    if (pages & (pages - 1)) {
        say(why, whylen, "ring_pages %d is not a power of two", o->ring_pages);
        return -EINVAL;
    }
    sk_trace *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->epfd = -1;
    t->signals = o->signals;
    t->all_signals = !any_signal(&o->signals);
    int rc = -ENOMEM;
    if (!(t->scratch = malloc(65536)) || task_rehash(t, 0) < 0)
        goto fail;
    if ((rc = load_events(t, o, why, whylen)) < 0)
        goto fail;
    if ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        rc = -errno;
        goto fail;
    }
    rc = open_rings(t, pages, why, whylen);
    if (rc == -EDQUOT && o->ring_pages <= 0 && pages > FALLBACK_PAGES) {
        /* Without CAP_IPC_LOCK the default rings may exceed the allowance:
         * smaller rings drop records sooner under a flood, but work. */
        close_rings(t);
        if (why && whylen)
            why[0] = '\0';
        rc = open_rings(t, FALLBACK_PAGES, why, whylen);
    }
    if (rc == -EDQUOT)
        rc = -EPERM;
    if (rc < 0)
        goto fail;
    scan_proc(t);
    *out = t;
    return 0;
fail:
    if (rc == -ENOMEM && why && whylen && !why[0])
        say(why, whylen, "out of memory");
    sk_trace_close(t);
    return rc;
}

#else /* not Linux, or the portable build */

int sk_trace_open(const sk_trace_opts *o, sk_trace **out, char *why, size_t whylen)
{
    (void)o;
    if (out)
        *out = NULL;
    if (why && whylen)
        snprintf(why, whylen, "signal tracing is not supported on this build "
                              "(it needs Linux's perf_event_open; the portable build has none)");
    return -ENOSYS;
}

int sk_trace_fd(const sk_trace *t)
{
    (void)t;
    return -ENOSYS;
}

int sk_trace_read(sk_trace *t, int flush)
{
    (void)t;
    (void)flush;
    return -ENOSYS;
}

int sk_trace_next(sk_trace *t, sk_trace_event *ev)
{
    (void)t;
    (void)ev;
    return 0;
}

void sk_trace_stats(const sk_trace *t, uint64_t *records, uint64_t *lost)
{
    (void)t;
    if (records)
        *records = 0;
    if (lost)
        *lost = 0;
}

void sk_trace_close(sk_trace *t)
{
    (void)t;
}

#endif

void sk_trace_defaults(sk_trace_opts *o)
{
    memset(o, 0, sizeof *o);
    sigemptyset(&o->signals);
    o->ring_pages = 0; /* DEFAULT_PAGES, or FALLBACK_PAGES when mlock is short */
    o->may_mount = 1;
}
