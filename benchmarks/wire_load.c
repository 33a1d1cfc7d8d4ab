/*
 * Copyright: wgforward.portforward contributors
 * GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
 *
 * TCP new-connection load generator for wire_bench.py (compiled by it at run time).
 *
 *   wire_load server PORT
 *       accept and close connections on 0.0.0.0:PORT until killed.
 *   wire_load sink PORT
 *       accept connections on 0.0.0.0:PORT and read each to its end; per connection print one
 *       JSON line: bytes, seconds (first byte to end), mbps.
 *   wire_load stream ADDR PORT SECONDS
 *       send to ADDR:PORT for SECONDS, then close (FIN) and print one JSON line: bytes, seconds.
 *   wire_load client ADDR PORT MAX_CONNECTIONS MAX_SECONDS
 *       connect/close to ADDR:PORT one after the other until either bound is reached,
 *       then print one JSON line: connections, errors, seconds, rate, p50_us, p99_us and
 *       cycle_p50_us (the median of socket() to close(): what one connection costs when the
 *       loop is not preempted, unlike the rate, which counts every pause of a shared CPU).
 *
 * Both sides close with SO_LINGER 0 (a RST): no TIME_WAIT, so the client's ephemeral
 * ports never run out and every connect() is a new conntrack entry, i.e. a new DNAT
 * lookup on the public server. One connection at a time: connect() returns when the
 * SYN-ACK is back, so its latency is the round trip through the public server's rules.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void reset_on_close(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int listener(int port)
{
    int one = 1;
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); return -1; }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) { perror("bind"); return -1; }
    if (listen(fd, 4096) < 0) { perror("listen"); return -1; }
    return fd;
}

static int serve(int port)
{
    int fd = listener(port);
    if (fd < 0) return 1;
    printf("listening %d\n", port);
    fflush(stdout);
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            perror("accept");
            return 1;
        }
        reset_on_close(c);
        close(c);
    }
}

static int sink(int port)
{
    static char buf[1 << 18];
    int fd = listener(port);
    if (fd < 0) return 1;
    printf("listening %d\n", port);
    fflush(stdout);
    for (;;) {
        long long total = 0;
        double start = 0, t;
        ssize_t got;
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            perror("accept");
            return 1;
        }
        while ((got = read(c, buf, sizeof(buf))) > 0) {
            if (!total) start = now();
            total += got;
        }
        t = now();
        printf("{\"bytes\": %lld, \"seconds\": %.6f, \"mbps\": %.1f}\n",
               total, t - start, total && t > start ? total * 8 / (t - start) / 1e6 : 0.0);
        fflush(stdout);
        close(c);
    }
}

static int stream(const char *addr, int port, double seconds)
{
    static char buf[1 << 16];
    struct sockaddr_in sa = {0};
    long long total = 0;
    double start, t;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) { perror("socket"); return 1; }
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", addr); return 2; }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) { perror("connect"); return 1; }
    memset(buf, 'x', sizeof(buf));
    start = t = now();
    while (t - start < seconds) {
        ssize_t sent = write(fd, buf, sizeof(buf));
        if (sent < 0) { perror("write"); return 1; }
        total += sent;
        t = now();
    }
    close(fd);
    printf("{\"bytes\": %lld, \"seconds\": %.6f}\n", total, t - start);
    return 0;
}

static int client(const char *addr, int port, long max_conn, double max_s)
{
    struct sockaddr_in sa = {0};
    double *lat = calloc(max_conn, sizeof(double));
    double *cyc = calloc(max_conn, sizeof(double));
    long n = 0, errors = 0;
    int first_errno = 0;
    double start, end;
    if (!lat || !cyc) { perror("calloc"); return 1; }
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) { fprintf(stderr, "bad address %s\n", addr); return 2; }
    start = now();
    end = start;
    while (n < max_conn && end - start < max_s) {
        double c0 = now(), t0;
        int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
        if (fd < 0) { perror("socket"); return 1; }
        reset_on_close(fd);
        t0 = now();
        ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        end = now();
        if (ok) {
            lat[n] = (end - t0) * 1e6;
        } else {
            if (!first_errno) first_errno = errno;
            /* A run whose connections fail measures nothing: stop early. */
            if (++errors > 100) { close(fd); break; }
        }
        close(fd);
        if (ok) {
            end = now();
            cyc[n++] = (end - c0) * 1e6;
        }
    }
    qsort(lat, n, sizeof(double), cmp_double);
    qsort(cyc, n, sizeof(double), cmp_double);
    printf("{\"connections\": %ld, \"errors\": %ld, \"first_error\": \"%s\", \"seconds\": %.6f, "
           "\"rate\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f, \"cycle_p50_us\": %.2f}\n",
           n, errors, first_errno ? strerror(first_errno) : "", end - start,
           n ? n / (end - start) : 0.0, n ? lat[n / 2] : 0.0, n ? lat[(long)(n * 0.99)] : 0.0,
           n ? cyc[n / 2] : 0.0);
    free(lat);
    free(cyc);
    return errors ? 3 : 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        return serve(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "sink") == 0)
        return sink(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "stream") == 0)
        return stream(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 6 && strcmp(argv[1], "client") == 0)
        return client(argv[2], atoi(argv[3]), atol(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: %s server PORT | client ADDR PORT MAX_CONNECTIONS MAX_SECONDS | sink PORT"
            " | stream ADDR PORT SECONDS\n", argv[0]);
    return 2;
}
