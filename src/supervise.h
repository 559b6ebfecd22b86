/*
 * supervise.h - internals of the supervisor (src/supervise.c, src/listen.c).
 * Not installed; the public API is the "Supervisor" section of sigkit.h.
 */
#ifndef SK_SUPERVISE_H
#define SK_SUPERVISE_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SK_SUP_MAX_LISTEN 64

typedef struct sk_listener {
    int fd;
    int unlink_path;  /* 1: a unix: path we created and remove at the end */
    char name[16];    /* LISTEN_FDNAMES entry: "tcp", "tcp6", "unix" */
    char addr[128];   /* the bound address, port 0 resolved */
    char path[108];   /* unix: path */
} sk_listener;

/* A parsed listener address: numeric only, nothing opened yet. */
typedef struct sk_listen_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    int port;       /* tcp/tcp6: 0..65535 (after open: the port bound) */
    char host[64];  /* tcp/tcp6: the numeric host as written */
} sk_listen_addr;

/* Parse "tcp://HOST:PORT", "tcp6://[HOST]:PORT" or "unix:PATH" (numeric
 * hosts only) without touching the system.  -EINVAL with *why. */
int sk__listen_parse(const char *addr, sk_listen_addr *out, const char **why);

/* Parse addr, create, bind and listen (close-on-exec, blocking).
 * Negative errno; *why gets a short reason for -EINVAL. */
int sk__listen_open(const char *addr, sk_listener *out, const char **why);

/* Close l and remove its unix path if we created it. */
void sk__listen_close(sk_listener *l);

/* Send one datagram to an sd_notify address ("/path" or "@abstract").
 * Async-signal-safe (socket, sendto, close). */
int sk__notify_to(const char *where, const char *msg, size_t len);

#endif
