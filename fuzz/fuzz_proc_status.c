/*
 * fuzz_proc_status.c - libFuzzer target: the /proc/PID/status parser.
 *
 * The bytes go in unterminated (a read() buffer is not a C string); a
 * success must fill only real signals into the five sets.
 */
#include "proc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_set(const sigset_t *set)
{
    for (int s = 1; s < NSIG; s++)
        if (sigismember(set, s) == 1 && !sk_signame(s))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    sk_procsig out;
    memset(&out, 0xa5, sizeof out);
    if (sk__parse_proc_status(buf, size, &out) == 0) {
        check_set(&out.blocked);
        check_set(&out.ignored);
        check_set(&out.caught);
        check_set(&out.pending);
        check_set(&out.shared_pending);
    }
    free(buf);
    return 0;
}
