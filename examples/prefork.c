/*
 * prefork.c - the pre-fork master of the seeds, on the library API.
 *
 * A master opens the listening socket once and forks N workers that accept
 * on it; each answers an HTTP request with its own pid.  The master is the
 * same sk_supervisor that `sigkit run` uses, here with an in-process worker
 * function instead of a command, so it obeys the same signals:
 *
 *   TERM / INT   graceful stop (a request in flight completes)
 *   QUIT         fast stop
 *   HUP          rolling reload: new workers first, the old ones leave once
 *                their replacements said READY=1
 *   TTIN / TTOU  one worker more / fewer
 *
 * Try it:   ./prefork tcp://127.0.0.1:8080 4
 *           curl -s 127.0.0.1:8080        (prints a worker's pid)
 *           kill -HUP PID; curl ...       (new pids)
 *           kill -TTIN PID; kill -TERM PID
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sigkit.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A worker's TERM: a deferred handler, so it may touch ordinary state. */
static void on_term(const sk_info *info, void *arg)
{
    (void)info;
    *(int *)arg = 1;
}

/* Read the request head (bounded), answer with our pid, close. */
static void answer(int c)
{
    char req[2048];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t r = read(c, req + got, sizeof req - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    char body[32], resp[256];
    int blen = snprintf(body, sizeof body, "%d\n", (int)getpid());
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     "Connection: close\r\n\r\n%s", blen, body);
    if (write(c, resp, (size_t)n) < 0)
        perror("prefork: write");
    close(c);
}

/* One worker: accept on fd 3 (LISTEN_FDS) until TERM (or QUIT) from the master.  It waits on the
 * listener and on sigkit's fd together, so TERM is seen at once while idle
 * and only after the current request while busy. */
static int worker(void *arg)
{
    (void)arg;
    if (sk_listen_fds() < 1) {
        fprintf(stderr, "prefork: no listener on fd 3\n");
        return 2;
    }
    int stop = 0;
    /* Only the master may tell a worker to stop: TERM and QUIT count from
     * our parent (the master), ourselves or the kernel; anyone else's are
     * counted and dropped (sk_untrusted).  The master stops workers with
     * kill(2), whose sender the kernel vouches for. */
    static const int stops[] = {SIGTERM, SIGQUIT};
    for (size_t i = 0; i < sizeof stops / sizeof *stops; i++) {
        sk_trust(stops[i], SK_FROM_PARENT | SK_FROM_SELF | SK_FROM_KERNEL);
        sk_signal(stops[i], on_term, &stop);
    }
    sk_signal(SIGINT, SK_IGN, NULL); /* ^C reaches the whole terminal group: the master decides */
    int lfd = 3;
    /* Non-blocking: another worker may take the connection that woke us. */
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
    struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = sk_fd(), .events = POLLIN}};
    sk_notify("READY=1");
    while (!stop) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return 1;
        if (p[1].revents)
            sk_dispatch();
        if (!stop && p[0].revents) {
            int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                fcntl(c, F_SETFL, 0);
                answer(c);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : "tcp://127.0.0.1:8080";
    int n = argc > 2 ? atoi(argv[2]) : 4;

    sk_supervise_opts o;
    sk_supervise_defaults(&o);
    o.workers = n > 0 ? n : 1;
    o.graceful_timeout = 10;
    o.worker_fn = worker;

    sk_supervisor *s;
    int err = sk_supervisor_new(&s, &o);
    if (err < 0) {
        fprintf(stderr, "prefork: %s\n", sk_strerror(err));
        return 1;
    }
    if ((err = sk_supervisor_listen(s, addr)) < 0) {
        fprintf(stderr, "prefork: %s: %s\n", addr, sk_strerror(err));
        sk_supervisor_free(s);
        return 1;
    }
    int rc = sk_supervisor_run(s); /* logs "listening on ..." and each event on stderr */
    if (rc < 0) {
        fprintf(stderr, "prefork: %s\n", sk_strerror(rc));
        rc = 1;
    }
    sk_supervisor_free(s);
    return rc;
}
