// SPDX-License-Identifier: MIT
/*
 * mqttfake: a hostile MQTT broker for tests, serving one client on
 * 127.0.0.1:PORT for at most 30 s. It speaks just enough MQTT (3.1.1 and
 * 5) to do what no well-behaved broker does:
 *
 *   mqttfake PORT nul-topic TOPIC   after the SUBACK, publish (QoS 0) on
 *                                   "TOPIC\0evil" {"a_voltage":111.5}, then
 *                                   on TOPIC {"a_voltage":222.5}
 *   mqttfake PORT v3-only           answer an MQTT 5 CONNECT as a 3.1.1-only
 *                                   broker does (CONNACK, return code 1) and
 *                                   close; serve 3.1.1 as nul-topic would
 *
 * Prints "listening" once it accepts connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static time_t deadline;

static int read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (time(NULL) > deadline || poll(&p, 1, 1000) < 0)
			return -1;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		k = read(fd, buf + got, n - got);
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* One packet: type byte and body (at most cap bytes). Body length, or -1. */
static long read_packet(int fd, unsigned char *type, unsigned char *body, size_t cap)
{
	unsigned char b;
	size_t len = 0, mul = 1;
	int i;

	if (read_full(fd, type, 1) < 0)
		return -1;
	for (i = 0; i < 4; i++) {
		if (read_full(fd, &b, 1) < 0)
			return -1;
		len += (size_t)(b & 0x7f) * mul;
		mul *= 128;
		if (!(b & 0x80))
			break;
	}
	if (len > cap || read_full(fd, body, len) < 0)
		return -1;
	return (long)len;
}

static int send_all(int fd, const unsigned char *buf, size_t n)
{
	return write(fd, buf, n) == (ssize_t)n ? 0 : -1;
}

static int publish(int fd, int v5, const char *topic, size_t tlen, const char *payload)
{
	unsigned char pkt[512];
	size_t plen = strlen(payload), n = 0, rem = 2 + tlen + (v5 ? 1 : 0) + plen;

	pkt[n++] = 0x30;
	pkt[n++] = (unsigned char)rem; /* < 128 here */
	pkt[n++] = (unsigned char)(tlen >> 8);
	pkt[n++] = (unsigned char)(tlen & 0xff);
	memcpy(pkt + n, topic, tlen);
	n += tlen;
	if (v5)
		pkt[n++] = 0; /* no properties */
	memcpy(pkt + n, payload, plen);
	n += plen;
	return send_all(fd, pkt, n);
}

static int serve(int fd, const char *mode, const char *topic)
{
	unsigned char type, body[4096];
	long n;
	int v5;

	n = read_packet(fd, &type, body, sizeof(body));
	if (n < 7 || (type & 0xf0) != 0x10)
		return -1;
	v5 = body[6] == 5;
	if (strcmp(mode, "v3-only") == 0 && v5) {
		static const unsigned char refuse[] = { 0x20, 2, 0, 1 };

		send_all(fd, refuse, sizeof(refuse));
		return 0;
	}
	if (v5) {
		static const unsigned char ack[] = { 0x20, 3, 0, 0, 0 };

		send_all(fd, ack, sizeof(ack));
	} else {
		static const unsigned char ack[] = { 0x20, 2, 0, 0 };

		send_all(fd, ack, sizeof(ack));
	}
	for (;;) {
		n = read_packet(fd, &type, body, sizeof(body));
		if (n < 0)
			return 0;
		if ((type & 0xf0) == 0x80 && n >= 2) {
			/* SUBSCRIBE: packet id, [properties], filters (len, name, options) */
			unsigned char ack[64];
			size_t off = 2, k = 0, an = 4;
			char evil[256];
			size_t tl = strlen(topic);

			if (v5)
				off += 1 + body[2];
			while (off + 2 <= (size_t)n && k < 32) {
				off += 2 + ((size_t)body[off] << 8 | body[off + 1]) + 1;
				k++;
			}
			ack[0] = 0x90;
			ack[2] = body[0];
			ack[3] = body[1];
			if (v5)
				ack[an++] = 0;
			while (k-- > 0)
				ack[an++] = 0;
			ack[1] = (unsigned char)(an - 2);
			send_all(fd, ack, an);
			memcpy(evil, topic, tl);
			memcpy(evil + tl, "\0evil", 5);
			publish(fd, v5, evil, tl + 5, "{\"a_voltage\":111.5}");
			publish(fd, v5, topic, tl, "{\"a_voltage\":222.5}");
		} else if ((type & 0xf0) == 0xc0) {
			static const unsigned char pong[] = { 0xd0, 0 };

			send_all(fd, pong, sizeof(pong));
		} else if ((type & 0xf0) == 0xe0) {
			return 0;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int ls, one = 1;

	if (argc < 3 || (strcmp(argv[2], "nul-topic") == 0 && argc < 4)) {
		fprintf(stderr, "usage: mqttfake PORT nul-topic TOPIC | PORT v3-only TOPIC\n");
		return 2;
	}
	deadline = time(NULL) + 30;
	ls = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4) < 0) {
		fprintf(stderr, "mqttfake: %s\n", strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (time(NULL) < deadline) {
		struct pollfd p = { .fd = ls, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 1000) <= 0)
			continue;
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		serve(fd, argv[2], argc > 3 ? argv[3] : "t");
		close(fd);
	}
	close(ls);
	return 0;
}
