/*
 * listen.c - the supervisor's listeners and the sd_notify client.
 *
 * Listeners are opened once by the master and handed to every worker as
 * fds 3.. (systemd's LISTEN_FDS convention); here they are only parsed,
 * bound and described.  Numeric addresses only: resolving names would pull
 * in NSS, and a listener address is configuration, not user input.
 */
#include "supervise.h"
#include "platform.h"

#include <sigkit.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SOCK_CLOEXEC /* the fds are close-on-exec where the system can say so at creation */
#define SOCK_CLOEXEC 0
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* "PORT" -> 0..65535, else -1. */
static int parse_port(const char *s)
{
    if (!*s || strlen(s) > 5)
        return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= 65535 ? (int)v : -1;
}

/* Bind and listen fd on sa; closes fd on failure. */
static int bind_listen(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* A TCP listener on sa (IPv4 or IPv6; port 0 picks one): the socket, its
 * options, bind and listen, and the port it got, written back into sa. */
static int open_inet(struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6) /* [::] means IPv6 only */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    fd = bind_listen(fd, sa, len);
    if (fd >= 0)
        getsockname(fd, sa, &len);
    return fd;
}

static int open_tcp4(const char *hostport, sk_listener *l, const char **why)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) {
        *why = "expected tcp://HOST:PORT";
        return -EINVAL;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int port = parse_port(colon + 1);
    if (port < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        *why = "expected a numeric IPv4 address and a port 0..65535";
        return -EINVAL;
    }
    sa.sin_port = htons((uint16_t)port);
    int fd = open_inet((struct sockaddr *)&sa, sizeof sa);
    if (fd < 0)
        return fd;
    snprintf(l->addr, sizeof l->addr, "tcp://%s:%u", host, ntohs(sa.sin_port));
    snprintf(l->name, sizeof l->name, "tcp");
    return fd;
}

static int open_tcp6(const char *hostport, sk_listener *l, const char **why)
{
    char host[64];
    const char *close_br = strchr(hostport, ']');
    if (hostport[0] != '[' || !close_br || close_br[1] != ':' ||
        (size_t)(close_br - hostport - 1) >= sizeof host) {
        *why = "expected tcp6://[HOST]:PORT";
        return -EINVAL;
    }
    memcpy(host, hostport + 1, (size_t)(close_br - hostport - 1));
    host[close_br - hostport - 1] = '\0';
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    int port = parse_port(close_br + 2);
    if (port < 0 || inet_pton(AF_INET6, host, &sa.sin6_addr) != 1) {
        *why = "expected a numeric IPv6 address and a port 0..65535";
        return -EINVAL;
    }
    sa.sin6_port = htons((uint16_t)port);
    int fd = open_inet((struct sockaddr *)&sa, sizeof sa);
    if (fd < 0)
        return fd;
    snprintf(l->addr, sizeof l->addr, "tcp6://[%s]:%u", host, ntohs(sa.sin6_port));
    snprintf(l->name, sizeof l->name, "tcp6");
    return fd;
}

/* A stale socket file (nobody accepts on it) is replaced, as servers do
 * after a crash; a live one is EADDRINUSE, and any other file is left. */
static int clear_stale_unix(const struct sockaddr_un *sa)
{
    struct stat st;
    if (lstat(sa->sun_path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode))
        return -EADDRINUSE;
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return -errno;
    int live = connect(probe, (const struct sockaddr *)sa, sizeof *sa) == 0 || errno != ECONNREFUSED;
    close(probe);
    if (live)
        return -EADDRINUSE;
    return unlink(sa->sun_path) < 0 ? -errno : 0;
}

static int open_unix(const char *path, sk_listener *l, const char **why)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!*path || strlen(path) >= sizeof sa.sun_path) {
        *why = "expected unix:PATH (at most 107 bytes)";
        return -EINVAL;
    }
    strcpy(sa.sun_path, path);
    int err = clear_stale_unix(&sa);
    if (err < 0)
        return err;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    fd = bind_listen(fd, (struct sockaddr *)&sa, sizeof sa);
    if (fd < 0)
        return fd;
    snprintf(l->addr, sizeof l->addr, "unix:%s", path);
    snprintf(l->path, sizeof l->path, "%s", path);
    snprintf(l->name, sizeof l->name, "unix");
    l->unlink_path = 1;
    return fd;
}

int sk__listen_open(const char *addr, sk_listener *l, const char **why)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    *why = "expected tcp://HOST:PORT, tcp6://[HOST]:PORT or unix:PATH";
    int fd;
    if (strncmp(addr, "tcp://", 6) == 0)
        fd = open_tcp4(addr + 6, l, why);
    else if (strncmp(addr, "tcp6://", 7) == 0)
        fd = open_tcp6(addr + 7, l, why);
    else if (strncmp(addr, "unix:", 5) == 0)
        fd = open_unix(addr + 5, l, why);
    else
        return -EINVAL;
    if (fd < 0)
        return fd;
    l->fd = fd;
    return 0;
}

void sk__listen_close(sk_listener *l)
{
    if (l->fd >= 0)
        close(l->fd);
    if (l->unlink_path)
        unlink(l->path);
    l->fd = -1;
    l->unlink_path = 0;
}

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
