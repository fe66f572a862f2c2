/*
 * Hot keys: ECDSA P-256 verification for a public key that signs many entries (a CI signer's
 * key), about three times as fast as ECDSA_verify.
 *
 * ECDSA_verify computes u1*G + u2*Q. OpenSSL's P-256 code (nistz256) multiplies the generator G
 * by a fixed-base comb over a built-in table (~5 us here) but Q by a variable-base window method
 * (~29 us: 255 doublings). Given a table for Q, u2*Q is a fixed-base product too. A hot key gets
 * one: 37 x 64 affine multiples of Q, ~150 KB, ~15 ms to build on libuv's thread pool so that the
 * caller's thread keeps verifying meanwhile. Both products then run through comb.c, which reads
 * one table entry per step where OpenSSL's comb scans the whole row; without OpenSSL's P-256
 * assembly (which comb.c needs) the key instead gets its own copy of the P-256 group whose
 * generator is Q, with OpenSSL's table for it (EC_GROUP_precompute_mult), and EC_POINT_mul.
 *
 * hot_verify follows ossl_ecdsa_verify / ossl_ecdsa_simple_verify_sig step by step, with the one
 * product split in two and the points added: strict DER (what OpenSSL's decode, re-encode and
 * compare lets through), 1 <= r, s < n, the digest truncated to the order's bit length,
 * R != infinity, x(R) mod n == r (checked without leaving Jacobian coordinates). The answers are
 * those of ECDSA_verify for every input (tested against it, including malformed signatures and
 * scalars at the comb's edges); only the time differs. Verification uses public data only, so
 * the variable-time inverse and table lookups leak nothing secret.
 */
#include "hot.h"
#include "comb.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <dlfcn.h>
#include <stdint.h>

/* Either table holds 37 rows x 64 affine points of 64 bytes (comb.c's, or OpenSSL's nistz256 precomputation). */
#define TABLE_BYTES COMB_TABLE_BYTES

/* One of the two: the key's comb (comb.c), or else P-256 with generator Q and OpenSSL's comb for it. */
struct hot_table {
  p256_aff *comb;
  EC_GROUP *gq;
};

