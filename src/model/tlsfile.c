// SPDX-License-Identifier: MIT
/*
 * tlsfile: checks of the PEM files named by the configuration's TLS keys
 * (include/phasor/tlsfile.h), with libcrypto. config.c calls them while it
 * validates, so that a wrong file is a file:line error of check-config,
 * not a handshake failure later in a library thread. The PEM reader is
 * given a pass phrase callback that refuses: an encrypted key must never
 * make OpenSSL prompt on the console's terminal.
 */
#include "phasor/tlsfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "phasor/util.h"

static int no_pass_phrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The first certificate of path, or NULL with *cause set. */
static X509 *read_cert(const char *path, char **cause)
{
	FILE *f = fopen(path, "r");
	X509 *first = NULL, *x;

	if (f == NULL) {
		*cause = util_printf("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((x = PEM_read_X509(f, NULL, no_pass_phrase, NULL)) != NULL) {
		if (first == NULL)
			first = x;
		else
			X509_free(x);
	}
	ERR_clear_error(); /* the end of the file reads as an error */
	fclose(f);
	if (first == NULL)
		*cause = util_printf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
				     path);
	return first;
}

char *tlsfile_check_ca(const char *path)
{
	char *cause = NULL;
	X509 *x = read_cert(path, &cause);

	X509_free(x);
	return cause;
}

/* Whether the file's text says it is encrypted (PKCS#8 or the old PEM header). */
static bool looks_encrypted(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	bool enc = false;

	if (f == NULL)
		return false;
	while (!enc && fgets(line, sizeof(line), f) != NULL)
		enc = strstr(line, "BEGIN ENCRYPTED PRIVATE KEY") != NULL ||
		      strstr(line, "Proc-Type: 4,ENCRYPTED") != NULL;
	fclose(f);
	return enc;
}

char *tlsfile_check_cert(const char *path)
{
	char *cause = NULL;
	X509 *x = read_cert(path, &cause);

	if (x != NULL && X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		cause = util_printf("%s has expired", path);
	X509_free(x);
	return cause;
}

char *tlsfile_check_key(const char *path, const char *cert)
{
	char *cause = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	FILE *f;

	if (looks_encrypted(path))
		return util_printf("%s is encrypted; phasor needs the key without a pass phrase "
				   "(openssl pkey -in KEY -out PLAIN), kept chmod 600",
				   path);
	f = fopen(path, "r");
	if (f == NULL)
		return util_printf("cannot read %s: %s", path, strerror(errno));
	k = PEM_read_PrivateKey(f, NULL, no_pass_phrase, NULL);
	fclose(f);
	if (k == NULL) {
		cause = util_printf("%s holds no PEM private key (-----BEGIN PRIVATE KEY-----)", path);
		goto out;
	}
	if (cert == NULL)
		goto out;
	x = read_cert(cert, &cause);
	free(cause); /* cert_file's own error is reported on its line */
	cause = NULL;
	if (x != NULL && X509_check_private_key(x, k) != 1)
		cause = util_printf("%s is not the key of the certificate in %s", path, cert);
out:
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	return cause;
}
