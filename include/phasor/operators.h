/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_OPERATORS_H
#define PHASOR_OPERATORS_H
/*
 * operators: who may act at a console ([auth] operators, docs/alarms.md
 * "Signing in"). A file of one person per line, `NAME:HASH`, HASH a
 * crypt(3) string (yescrypt `$y$...` from `mkpasswd`, SHA-512 `$6$...`
 * from `openssl passwd -6`, ...); `#` comments and blank lines. NAME is
 * what the journal records (spaces allowed; no `:` or control
 * characters; at most 63 bytes). The file must not be writable by others
 * than its owner nor readable by the world (the hashes of short PINs are
 * guessed quickly once read).
 */
#include <stddef.h>

struct diag;
struct operators;

/*
 * Read and check path; every error is added to d as path:line. NULL when
 * the file cannot be used (d says why).
 */
struct operators *operators_load(const char *path, struct diag *d);
void operators_free(struct operators *o);
size_t operators_count(const struct operators *o);

/*
 * 0 when name (exactly, as in the file) and pin match; -1 otherwise,
 * taking about as long for an unknown name as for a known one.
 */
int operators_verify(const struct operators *o, const char *name, const char *pin);

#endif