/* P-256's group order n, big-endian. */
static const unsigned char ORDER_BE[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

void hot_scratch_free(hot_scratch *s) {
  EC_POINT_free(s->a);
  EC_POINT_free(s->b);
  BN_free(s->u1);
  BN_free(s->u2);
  BN_MONT_CTX_free(s->mont_p);
  BN_free(s->r);
  EC_GROUP_free(s->p256);
  BN_CTX_free(s->ctx);
  memset(s, 0, sizeof(*s));
}

/*
 * s^-1 mod n is a fifth of the verification when done by BN_mod_inverse (~8 us). OpenSSL's own
 * ECDSA uses Montgomery arithmetic modulo n written in assembly (ecp_nistz256_ord_mul_mont /
 * _ord_sqr_mont); node exports those symbols, so they are looked up at run time and used for a
 * Fermat inversion (s^(n-2)) when present and when they agree with BN_mod_inverse on a self-test.
 * Otherwise BN_mod_inverse is used: same answers, slower.
 */
typedef void (*ord_mul_fn)(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
typedef void (*ord_sqr_fn)(uint64_t r[4], const uint64_t a[4], uint64_t rep);

static void be_to_limbs(const unsigned char be[32], uint64_t out[4]) {
  for (int i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (int j = 0; j < 8; j++) v = (v << 8) | be[(3 - i) * 8 + j];
    out[i] = v;
  }
}

static void limbs_to_be(const uint64_t in[4], unsigned char be[32]) {
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 8; j++) be[(3 - i) * 8 + j] = (unsigned char)(in[i] >> (56 - 8 * j));
}

/* out = (in * 2^256)^(n-2) * 2^256 ... in Montgomery form: in_m = in*R, returns in^-1 * R. */
static void ord_inverse_mont(const hot_scratch *s, const uint64_t in_m[4], uint64_t out[4]) {
  static const unsigned char EXP[32] = {/* n - 2 */
      0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x4f};
  uint64_t table[16][4];
  memcpy(table[1], in_m, sizeof(table[1]));
  s->ord_sqr(table[2], in_m, 1);
  for (int i = 3; i < 16; i++) s->ord_mul(table[i], table[i - 1], in_m);
  uint64_t acc[4];
  memcpy(acc, table[EXP[0] >> 4], sizeof(acc));
  for (int i = 1; i < 64; i++) {
    int nib = (i & 1) ? EXP[i >> 1] & 15 : EXP[i >> 1] >> 4;
    s->ord_sqr(acc, acc, 4);
    if (nib) s->ord_mul(acc, acc, table[nib]);
  }
  memcpy(out, acc, sizeof(acc));
}

static int load_ord_functions(hot_scratch *s) {
  /* Tests set this to check the BN_mod_inverse path on machines where the fast one exists. */
  if (getenv("SIGIL_NATIVE_NO_ORD_ASM") != NULL) return 0;
  ord_mul_fn mul = (ord_mul_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_ord_mul_mont");
  ord_sqr_fn sqr = (ord_sqr_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_ord_sqr_mont");
  if (mul == NULL || sqr == NULL) return 0;
  /* RR = 2^512 mod n, to enter the Montgomery domain. */
  BIGNUM *rr = BN_new(), *n = BN_bin2bn(ORDER_BE, 32, NULL), *v = BN_new(), *inv = BN_new();
  int ok = rr && n && v && inv && BN_set_word(rr, 1) && BN_lshift(rr, rr, 512) && BN_mod(rr, rr, n, s->ctx);
  unsigned char be[32];
  if (ok) ok = BN_bn2binpad(rr, be, 32) == 32;
  if (ok) be_to_limbs(be, s->rr);
  s->ord_mul = mul;
  s->ord_sqr = sqr;
  /* Self-test against BN_mod_inverse on a spread of values, including 1 and n-1. */
  for (int i = 0; ok && i < 8; i++) {
    if (i == 0) ok = BN_one(v);
    else if (i == 1) ok = BN_sub(v, n, BN_value_one());
    else ok = BN_rand_range(v, n) && !BN_is_zero(v);
    uint64_t x[4], xm[4], w[4], one[4] = {1, 0, 0, 0};
    if (ok) ok = BN_bn2binpad(v, be, 32) == 32;
    if (!ok) break;
    be_to_limbs(be, x);
    mul(xm, x, s->rr);
    ord_inverse_mont(s, xm, w);
    mul(w, w, one);
    ok = BN_mod_inverse(inv, v, n, s->ctx) != NULL && BN_bn2binpad(inv, be, 32) == 32;
    unsigned char got[32];
    limbs_to_be(w, got);
    ok = ok && memcmp(got, be, 32) == 0;
  }
  BN_free(rr);
  BN_free(n);
  BN_free(v);
  BN_free(inv);
  ERR_clear_error();
  if (!ok) {
    s->ord_mul = NULL;
    s->ord_sqr = NULL;
  }
  return ok;
}

static int scratch_ready(hot_scratch *s) {
  if (s->ready) return 1;
  s->p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  s->ctx = BN_CTX_new();
  s->a = s->p256 ? EC_POINT_new(s->p256) : NULL;
  s->b = s->p256 ? EC_POINT_new(s->p256) : NULL;
  s->u1 = BN_new();
  s->u2 = BN_new();
  s->mont_p = BN_MONT_CTX_new();
  s->r = BN_new();
  if (!s->p256 || !s->ctx || !s->a || !s->b || !s->u1 || !s->u2 || !s->mont_p || !s->r || !BN_MONT_CTX_set(s->mont_p, EC_GROUP_get0_field(s->p256), s->ctx)) {
    hot_scratch_free(s);
    ERR_clear_error();
    return 0;
  }
  load_ord_functions(s);
  s->ready = 1;
  return 1;
}

/*
 * Strict DER ECDSA-Sig-Value for P-256, the encodings ossl_ecdsa_verify accepts after its
 * decode/re-encode comparison: SEQUENCE (short length form: the content is at most 70 bytes)
 * of two minimal non-negative INTEGERs, nothing after. A negative or zero integer is refused
 * later by the range check, as OpenSSL refuses it; here it is refused at once (same answer).
 * Writes r and s as 32-byte big-endian numbers; 0 when the encoding or the range is wrong.
 */
static int parse_der_int(const unsigned char **p, const unsigned char *end, unsigned char out[32]) {
  const unsigned char *c = *p;
  if (end - c < 3 || c[0] != 0x02 || c[1] == 0 || c[1] >= 0x80 || c[1] > end - c - 2) return 0;
  size_t len = c[1];
  const unsigned char *v = c + 2;
  if (v[0] & 0x80) return 0;                        /* negative */
  if (len > 1 && v[0] == 0 && !(v[1] & 0x80)) return 0; /* not minimal */
  if (v[0] == 0) {
    v++;
    len--;
  }
  if (len > 32) return 0; /* >= 2^256 > n */
  memset(out, 0, 32);
  memcpy(out + 32 - len, v, len);
  *p = v + len;
  return 1;
}

static int in_range(const unsigned char v[32]) {
  static const unsigned char zero[32] = {0};
  return memcmp(v, zero, 32) != 0 && memcmp(v, ORDER_BE, 32) < 0;
}

/*
 * x(R) mod n == r, without the field inversion that converting R to affine coordinates costs
 * (~4 us, a fifth of the check). R = (X : Y : Z) in Jacobian coordinates has x = X / Z^2, and
 * 0 <= x < p < 2n, so x mod n == r exactly when x == r or x == r + n, that is when
 * X == r * Z^2 (mod p), or r + n < p and X == (r + n) * Z^2 (mod p). R is not infinity (Z != 0).
 */
static int x_matches(hot_scratch *s, const EC_POINT *R, BN_CTX *ctx) {
  const BIGNUM *p = EC_GROUP_get0_field(s->p256);
  BN_CTX_start(ctx);
  BIGNUM *X = BN_CTX_get(ctx), *Z = BN_CTX_get(ctx), *z2 = BN_CTX_get(ctx), *t = BN_CTX_get(ctx);
  /* Montgomery products modulo p: mont(a, b) = a*b/M, so mont(r, mont(Z*M, Z*M)) = r*Z^2. */
  int ok = t && EC_POINT_get_Jprojective_coordinates_GFp(s->p256, R, X, NULL, Z, ctx) && BN_to_montgomery(Z, Z, s->mont_p, ctx) &&
           BN_mod_mul_montgomery(z2, Z, Z, s->mont_p, ctx) && BN_mod_mul_montgomery(t, s->r, z2, s->mont_p, ctx);
  int match = ok && BN_cmp(t, X) == 0;
  if (ok && !match && BN_add(t, s->r, EC_GROUP_get0_order(s->p256)) && BN_cmp(t, p) < 0 && BN_mod_mul_montgomery(t, t, z2, s->mont_p, ctx)) match = BN_cmp(t, X) == 0;
  BN_CTX_end(ctx);
  return match;
}

int hot_verify(hot_scratch *s, const hot_table *t, const unsigned char *dg, size_t dglen, const unsigned char *sig, size_t siglen) {
  if (dglen == 0 || dglen > 64 || siglen < 8 || siglen > 72) return 0;
  if (sig[0] != 0x30 || sig[1] >= 0x80 || (size_t)sig[1] + 2 != siglen) return 0;
  unsigned char r_be[32], s_be[32];
  const unsigned char *p = sig + 2, *end = sig + siglen;
  if (!parse_der_int(&p, end, r_be) || !parse_der_int(&p, end, s_be) || p != end) return 0;
  if (!in_range(r_be) || !in_range(s_be)) return 0;
  if (!scratch_ready(s)) return -1;

  /* e: the leftmost 256 bits of the digest (SEC 1 4.1.4 step 3; P-256's order is 256 bits). */
  unsigned char e_be[32] = {0};
  size_t take = dglen > 32 ? 32 : dglen;
  memcpy(e_be + 32 - take, dg, take);
  if (memcmp(e_be, ORDER_BE, 32) >= 0) { /* e < 2^256 < 2n: one subtraction reduces it */
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
      int d = e_be[i] - ORDER_BE[i] - borrow;
      borrow = d < 0;
      e_be[i] = (unsigned char)(d & 0xff);
    }
  }

  BN_CTX *ctx = s->ctx;
  int result = 0;
  unsigned char u1_be[32], u2_be[32];
  if (s->ord_mul) {
    uint64_t sl[4], sm[4], wm[4], el[4], rl[4], u1[4], u2[4];
    be_to_limbs(s_be, sl);
    be_to_limbs(e_be, el);
    be_to_limbs(r_be, rl);
    s->ord_mul(sm, sl, s->rr); /* s*R */
    ord_inverse_mont(s, sm, wm); /* s^-1 * R */
    s->ord_mul(u1, el, wm);      /* e * s^-1 */
    s->ord_mul(u2, rl, wm);      /* r * s^-1 */
    limbs_to_be(u1, u1_be);
    limbs_to_be(u2, u2_be);
  } else {
    BN_CTX_start(ctx);
    BIGNUM *w = BN_CTX_get(ctx), *e = BN_CTX_get(ctx), *sv = BN_CTX_get(ctx);
    const BIGNUM *n = EC_GROUP_get0_order(s->p256);
    int ok = sv && BN_bin2bn(s_be, 32, sv) && BN_bin2bn(e_be, 32, e) && BN_bin2bn(r_be, 32, s->r) && BN_mod_inverse(w, sv, n, ctx) &&
             BN_mod_mul(s->u1, e, w, n, ctx) && BN_mod_mul(s->u2, s->r, w, n, ctx) && BN_bn2binpad(s->u1, u1_be, 32) == 32 &&
             BN_bn2binpad(s->u2, u2_be, 32) == 32;
    BN_CTX_end(ctx);
    if (!ok) goto done;
  }
  if (t->comb) {
    uint64_t u1[4], u2[4], rl[4];
    be_to_limbs(u1_be, u1);
    be_to_limbs(u2_be, u2);
    be_to_limbs(r_be, rl);
    result = comb_verify(t->comb, u1, u2, rl);
    goto done;
  }
  if (!BN_bin2bn(u1_be, 32, s->u1) || !BN_bin2bn(u2_be, 32, s->u2) || !BN_bin2bn(r_be, 32, s->r)) goto done;
  /* u1*G with the built-in table, u2*Q with the key's own; both are fixed-base combs. */
  if (!EC_POINT_mul(s->p256, s->a, s->u1, NULL, NULL, ctx) || !EC_POINT_mul(t->gq, s->b, s->u2, NULL, NULL, ctx)) goto done;
  if (!EC_POINT_add(s->p256, s->a, s->a, s->b, ctx) || EC_POINT_is_at_infinity(s->p256, s->a)) goto done;
  result = x_matches(s, s->a, ctx);
done:
  ERR_clear_error();
  return result;
}

int hot_fast_inverse(hot_scratch *s) {
  return scratch_ready(s) && s->ord_mul != NULL;
}

/* Builds the table; runs on a libuv pool thread, touching no JS and no shared OpenSSL object. */
static hot_table *build_table(const unsigned char point[65]) {
  hot_table *t = NULL;
  BN_CTX *ctx = BN_CTX_new();
  EC_GROUP *gq = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  EC_POINT *q = gq ? EC_POINT_new(gq) : NULL;
  BIGNUM *order = gq ? BN_dup(EC_GROUP_get0_order(gq)) : NULL;
  BIGNUM *cofactor = gq ? BN_dup(EC_GROUP_get0_cofactor(gq)) : NULL;
  /* oct2point rejects points off the curve; 0x04 excludes infinity, and the cofactor is 1. */
  int on_curve = ctx && q && order && cofactor && point[0] == 0x04 && EC_POINT_oct2point(gq, q, point, 65, ctx) == 1;
  p256_aff *comb = on_curve ? comb_build(gq, q, ctx) : NULL;
  if (comb != NULL) {
    if ((t = calloc(1, sizeof(*t))) != NULL) t->comb = comb;
    else comb_free(comb);
  } else if (on_curve && !comb_available() && EC_GROUP_set_generator(gq, q, order, cofactor) == 1 && EC_GROUP_precompute_mult(gq, ctx) == 1 &&
             EC_GROUP_have_precompute_mult(gq) && (t = calloc(1, sizeof(*t))) != NULL) {
    t->gq = gq;
    gq = NULL;
  }
  ERR_clear_error();
  EC_POINT_free(q);
  EC_GROUP_free(gq);
  BN_free(order);
  BN_free(cofactor);
  BN_CTX_free(ctx);
  return t;
}

static void hot_table_free(hot_table *t) {
  comb_free(t->comb);
  EC_GROUP_free(t->gq);
  free(t);
}

static void free_table(napi_env env, void *data, void *hint) {
  (void)hint;
  hot_table_free((hot_table *)data);
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)TABLE_BYTES, &ignored);
}

