/*
 * notify.c - the worker's side of systemd's protocols: sd_notify(3)
 * datagrams to $NOTIFY_SOCKET and the fds passed by socket activation
 * ($LISTEN_PID, $LISTEN_FDS).  The supervisor speaks the same protocol to
 * its own manager with them.
 */
#include "supervise.h"
#include "platform.h"

#include <sigkit.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC 0
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* Async-signal-safe: only socket, sendto, close. */
int sk__notify_to(const char *where, const char *msg, size_t len)
{
    struct sockaddr_un sa;
    int salen = skp_unix_addr(&sa, where); /* "@name": the abstract namespace, where there is one */
    if (salen < 0)
        return salen;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t r = sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, (socklen_t)salen);
    int err = r < 0 ? -errno : 0;
    close(fd);
    return err;
}

int sk_notify(const char *state)
{
    const char *where = getenv("NOTIFY_SOCKET");
    if (!state)
        return -EINVAL;
    if (!where || !*where)
        return 0;
    return sk__notify_to(where, state, strlen(state));
}

int sk_listen_fds(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || atol(pid) != (long)getpid())
        return 0;
    int n = atoi(fds);
    return n > 0 ? n : 0;
}
