/*
 * fuzz_listen.c - libFuzzer target: the --listen address parser.
 *
 * sk__listen_parse() only parses; nothing is opened.  What it accepts must
 * be a complete, numeric address of the family its scheme names, with a
 * port in range, and must read back the same when written out again (the
 * address a worker sees in the log is the one the user meant).  What it
 * rejects must come with a one-line reason.
 */
#include "supervise.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static void check_accepted(const char *in, const sk_listen_addr *a)
{
    char again[160];
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a->sa;
    switch (a->sa.ss_family) {
    case AF_INET:
        if (strncmp(in, "tcp://", 6) != 0 || a->len != sizeof(struct sockaddr_in))
            abort();
        snprintf(again, sizeof again, "tcp://%s:%d", a->host, a->port);
        break;
    case AF_INET6:
        if (strncmp(in, "tcp6://", 7) != 0 || a->len != sizeof(struct sockaddr_in6))
            abort();
        snprintf(again, sizeof again, "tcp6://[%s]:%d", a->host, a->port);
        break;
    case AF_UNIX:
        if (strncmp(in, "unix:", 5) != 0 || strcmp(un->sun_path, in + 5) != 0 || !un->sun_path[0])
            abort();
        return;
    default:
        abort();
    }
    if (a->port < 0 || a->port > 65535)
        abort();
    sk_listen_addr b;
    const char *why;
    if (sk__listen_parse(again, &b, &why) != 0 || b.len != a->len ||
        memcmp(&b.sa, &a->sa, a->len) != 0)
        abort(); /* written out and read back, it is the same address */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    sk_listen_addr a;
    const char *why = NULL;
    int rc = sk__listen_parse(in, &a, &why);
    if (rc == 0)
        check_accepted(in, &a);
    else if (rc != -22 || !why || !*why || strchr(why, '\n'))
        abort(); /* -EINVAL with a one-line reason, nothing else */
    free(in);
    return 0;
}
