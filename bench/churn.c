// SPDX-License-Identifier: GPL-2.0
/*
 * Connection churn on loopback: client threads connect, send a byte, read
 * the reply and close; server threads accept, read, reply and close. Half
 * the connections are closed by the client first, half by the server.
 *
 * Connections spread over PORTS listening ports: TIME_WAIT holds each
 * 4-tuple for 60 s, and one destination port's ephemeral range would run dry.
 *
 * Usage: churn [-t THREADS] [-d SECONDS] [-p FIRST_PORT]
 * Prints: connections=N seconds=S rate=R (connections per second)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PORTS 16

static atomic_long done;
static atomic_int stop;
static int port = 9911;
static int listen_fds[PORTS];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Accept, read the byte, answer; the byte says who closes first. */
static void *serve(void *arg)
{
	int listen_fd = listen_fds[(long)arg % PORTS];
	char b;

	while (!atomic_load(&stop)) {
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			continue;
		if (read(fd, &b, 1) == 1 && write(fd, &b, 1) == 1 && b == 'c') {
			/* The client closes first: wait for its FIN. */
			while (read(fd, &b, 1) > 0)
				;
		}
		close(fd);
	}
	return NULL;
}

static void *client(void *arg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	long i = (long)arg;
	char b;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	while (!atomic_load(&stop)) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0)
			die("socket");
		to.sin_port = htons(port + i % PORTS);
		b = (i++ & 1) ? 'c' : 's';
		if (connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 && write(fd, &b, 1) == 1 &&
		    read(fd, &b, 1) == 1) {
			if (b == 's')
				while (read(fd, &b, 1) > 0)
					; /* the server closes first */
			atomic_fetch_add(&done, 1);
		}
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int threads = 2, one = 1, servers, c, i;
	double seconds = 5, start;
	pthread_t *tids;

	while ((c = getopt(argc, argv, "t:d:p:")) != -1) {
		if (c == 't')
			threads = atoi(optarg);
		else if (c == 'd')
			seconds = atof(optarg);
		else if (c == 'p')
			port = atoi(optarg);
		else
			return 2;
	}
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < PORTS; i++) {
		listen_fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(listen_fds[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		addr.sin_port = htons(port + i);
		if (bind(listen_fds[i], (struct sockaddr *)&addr, sizeof(addr)) ||
		    listen(listen_fds[i], 4096))
			die("listen");
	}
	/* One server thread per port, at least as many as client threads. */
	servers = threads > PORTS ? threads : PORTS;
	tids = calloc(servers + threads, sizeof(*tids));
	for (i = 0; i < servers; i++)
		pthread_create(&tids[i], NULL, serve, (void *)(long)i);
	start = now_s();
	for (i = 0; i < threads; i++)
		pthread_create(&tids[servers + i], NULL, client, (void *)(long)i);
	while (now_s() - start < seconds)
		usleep(10000);
	atomic_store(&stop, 1);
	for (i = 0; i < PORTS; i++)
		shutdown(listen_fds[i], SHUT_RDWR);
	for (i = servers; i < servers + threads; i++)
		pthread_join(tids[i], NULL);
	seconds = now_s() - start;
	printf("connections=%ld seconds=%.2f rate=%.0f\n", atomic_load(&done), seconds,
	       atomic_load(&done) / seconds);
	return 0;
}
