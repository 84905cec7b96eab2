// SPDX-License-Identifier: GPL-2.0
/*
 * Connection churn on loopback: client threads connect, send a byte, read
 * the reply and close; server threads accept, read, reply and close. Half
 * the connections are closed by the client first, half by the server.
 *
 * Usage: churn [-t THREADS] [-d SECONDS] [-p PORT]
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

static atomic_long done;
static atomic_int stop;
static int port = 9911;
static int listen_fd;

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
	char b;

	(void)arg;
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
	int threads = 2, one = 1, c, i;
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
	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(port);
	if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(listen_fd, 4096))
		die("listen");
	/* A closed-first client leaves TIME_WAIT behind; reuse keeps ports coming. */
	tids = calloc(2 * threads, sizeof(*tids));
	for (i = 0; i < threads; i++)
		pthread_create(&tids[i], NULL, serve, NULL);
	start = now_s();
	for (i = 0; i < threads; i++)
		pthread_create(&tids[threads + i], NULL, client, (void *)(long)i);
	while (now_s() - start < seconds)
		usleep(10000);
	atomic_store(&stop, 1);
	shutdown(listen_fd, SHUT_RDWR);
	for (i = threads; i < 2 * threads; i++)
		pthread_join(tids[i], NULL);
	seconds = now_s() - start;
	printf("connections=%ld seconds=%.2f rate=%.0f\n", atomic_load(&done), seconds,
	       atomic_load(&done) / seconds);
	return 0;
}
