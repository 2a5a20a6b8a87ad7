// SPDX-License-Identifier: MIT
/*
 * reclock: the recorder's lock on its buffer (include/phasor/reclock.h).
 * The same pattern as the MQTT intake journal's slots: flock(2) on a file
 * beside the buffer, dropped by the kernel however the holder ends.
 */
#include "phasor/reclock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "phasor/util.h"

#define RETRY_MS 20

char *reclock_path(const char *buffer)
{
	return util_printf("%s-recorder.lock", buffer);
}

static int open_lock(const char *buffer, char **cause)
{
	char *path = reclock_path(buffer);
	int fd;

	util_mkdir_parent(path); /* the store makes it too, later */
	/* The buffer's mode (store.c): 0660 less the umask, never others'. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);

	/* An operator who may only read the buffer can still test the lock. */
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && cause != NULL)
		*cause = util_printf("cannot open %s: %s", path, strerror(errno));
	free(path);
	return fd;
}

static void read_who(int fd, char *who, size_t whosz)
{
	char raw[160];
	ssize_t n;

	if (who == NULL || whosz == 0)
		return;
	n = pread(fd, raw, sizeof(raw) - 1, 0);
	if (n <= 0) {
		util_strlcpy(who, "another process", whosz);
		return;
	}
	raw[n] = '\0';
	raw[strcspn(raw, "\n")] = '\0';
	util_sanitize(who, whosz, raw);
}

int reclock_take(const char *buffer, const char *mode, int wait_ms, int *fd, char *who,
		 size_t whosz, char **cause)
{
	int f = open_lock(buffer, cause), waited = 0;
	char text[160], host[64] = "?";

	*fd = -1;
	if (f < 0)
		return -1;
	while (flock(f, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			if (cause != NULL)
				*cause = util_printf("cannot lock %s-recorder.lock: %s", buffer,
						     strerror(errno));
			close(f);
			return -1;
		}
		if (waited >= wait_ms) {
			read_who(f, who, whosz);
			close(f);
			return 0;
		}
		util_sleep_ms(RETRY_MS);
		waited += RETRY_MS;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(text, sizeof(text), "pid %ld %s on %s\n", (long)getpid(), mode, host);
	if (ftruncate(f, 0) == 0 && pwrite(f, text, strlen(text), 0) < 0) {
		/* the text is for messages only */
	}
	*fd = f;
	return 1;
}

int reclock_probe(const char *buffer, char *who, size_t whosz, char **cause)
{
	int f = open_lock(buffer, cause), rc;

	if (f < 0)
		return -1;
	if (flock(f, LOCK_EX | LOCK_NB) == 0) {
		flock(f, LOCK_UN);
		rc = 0;
	} else if (errno == EWOULDBLOCK) {
		read_who(f, who, whosz);
		rc = 1;
	} else {
		if (cause != NULL)
			*cause = util_printf("cannot test %s-recorder.lock: %s", buffer,
					     strerror(errno));
		rc = -1;
	}
	close(f);
	return rc;
}

void reclock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
