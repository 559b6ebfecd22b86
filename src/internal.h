/*
 * Internal interfaces shared by the files of libsigkit.  Nothing here is
 * public; the public API is include/sigkit.h.
 */
#ifndef SK_INTERNAL_H
#define SK_INTERNAL_H

#include "sigkit.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Signals are numbered 1 .. SK_NSIG-1 (NSIG is 65 on Linux). */
#define SK_NSIG NSIG

/* Marks a function that runs in async-signal context: it may only touch
 * lock-free atomics and call async-signal-safe system calls, and it saves
 * and restores errno. */
#define SK_SIGNAL_CONTEXT

/* names.c: the one place that decides which numbers are signals.
 * sk__check_signal: 0 if signo is a signal of this system, else -EINVAL.
 * sk__check_catchable: as above, and -EINVAL for SIGKILL/SIGSTOP and
 *   C-library-reserved signals.
 * sk__check_handleable: as above, and -ENOTSUP for synchronous faults. */
int sk__check_signal(int signo);
int sk__check_catchable(int signo);
int sk__check_handleable(int signo);

/* trampoline.c: the asyncio-style wakeup fd (-1: none), written by the
 * trampoline with one byte per arrival. */
extern _Atomic int sk__wakeup_fd;

/* Testing hook (trampoline.c): how many times the kernel delivered signo
 * to the library since start (or fork): every trampoline entry and every
 * fast-path or drain take that is not a doorbell of ours, the arrivals
 * dropped by sk_trust() included.  A real-time arrival handed back to the
 * kernel because the queue was full and readmitted later counts once. */
uint64_t sk__arrivals(int signo);

/* Convert a kernel siginfo into an sk_info (count 1). */
void sk__info_from_siginfo(sk_info *out, const siginfo_t *si);

/* Time helpers: monotonic now in ns; a timeout in ms to an absolute
 * deadline (-1 -> INT64_MAX) and back to ms left (rounded up). */
int64_t sk__now_ns(void);
int64_t sk__deadline_from_ms(int timeout_ms);
int sk__ms_left(int64_t deadline_ns);

#endif
