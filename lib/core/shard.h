/*
 * shard.h — `--shard K/N` (shard.c) and the SHA-256 a report's matrix
 * digest is made of (digest.c): what run, fastpath and stress cut their
 * configurations by, and merge checks.
 */
#ifndef AB_SHARD_H
#define AB_SHARD_H

#include <stddef.h>

/* `--shard K/N`: the K-th of N slices of a command's configurations; count
 * 0 is the whole matrix (no --shard). */
#define AB_SHARD_MAX 10000
struct ab_shard {
    unsigned index, count;
};
/* "K/N" with 0 <= K < N <= AB_SHARD_MAX: 0, -EINVAL (not K/N), -ERANGE. */
int ab_shard_parse(const char *s, struct ab_shard *out);
/* The slice of each of n configurations (shard_of[i] in [0, count)), from
 * their expected costs alone: the costliest first, each to the slice that
 * has the least so far (the lowest index among equals).  Deterministic,
 * so every shard computes the same slices.  0 or -ENOMEM. */
int ab_shard_assign(const double *cost, size_t n, unsigned count, unsigned *shard_of);
/* SHA-256 of len bytes: 64 lowercase hex digits and a NUL. */
void ab_sha256_hex(const void *data, size_t len, char out[65]);

#endif
