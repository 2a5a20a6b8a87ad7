// SPDX-License-Identifier: MIT
/*
 * operators: the [auth] operators file, and checking a name and PIN with
 * crypt(3) (libxcrypt: yescrypt, SHA-512, bcrypt...). Format and rules in
 * include/phasor/operators.h.
 */
#include "phasor/operators.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phasor/diag.h"
#include "phasor/util.h"

#define NAME_MAX_BYTES 63

struct person {
	char name[NAME_MAX_BYTES + 1];
	char *hash;
};

struct operators {
	struct person *p;
	size_t n;
};

void operators_free(struct operators *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++)
		free(o->p[i].hash);
	free(o->p);
	free(o);
}

size_t operators_count(const struct operators *o)
{
	return o != NULL ? o->n : 0;
}

/* A hash crypt(3) takes: hashing anything with it as the setting works. */
static int hash_usable(const char *hash)
{
	struct crypt_data cd;
	const char *r;

	if (hash[0] != '$')
		return 0;
	memset(&cd, 0, sizeof(cd));
	r = crypt_r("probe", hash, &cd);
	return r != NULL && r[0] != '*';
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

struct operators *operators_load(const char *path, struct diag *d)
{
	struct operators *o;
	struct stat sb;
	char line[1024];
	size_t errors = 0;
	int ln = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		diag_add(d, path, 0, "[auth] operators: cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & (S_IWGRP | S_IWOTH | S_IROTH))) {
		diag_add(d, path, 0,
			 "[auth] operators: the file is %s (mode %03o): chmod 640 it (owner root or"
			 " phasor, group the operators')",
			 sb.st_mode & (S_IWGRP | S_IWOTH) ? "writable by others than its owner"
							 : "readable by everyone",
			 (unsigned)(sb.st_mode & 0777));
		fclose(f);
		return NULL;
	}
	o = util_calloc(1, sizeof(*o));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon, *s = line;
		size_t k;

		ln++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			diag_add(d, path, ln, "line too long");
			errors++;
			for (int c; (c = fgetc(f)) != EOF && c != '\n';)
				;
			continue;
		}
		line[strcspn(line, "\n")] = '\0';
		trim(line);
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		/* the name holds no ':' (crypt's hashes neither) */
		colon = strchr(s, ':');
		if (colon == NULL) {
			diag_add(d, path, ln, "expected NAME:HASH");
			errors++;
			continue;
		}
		*colon = '\0';
		trim(s);
		while (colon[1] == ' ' || colon[1] == '\t')
			colon++;
		if (*s == '\0' || strlen(s) > NAME_MAX_BYTES || util_has_control(s)) {
			diag_add(d, path, ln, "the name must be 1 to %d bytes, no control characters",
				 NAME_MAX_BYTES);
			errors++;
			continue;
		}
		if (!hash_usable(colon + 1)) {
			diag_add(d, path, ln,
				 "%s: not a crypt(3) hash this system knows (make one with mkpasswd or"
				 " openssl passwd -6)", s);
			errors++;
			continue;
		}
		for (k = 0; k < o->n && strcmp(o->p[k].name, s) != 0; k++)
			;
		if (k < o->n) {
			diag_add(d, path, ln, "%s: given twice", s);
			errors++;
			continue;
		}
		o->p = util_reallocarray(o->p, o->n + 1, sizeof(*o->p));
		util_strlcpy(o->p[o->n].name, s, sizeof(o->p[o->n].name));
		o->p[o->n].hash = util_strdup(colon + 1);
		o->n++;
	}
	fclose(f);
	if (errors == 0 && o->n == 0) {
		diag_add(d, path, 0, "[auth] operators: nobody in the file: nobody could act");
		errors++;
	}
	if (errors > 0) {
		operators_free(o);
		return NULL;
	}
	return o;
}

int operators_verify(const struct operators *o, const char *name, const char *pin)
{
	/* an unknown name is hashed too, with a hash like the first's */
	const char *hash = o != NULL && o->n > 0 ? o->p[0].hash : NULL;
	struct crypt_data cd;
	const char *r;
	int found = 0;

	if (hash == NULL)
		return -1;
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->p[i].name, name) == 0) {
			hash = o->p[i].hash;
			found = 1;
			break;
		}
	memset(&cd, 0, sizeof(cd));
	r = crypt_r(pin, hash, &cd);
	return found && r != NULL && r[0] != '*' && strcmp(r, hash) == 0 ? 0 : -1;
}
