/*
 * fuzz_signum.c - libFuzzer target: sk_signum() on any bytes.
 *
 * Beyond "no crash": whatever it accepts must be a signal that names
 * itself back, and nothing that is not a plain spelling may be accepted.
 */
#include <sigkit.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0'; /* a C string: the part up to the first NUL is the name */

    int signo = sk_signum(s);
    if (signo >= 0) {
        const char *name = sk_signame(signo);
        if (signo == 0 || !name || sk_signum(name) != signo || !sk_strsignal(signo) ||
            sk_default_action(signo) < 0)
            abort();
        /* An accepted word never carries a sign, space or base prefix. */
        if (strpbrk(s, " \t\n") || s[0] == '-' || s[0] == '+' || strstr(s, "0x"))
            abort();
    }
    free(s);
    return 0;
}
