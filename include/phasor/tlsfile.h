/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TLSFILE_H
#define PHASOR_TLSFILE_H
/*
 * tlsfile: what check-config can tell about the PEM files of a TLS set-up
 * before anything connects ([mqtt] ca_file, cert_file, key_file, [sync]
 * ca_file): that a CA file holds certificates, that a client certificate
 * has not expired, that a key is not encrypted (the TLS library would ask
 * for its pass phrase on the terminal) and belongs to the certificate.
 * File modes are config's business (config_read_secret's rule).
 *
 * Each returns NULL when the file is fine, else a malloc'ed sentence that
 * names the file (the caller frees it). Nothing is printed, nothing kept.
 */

/* At least one PEM certificate in path. */
char *tlsfile_check_ca(const char *path);

/* A PEM certificate first in path (a client's), not expired. */
char *tlsfile_check_cert(const char *path);

/*
 * An unencrypted PEM private key in path; when cert is not NULL, the key of
 * the certificate in cert.
 */
char *tlsfile_check_key(const char *path, const char *cert);

#endif
