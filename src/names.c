/*
 * names.c - which numbers are signals, and what they are called.
 *
 * Everything here comes from the platform's own macros (SIGUSR1 is 10 on
 * Linux and 30 on macOS), never from a table of Linux numbers.  Real-time
 * signals are numbered at run time (SIGRTMIN is a function call on glibc,
 * which keeps the first few for itself), so their names and descriptions
 * are built once, on first use.
 *
 * The validation helpers (sk__check_*) are plain arithmetic and a scan of a
 * constant table: they are async-signal-safe, so sk_child_reset() may use
 * them between fork and exec.
 */
#include "internal.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* One standard (non-real-time) signal, or one extra spelling of it. */
typedef struct sk_signal_fact {
    int signo;
    const char *name;        /* without the "SIG" prefix */
    const char *description; /* glibc's strsignal() wording */
    int action;              /* enum sk_action, from signal(7) */
    bool alias;              /* an extra spelling: accepted, never printed */
} sk_signal_fact;

#define FACT(sig, desc, act) {SIG##sig, #sig, desc, SK_ACT_##act, false}
#define ALIAS(sig) {SIG##sig, #sig, NULL, 0, true}

/* Canonical entries first: the first entry for a number names it. */
static const sk_signal_fact standard_signals[] = {
#ifdef SIGHUP
    FACT(HUP, "Hangup", TERM),
#endif
#ifdef SIGINT
    FACT(INT, "Interrupt", TERM),
#endif
#ifdef SIGQUIT
    FACT(QUIT, "Quit", CORE),
#endif
#ifdef SIGILL
    FACT(ILL, "Illegal instruction", CORE),
#endif
#ifdef SIGTRAP
    FACT(TRAP, "Trace/breakpoint trap", CORE),
#endif
#ifdef SIGABRT
    FACT(ABRT, "Aborted", CORE),
#endif
#ifdef SIGEMT
    FACT(EMT, "EMT trap", CORE),
#endif
#ifdef SIGBUS
    FACT(BUS, "Bus error", CORE),
#endif
#ifdef SIGFPE
    FACT(FPE, "Floating point exception", CORE),
#endif
#ifdef SIGKILL
    FACT(KILL, "Killed", TERM),
#endif
#ifdef SIGUSR1
    FACT(USR1, "User defined signal 1", TERM),
#endif
#ifdef SIGSEGV
    FACT(SEGV, "Segmentation fault", CORE),
#endif
#ifdef SIGUSR2
    FACT(USR2, "User defined signal 2", TERM),
#endif
#ifdef SIGPIPE
    FACT(PIPE, "Broken pipe", TERM),
#endif
#ifdef SIGALRM
    FACT(ALRM, "Alarm clock", TERM),
#endif
#ifdef SIGTERM
    FACT(TERM, "Terminated", TERM),
#endif
#ifdef SIGSTKFLT
    FACT(STKFLT, "Stack fault", TERM),
#endif
#ifdef SIGCHLD
    FACT(CHLD, "Child exited", IGN),
#endif
#ifdef SIGCONT
    FACT(CONT, "Continued", CONT),
#endif
#ifdef SIGSTOP
    FACT(STOP, "Stopped (signal)", STOP),
#endif
#ifdef SIGTSTP
    FACT(TSTP, "Stopped", STOP),
#endif
#ifdef SIGTTIN
    FACT(TTIN, "Stopped (tty input)", STOP),
#endif
#ifdef SIGTTOU
    FACT(TTOU, "Stopped (tty output)", STOP),
#endif
#ifdef SIGURG
    FACT(URG, "Urgent I/O condition", IGN),
#endif
#ifdef SIGXCPU
    FACT(XCPU, "CPU time limit exceeded", CORE),
#endif
#ifdef SIGXFSZ
    FACT(XFSZ, "File size limit exceeded", CORE),
#endif
#ifdef SIGVTALRM
    FACT(VTALRM, "Virtual timer expired", TERM),
#endif
#ifdef SIGPROF
    FACT(PROF, "Profiling timer expired", TERM),
#endif
#ifdef SIGWINCH
    FACT(WINCH, "Window changed", IGN),
#endif
#ifdef SIGIO
    FACT(IO, "I/O possible", TERM),
#endif
#ifdef SIGPWR
    FACT(PWR, "Power failure", TERM),
#endif
#ifdef SIGINFO
    FACT(INFO, "Information request", IGN),
#endif
#ifdef SIGLOST
    FACT(LOST, "Resource lost", TERM),
#endif
#ifdef SIGSYS
    FACT(SYS, "Bad system call", CORE),
#endif
    /* Extra spellings the C library defines for one of the above. */
#ifdef SIGIOT
    ALIAS(IOT),
#endif
#ifdef SIGPOLL
    ALIAS(POLL),
#endif
#ifdef SIGCLD
    ALIAS(CLD),
#endif
#ifdef SIGUNUSED
    ALIAS(UNUSED),
#endif
};

