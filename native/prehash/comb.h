/* Fixed-base combs over P-256 with direct table lookups, for hot-key verification: see comb.c. */
#ifndef SIGIL_COMB_H
#define SIGIL_COMB_H
#include <stdint.h>

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/bn.h>
#include <openssl/ec.h>

/* 37 rows x 64 affine points x 64 bytes. */
#define COMB_TABLE_BYTES (37 * 64 * 64)

typedef struct p256_aff p256_aff;

/* 1 when OpenSSL's P-256 assembly was found and passed the self-test (once per process). */
int comb_available(void);
/* The comb of q (a point of g, standard P-256), checked against EC_POINT_mul; NULL when unavailable or on failure. */
p256_aff *comb_build(const EC_GROUP *g, const EC_POINT *q, BN_CTX *ctx);
void comb_free(p256_aff *table);
/* u1*G + u2*Q != infinity and its x mod n == r; all little-endian 64-bit limbs, u1, u2 in [0, n), r in [1, n). */
int comb_verify(const p256_aff *q_table, const uint64_t u1[4], const uint64_t u2[4], const uint64_t r[4]);

#endif
