/*
 * proc.h - the /proc/PID/status parser behind sk_proc_signals(), exposed
 * so that tests and fuzzers can feed it any bytes.
 */
#ifndef SK_PROC_H
#define SK_PROC_H

#include "sigkit.h"

#include <stddef.h>

/*
 * Parse the signal lines of a /proc/PID/status text: SigPnd (the thread's
 * pending signals), ShdPnd (the process's), SigBlk, SigIgn and SigCgt, each
 * a hexadecimal mask where bit n-1 stands for signal n.
 *
 * buf holds len bytes and need not be NUL-terminated; it may contain any
 * bytes.  Lines other than these five are skipped, whatever their length.
 * Bits of numbers that are not user signals here (glibc's reserved 32 and
 * 33, numbers beyond NSIG) are left out of the sets.
 *
 * Returns 0 and fills *out, or -EINVAL (NULL argument) or -EPROTO (one of
 * the five lines missing, repeated or malformed), leaving *out untouched.
 */
int sk__parse_proc_status(const char *buf, size_t len, sk_procsig *out);

#endif