#define N_STANDARD (sizeof standard_signals / sizeof standard_signals[0])

/* The canonical entry for signo, or NULL.  Async-signal-safe. */
static const sk_signal_fact *standard_fact(int signo)
{
    for (size_t i = 0; i < N_STANDARD; i++)
        if (standard_signals[i].signo == signo && !standard_signals[i].alias)
            return &standard_signals[i];
    return NULL;
}

/* Where the system has real-time signals: SIGRTMIN..SIGRTMAX.  glibc keeps
 * the numbers between the last standard signal and SIGRTMIN for itself
 * (32 and 33 on Linux); they are not signals for sigkit's users. */
static bool have_rt_signals(void)
{
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    return SIGRTMIN > 0 && SIGRTMIN <= SIGRTMAX && SIGRTMAX < SK_NSIG;
#else
    return false;
#endif
}

static int rt_min(void)
{
#ifdef SIGRTMIN
    return SIGRTMIN;
#else
    return 0;
#endif
}

static int rt_max(void)
{
#ifdef SIGRTMAX
    return SIGRTMAX;
#else
    return -1;
#endif
}

static bool is_rt_signal(int signo)
{
    return have_rt_signals() && signo >= rt_min() && signo <= rt_max();
}

int sk__check_signal(int signo)
{
    if (signo <= 0 || signo >= SK_NSIG)
        return -EINVAL;
    if (standard_fact(signo) || is_rt_signal(signo))
        return 0;
    return -EINVAL;
}

int sk__check_catchable(int signo)
{
    int rc = sk__check_signal(signo);
    if (rc < 0)
        return rc;
    if (signo == SIGKILL || signo == SIGSTOP)
        return -EINVAL;
    return 0;
}

/* Signals the kernel sends synchronously for a faulting instruction: a
 * deferred handler would return to the instruction, which faults again. */
static bool is_synchronous_fault(int signo)
{
    switch (signo) {
    case SIGSEGV:
    case SIGBUS:
    case SIGFPE:
    case SIGILL:
#ifdef SIGTRAP
    case SIGTRAP:
#endif
#ifdef SIGSYS
    case SIGSYS:
#endif
        return true;
    default:
        return false;
    }
}

int sk__check_handleable(int signo)
{
    int rc = sk__check_catchable(signo);
    if (rc < 0)
        return rc;
    return is_synchronous_fault(signo) ? -ENOTSUP : 0;
}

/* ------------------------------------------------------------------ */
/* Real-time names, built once                                        */
/* ------------------------------------------------------------------ */

/* Long enough for "SIGRTMIN+NNNN" and "Real-time signal NNNN". */
#define RT_TEXT_LEN 32

static char rt_names[SK_NSIG][RT_TEXT_LEN];
static char rt_descriptions[SK_NSIG][RT_TEXT_LEN];
static pthread_once_t rt_once = PTHREAD_ONCE_INIT;

/* The bash and util-linux convention: SIGRTMIN+n for the lower half of the
 * range, SIGRTMAX-n for the upper half, so that both ends read naturally. */
static void format_rt_name(char *buf, size_t len, int signo)
{
    int from_min = signo - rt_min();
    int to_max = rt_max() - signo;
    int half = (rt_max() - rt_min()) / 2;

    if (from_min == 0)
        snprintf(buf, len, "SIGRTMIN");
    else if (to_max == 0)
        snprintf(buf, len, "SIGRTMAX");
    else if (from_min <= half)
        snprintf(buf, len, "SIGRTMIN+%d", from_min);
    else
        snprintf(buf, len, "SIGRTMAX-%d", to_max);
}

static void build_rt_texts(void)
{
    if (!have_rt_signals())
        return;
    for (int s = rt_min(); s <= rt_max(); s++) {
        format_rt_name(rt_names[s], RT_TEXT_LEN, s);
        /* glibc numbers them from SIGRTMIN: "Real-time signal 0" is SIGRTMIN. */
        snprintf(rt_descriptions[s], RT_TEXT_LEN, "Real-time signal %d", s - rt_min());
    }
}

static void ensure_rt_texts(void)
{
    pthread_once(&rt_once, build_rt_texts);
}

/* ------------------------------------------------------------------ */
/* Standard names with their prefix, as static strings                */
/* ------------------------------------------------------------------ */

/* "SIG" + the table name, built once so sk_signame() can hand out a
 * pointer without an allocation per call. */
static char standard_names[SK_NSIG][RT_TEXT_LEN];
static pthread_once_t standard_once = PTHREAD_ONCE_INIT;

static void build_standard_names(void)
{
    for (size_t i = 0; i < N_STANDARD; i++) {
        const sk_signal_fact *f = &standard_signals[i];
        if (f->alias || f->signo <= 0 || f->signo >= SK_NSIG || standard_names[f->signo][0])
            continue;
        snprintf(standard_names[f->signo], RT_TEXT_LEN, "SIG%s", f->name);
    }
}

