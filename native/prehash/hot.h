/* Hot-key ECDSA P-256 verification with a per-key fixed-base table: see hot.c. */
#ifndef SIGIL_HOT_H
#define SIGIL_HOT_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/bn.h>
#include <openssl/ec.h>

typedef struct hot_table hot_table;

/* Per module instance (per thread): the standard P-256 group and a BN_CTX, made on first use. */
typedef struct {
  int ready;
  EC_GROUP *p256;
  BN_CTX *ctx;
  EC_POINT *a, *b;
  BIGNUM *u1, *u2, *r;
  BN_MONT_CTX *mont_p; /* Montgomery arithmetic modulo the field prime p */
  /* Montgomery arithmetic modulo n from node's OpenSSL, when available (hot.c). */
  void (*ord_mul)(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
  void (*ord_sqr)(uint64_t r[4], const uint64_t a[4], uint64_t rep);
  uint64_t rr[4];
} hot_scratch;

void hot_scratch_free(hot_scratch *s);
/* 1 valid, 0 not valid (any malformed input included), -1 out of memory. */
int hot_verify(hot_scratch *s, const hot_table *t, const unsigned char *dg, size_t dglen, const unsigned char *sig, size_t siglen);
/* 1 when s^-1 mod n uses OpenSSL's assembly (see hot.c), 0 when BN_mod_inverse. */
int hot_fast_inverse(hot_scratch *s);
napi_value hot_precompute_js(napi_env env, napi_callback_info info);

#endif
