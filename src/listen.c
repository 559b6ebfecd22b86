/*
 * listen.c - the supervisor's listeners.
 *
 * Listeners are opened once by the master and handed to every worker as
 * fds 3.. (systemd's LISTEN_FDS convention); here they are only parsed,
 * bound and described.  Parsing touches nothing, so it can be fuzzed
 * (fuzz/fuzz_listen.c).  Numeric addresses only: resolving names would pull
 * in NSS, and a listener address is configuration, not user input.
 */
#include "supervise.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SOCK_CLOEXEC /* the fds are close-on-exec where the system can say so at creation */
#define SOCK_CLOEXEC 0
#endif

/* "PORT" -> 0..65535, else -1.  No sign, no leading zero (as sk_signum:
 * "010" is not a number a user means). */
static int parse_port(const char *s)
{
    if (!*s || strlen(s) > 5 || (s[0] == '0' && s[1]))
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

/* "tcp://HOST:PORT" body -> an IPv4 address. */
static int parse_tcp4(const char *hostport, sk_listen_addr *a, const char **why)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof a->host) {
        *why = "expected tcp://HOST:PORT";
        return -EINVAL;
    }
    memcpy(a->host, hostport, (size_t)(colon - hostport));
    a->host[colon - hostport] = '\0';
    struct sockaddr_in *sa = (struct sockaddr_in *)&a->sa;
    int port = parse_port(colon + 1);
    if (port < 0 || inet_pton(AF_INET, a->host, &sa->sin_addr) != 1) {
        *why = "expected a numeric IPv4 address and a port 0..65535";
        return -EINVAL;
    }
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    a->len = sizeof *sa;
    a->port = port;
    return 0;
}

/* "tcp6://[HOST]:PORT" body -> an IPv6 address. */
static int parse_tcp6(const char *hostport, sk_listen_addr *a, const char **why)
{
    const char *close_br = strchr(hostport, ']');
    if (hostport[0] != '[' || !close_br || close_br[1] != ':' ||
        (size_t)(close_br - hostport - 1) >= sizeof a->host) {
        *why = "expected tcp6://[HOST]:PORT";
        return -EINVAL;
    }
    memcpy(a->host, hostport + 1, (size_t)(close_br - hostport - 1));
    a->host[close_br - hostport - 1] = '\0';
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&a->sa;
    int port = parse_port(close_br + 2);
    if (port < 0 || inet_pton(AF_INET6, a->host, &sa->sin6_addr) != 1) {
        *why = "expected a numeric IPv6 address and a port 0..65535";
        return -EINVAL;
    }
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons((uint16_t)port);
    a->len = sizeof *sa;
    a->port = port;
    return 0;
}

/* "unix:PATH" body -> a filesystem socket address. */
static int parse_unix(const char *path, sk_listen_addr *a, const char **why)
{
    struct sockaddr_un *sa = (struct sockaddr_un *)&a->sa;
    if (!*path || strlen(path) >= sizeof sa->sun_path) {
        *why = "expected unix:PATH (at most 107 bytes)";
        return -EINVAL;
    }
    sa->sun_family = AF_UNIX;
    strcpy(sa->sun_path, path);
    a->len = sizeof *sa;
    return 0;
}

int sk__listen_parse(const char *addr, sk_listen_addr *a, const char **why)
{
    memset(a, 0, sizeof *a);
    *why = "expected tcp://HOST:PORT, tcp6://[HOST]:PORT or unix:PATH";
    if (strncmp(addr, "tcp://", 6) == 0)
        return parse_tcp4(addr + 6, a, why);
    if (strncmp(addr, "tcp6://", 7) == 0)
        return parse_tcp6(addr + 7, a, why);
    if (strncmp(addr, "unix:", 5) == 0)
        return parse_unix(addr + 5, a, why);
    return -EINVAL;
}

/* A TCP listener on a (IPv4 or IPv6; port 0 picks one): the socket, its
 * options, bind and listen, and the port it got, written back into a. */
static int open_inet(sk_listen_addr *a)
{
    struct sockaddr *sa = (struct sockaddr *)&a->sa;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa->sa_family == AF_INET6) /* [::] means IPv6 only */
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    fd = bind_listen(fd, sa, a->len);
    socklen_t len = a->len;
    if (fd >= 0 && getsockname(fd, sa, &len) == 0)
        a->port = ntohs(sa->sa_family == AF_INET6 ? ((struct sockaddr_in6 *)sa)->sin6_port
                                                  : ((struct sockaddr_in *)sa)->sin_port);
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

static int open_unix(const sk_listen_addr *a)
{
    const struct sockaddr_un *sa = (const struct sockaddr_un *)&a->sa;
    int err = clear_stale_unix(sa);
    if (err < 0)
        return err;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    return bind_listen(fd, (const struct sockaddr *)sa, a->len);
}

/* What the worker sees in LISTEN_FDNAMES and the log: the bound address. */
static void describe(const sk_listen_addr *a, sk_listener *l)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a->sa;
    switch (a->sa.ss_family) {
    case AF_INET:
        snprintf(l->addr, sizeof l->addr, "tcp://%s:%d", a->host, a->port);
        snprintf(l->name, sizeof l->name, "tcp");
        break;
    case AF_INET6:
        snprintf(l->addr, sizeof l->addr, "tcp6://[%s]:%d", a->host, a->port);
        snprintf(l->name, sizeof l->name, "tcp6");
        break;
    default:
        snprintf(l->addr, sizeof l->addr, "unix:%s", un->sun_path);
        snprintf(l->path, sizeof l->path, "%s", un->sun_path);
        snprintf(l->name, sizeof l->name, "unix");
        l->unlink_path = 1;
        break;
    }
}

int sk__listen_open(const char *addr, sk_listener *l, const char **why)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    sk_listen_addr a;
    int err = sk__listen_parse(addr, &a, why);
    if (err < 0)
        return err;
    int fd = a.sa.ss_family == AF_UNIX ? open_unix(&a) : open_inet(&a);
    if (fd < 0)
        return fd;
    describe(&a, l);
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