typedef struct {
  unsigned char point[65];
  hot_table *table;
  napi_deferred deferred;
  napi_async_work work;
} precompute_job;

static void precompute_execute(napi_env env, void *data) {
  (void)env;
  precompute_job *j = (precompute_job *)data;
  j->table = build_table(j->point);
}

static void precompute_complete(napi_env env, napi_status status, void *data) {
  precompute_job *j = (precompute_job *)data;
  napi_value out;
  if (status == napi_ok && j->table != NULL && napi_create_external(env, j->table, free_table, NULL, &out) == napi_ok) {
    int64_t ignored;
    /* Tell V8 what the handle holds, so that dropped tables are collected under memory pressure. */
    napi_adjust_external_memory(env, TABLE_BYTES, &ignored);
  } else {
    if (j->table != NULL) hot_table_free(j->table);
    napi_get_null(env, &out);
  }
  napi_resolve_deferred(env, j->deferred, out);
  napi_delete_async_work(env, j->work);
  free(j);
}

/* precomputeP256(point: Buffer /- 04||X||Y -/) -> Promise<External | null> (null: not a P-256 point). */
napi_value hot_precompute_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_buffer = false;
  void *data = NULL;
  size_t len = 0;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || len != 65) {
    napi_throw_type_error(env, NULL, "precomputeP256(point: 65-byte uncompressed P-256 point)");
    return NULL;
  }
  precompute_job *j = (precompute_job *)calloc(1, sizeof(*j));
  if (j == NULL) {
    napi_throw_error(env, NULL, "precomputeP256: out of memory");
    return NULL;
  }
  memcpy(j->point, data, 65);
  napi_value promise, name;
  napi_create_string_utf8(env, "sigil_precompute_p256", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, NULL, name, precompute_execute, precompute_complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    free(j);
    napi_throw_error(env, NULL, "precomputeP256: cannot queue the work");
    return NULL;
  }
  return promise;
}