const char *sk_signame(int signo)
{
    if (sk__check_signal(signo) < 0)
        return NULL;
    if (is_rt_signal(signo)) {
        ensure_rt_texts();
        return rt_names[signo];
    }
    pthread_once(&standard_once, build_standard_names);
    return standard_names[signo];
}

const char *sk_strsignal(int signo)
{
    if (sk__check_signal(signo) < 0)
        return NULL;
    if (is_rt_signal(signo)) {
        ensure_rt_texts();
        return rt_descriptions[signo];
    }
    return standard_fact(signo)->description;
}

int sk_default_action(int signo)
{
    if (sk__check_signal(signo) < 0)
        return -EINVAL;
    if (is_rt_signal(signo))
        return SK_ACT_TERM; /* signal(7): real-time signals terminate by default */
    return standard_fact(signo)->action;
}

int sk_valid_signals(sigset_t *set)
{
    if (!set)
        return -EINVAL;
    sigemptyset(set);
    for (int s = 1; s < SK_NSIG; s++)
        if (sk__check_signal(s) == 0 && sigaddset(set, s) < 0)
            return -errno;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Parsing names                                                      */
/* ------------------------------------------------------------------ */

/* A plain decimal number: digits only, no sign, no space, no base prefix,
 * no leading zero (which some readers would take for octal).  Parsing stops
 * as soon as the value cannot be a signal, so a long digit string never
 * overflows.  Returns the number (0 for "0") or -EINVAL. */
static int parse_decimal(const char *s)
{
    int value = 0;

    if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        value = value * 10 + (*s - '0');
        if (value >= SK_NSIG)
            return -EINVAL;
    }
    return value;
}

static bool ascii_case_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'a' && *a <= 'z') ? (char)(*a - 'a' + 'A') : *a;
        char cb = (*b >= 'a' && *b <= 'z') ? (char)(*b - 'a' + 'A') : *b;
        if (ca != cb)
            return false;
    }
    return *a == *b;
}

/* Does s start with prefix (ignoring ASCII case)? */
static bool ascii_case_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char cs = (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
        if (cs != *prefix)
            return false;
    }
    return true;
}

/* "RTMIN", "RTMAX", "RTMIN+n", "RTMAX-n" (prefix already stripped). */
static int parse_rt_name(const char *s)
{
    int base, sign, offset = 0;

    if (!have_rt_signals())
        return -EINVAL;
    if (ascii_case_prefix(s, "RTMIN")) {
        base = rt_min();
        sign = +1;
    } else if (ascii_case_prefix(s, "RTMAX")) {
        base = rt_max();
        sign = -1;
    } else {
        return -EINVAL;
    }
    s += 5;
    if (*s != '\0') {
        if (*s != (sign > 0 ? '+' : '-'))
            return -EINVAL;
        offset = parse_decimal(s + 1);
        if (offset < 0)
            return -EINVAL;
    }
    int signo = base + sign * offset;
    return is_rt_signal(signo) ? signo : -EINVAL;
}

int sk_signum(const char *name)
{
    if (!name || *name == '\0')
        return -EINVAL;
    if (*name >= '0' && *name <= '9') {
        int signo = parse_decimal(name);
        return (signo > 0 && sk__check_signal(signo) == 0) ? signo : -EINVAL;
    }
    const char *bare = ascii_case_prefix(name, "SIG") ? name + 3 : name;
    for (size_t i = 0; i < N_STANDARD; i++)
        if (ascii_case_equal(bare, standard_signals[i].name))
            return sk__check_signal(standard_signals[i].signo) == 0 ? standard_signals[i].signo
                                                                    : -EINVAL;
    return parse_rt_name(bare);
}

/* ------------------------------------------------------------------ */
/* Error texts                                                        */
/* ------------------------------------------------------------------ */

/* strerror() may share one buffer between threads; strerror_r() comes in
 * two flavours (XSI returns int, GNU returns char *).  _Generic picks the
 * right reading of whichever this C library declares. */
static const char *from_gnu_strerror_r(char *result, char *buf)
{
    (void)buf;
    return result;
}

static const char *from_xsi_strerror_r(int result, char *buf)
{
    return result == 0 ? buf : NULL;
}

const char *sk_strerror(int err)
{
    static _Thread_local char buf[128];
    int e = err < 0 ? (err == INT_MIN ? INT_MAX : -err) : err;

    /* The controlling expression of _Generic is not evaluated: strerror_r
     * runs once, as the argument. */
    const char *text = _Generic(strerror_r(e, buf, sizeof buf),
                                char *: from_gnu_strerror_r,
                                int: from_xsi_strerror_r)(strerror_r(e, buf, sizeof buf), buf);
    if (!text || !*text) {
        snprintf(buf, sizeof buf, "Unknown error %d", e);
        text = buf;
    }
    return text;
}
