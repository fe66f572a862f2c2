/*
 * Fixed-base combs over P-256 with direct table lookups, for hot-key verification (hot.c).
 *
 * OpenSSL's own comb for a precomputed generator (ecp_nistz256_points_mul) reads every one of the
 * 64 points of a table row at each of its 37 steps, so that a secret scalar leaves no trace in
 * the cache: 150 KB read per product. Verification multiplies by public scalars, so here each
 * step reads the one point it needs (64 bytes). With a table per hot key (64 keys: ~10 MB) the
 * full reads no longer fit the CPU's caches, and they were the largest part of a check.
 *
 * The arithmetic is OpenSSL's P-256 assembly (ecp_nistz256_*), which node exports; the symbols
 * are looked up at run time and the whole path is checked against EC_POINT_mul before use (and
 * each table after it is built). Without them hot.c keeps using EC_POINT_mul.
 *
 * Field elements are 4 little-endian 64-bit limbs in Montgomery form (a * 2^256 mod p).
 */
#include "comb.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

typedef struct {
  uint64_t X[4], Y[4], Z[4];
} p256_jac; /* Jacobian: x = X/Z^2, y = Y/Z^3; Z = 0 is the point at infinity */

struct p256_aff {
  uint64_t X[4], Y[4];
};

typedef void (*add_affine_fn)(p256_jac *r, const p256_jac *a, const p256_aff *b);
typedef void (*add_fn)(p256_jac *r, const p256_jac *a, const p256_jac *b);
typedef void (*dbl_fn)(p256_jac *r, const p256_jac *a);
typedef void (*mul_fn)(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
typedef void (*unary_fn)(uint64_t r[4], const uint64_t a[4]);

static struct {
  add_affine_fn add_affine;
  add_fn add;
  dbl_fn dbl;
  mul_fn mul;
  unary_fn sqr, to_mont, neg;
  uint64_t one[4]; /* 1 in Montgomery form */
  p256_aff *g;     /* the generator's comb */
  int ok;
} F;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static const uint64_t P[4] = {0xffffffffffffffffULL, 0x00000000ffffffffULL, 0x0000000000000000ULL, 0xffffffff00000001ULL};
static const uint64_t N[4] = {0xf3b9cac2fc632551ULL, 0xbce6faada7179e84ULL, 0xffffffffffffffffULL, 0xffffffff00000000ULL};

/* a >= b for 4-limb numbers */
static int geq(const uint64_t a[4], const uint64_t b[4]) {
  for (int i = 3; i >= 0; i--)
    if (a[i] != b[i]) return a[i] > b[i];
  return 1;
}

/* r = a - b (mod 2^256); returns the borrow */
static uint64_t sub4(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint64_t borrow = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t d = a[i] - b[i] - borrow;
    borrow = (a[i] < b[i]) | ((a[i] == b[i]) & borrow);
    r[i] = d;
  }
  return borrow;
}

/* r = a + b; returns the carry */
static uint64_t add4(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t s = a[i] + carry;
    uint64_t c1 = s < carry;
    r[i] = s + b[i];
    carry = c1 | (r[i] < b[i]);
  }
  return carry;
}

/* The assembly keeps values below 2^256, not always below p: bring one into [0, p). */
static void canon(uint64_t a[4]) {
  if (geq(a, P)) sub4(a, a, P);
}

static int is_zero4(const uint64_t a[4]) {
  return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static void bn_to_limbs(const BIGNUM *b, uint64_t out[4]) {
  unsigned char le[32];
  BN_bn2lebinpad(b, le, 32);
  for (int i = 0; i < 4; i++) {
    uint64_t v = 0;
    for (int j = 7; j >= 0; j--) v = (v << 8) | le[i * 8 + j];
    out[i] = v;
  }
}

/*
 * Signed radix-2^7 digits d[0..36] of k < 2^256, each in [-64, 64], with k = sum d[i] * 2^(7i):
 * a window above 64 becomes negative and carries one into the next. The top window holds 4 bits
 * plus a carry, so nothing carries out of it.
 */
static void recode(const uint64_t k[4], int d[37]) {
  int carry = 0;
  for (int i = 0; i < 37; i++) {
    int bit = 7 * i, limb = bit / 64, shift = bit % 64;
    uint64_t w = k[limb] >> shift;
    if (shift > 57 && limb < 3) w |= k[limb + 1] << (64 - shift);
    int v = (int)(w & 127) + carry;
    carry = v > 64;
    d[i] = carry ? v - 128 : v;
  }
}

/*
 * out = k * Q for the comb of Q (row i holds j * 2^(7i) * Q for j = 1..64) and k < n. The mixed
 * addition does not handle doubling; none occurs: before step i the sum is a multiple of Q below
 * 2^(7i-1) in absolute value, never +-d * 2^(7i) modulo n for k < n (the top step included, where
 * d * 2^252 < n for d <= 15 and d = 16 needs k >= n). A zero sum is kept as "not started".
 */
static void comb_mul(const p256_aff *table, const uint64_t k[4], p256_jac *out) {
  int d[37];
  recode(k, d);
  /* The 37 points are scattered over 150 KB that is seldom in cache (a table per hot key): ask
     for all of them at once rather than wait for each in turn. */
  for (int i = 0; i < 37; i++)
    if (d[i] != 0) __builtin_prefetch(&table[i * 64 + (d[i] < 0 ? -d[i] : d[i]) - 1]);
  int started = 0;
  p256_aff neg;
  for (int i = 0; i < 37; i++) {
    if (d[i] == 0) continue;
    const p256_aff *e = &table[i * 64 + (d[i] < 0 ? -d[i] : d[i]) - 1];
    if (d[i] < 0) {
      memcpy(neg.X, e->X, sizeof(neg.X));
      F.neg(neg.Y, e->Y);
      e = &neg;
    }
    if (!started) {
      memcpy(out->X, e->X, sizeof(out->X));
      memcpy(out->Y, e->Y, sizeof(out->Y));
      memcpy(out->Z, F.one, sizeof(out->Z));
      started = 1;
    } else {
      F.add_affine(out, out, e);
    }
  }
  if (!started) memset(out, 0, sizeof(*out));
}

/*
 * r = a + b for any two points: the equal and opposite cases are decided here (x and y compared
 * across the two Z) rather than left to the assembly.
 */
static void add_any(p256_jac *r, const p256_jac *a, const p256_jac *b) {
  if (is_zero4(a->Z)) {
    *r = *b;
    return;
  }
  if (is_zero4(b->Z)) {
    *r = *a;
    return;
  }
  uint64_t za2[4], zb2[4], u1[4], u2[4];
  F.sqr(za2, a->Z);
  F.sqr(zb2, b->Z);
  F.mul(u1, a->X, zb2);
  F.mul(u2, b->X, za2);
  canon(u1);
  canon(u2);
  if (memcmp(u1, u2, sizeof(u1)) != 0) {
    F.add(r, a, b);
    return;
  }
  uint64_t s1[4], s2[4];
  F.mul(s1, a->Y, zb2);
  F.mul(s1, s1, b->Z);
  F.mul(s2, b->Y, za2);
  F.mul(s2, s2, a->Z);
  canon(s1);
  canon(s2);
  if (memcmp(s1, s2, sizeof(s1)) == 0) F.dbl(r, a);
  else memset(r, 0, sizeof(*r));
}

/* Builds the comb of q (37 x 64 affine points) into out; 1 on success. */
static int build(const EC_GROUP *g, const EC_POINT *q, p256_aff *out, BN_CTX *ctx) {
  EC_POINT *base = EC_POINT_dup(q, g);
  EC_POINT *row[64] = {0};
  BIGNUM *x = BN_new(), *y = BN_new();
  int ok = base && x && y;
  for (int j = 0; ok && j < 64; j++) ok = (row[j] = EC_POINT_new(g)) != NULL;
  for (int i = 0; ok && i < 37; i++) {
    ok = EC_POINT_copy(row[0], base);
    for (int j = 1; ok && j < 64; j++) ok = EC_POINT_add(g, row[j], row[j - 1], base, ctx);
    /* One inversion for the row; then Z = 1 and the Jacobian X, Y are the affine ones. */
    ok = ok && EC_POINTs_make_affine(g, 64, row, ctx);
    for (int j = 0; ok && j < 64; j++) {
      ok = !EC_POINT_is_at_infinity(g, row[j]) && EC_POINT_get_affine_coordinates(g, row[j], x, y, ctx);
      if (!ok) break;
      uint64_t xl[4], yl[4];
      bn_to_limbs(x, xl);
      bn_to_limbs(y, yl);
      F.to_mont(out[i * 64 + j].X, xl);
      F.to_mont(out[i * 64 + j].Y, yl);
    }
    for (int k = 0; ok && k < 7; k++) ok = EC_POINT_dbl(g, base, base, ctx);
  }
  for (int j = 0; j < 64; j++) EC_POINT_free(row[j]);
  EC_POINT_free(base);
  BN_free(x);
  BN_free(y);
  return ok;
}

/* k * q through the comb equals EC_POINT_mul's (x and y), for k = 1, n - 1, 2^252 + 1 and a random k. */
static int check(const EC_GROUP *g, const EC_POINT *q, const p256_aff *table, BN_CTX *ctx) {
  BIGNUM *k = BN_new(), *x = BN_new(), *y = BN_new();
  EC_POINT *expected = EC_POINT_new(g);
  const BIGNUM *n = EC_GROUP_get0_order(g);
  int ok = k && x && y && expected;
  for (int i = 0; ok && i < 4; i++) {
    BN_zero(k);
    if (i == 0) ok = BN_one(k);
    else if (i == 1) ok = BN_sub(k, n, BN_value_one());
    else if (i == 2) ok = BN_set_bit(k, 252) && BN_add_word(k, 1);
    else ok = BN_rand_range(k, n) && !BN_is_zero(k);
    uint64_t kl[4], x_m[4], y_m[4], z2[4], z3[4], want[4], got[4], want_y[4], got_y[4];
    p256_jac r;
    if (!ok) break;
    bn_to_limbs(k, kl);
    comb_mul(table, kl, &r);
    ok = EC_POINT_mul(g, expected, NULL, q, k, ctx) && EC_POINT_get_affine_coordinates(g, expected, x, y, ctx) && !is_zero4(r.Z);
    if (!ok) break;
    /* The comb's X equals x * Z^2 and its Y equals y * Z^3 (all in Montgomery form). */
    bn_to_limbs(x, x_m);
    bn_to_limbs(y, y_m);
    F.to_mont(x_m, x_m);
    F.to_mont(y_m, y_m);
    F.sqr(z2, r.Z);
    F.mul(z3, z2, r.Z);
    F.mul(want, x_m, z2);
    F.mul(want_y, y_m, z3);
    canon(want);
    canon(want_y);
    memcpy(got, r.X, sizeof(got));
    memcpy(got_y, r.Y, sizeof(got_y));
    canon(got);
    canon(got_y);
    ok = memcmp(got, want, sizeof(got)) == 0 && memcmp(got_y, want_y, sizeof(got_y)) == 0;
  }
  BN_free(k);
  BN_free(x);
  BN_free(y);
  EC_POINT_free(expected);
  return ok;
}

static void init(void) {
  if (getenv("SIGIL_NATIVE_NO_COMB") != NULL) return;
  F.add_affine = (add_affine_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_point_add_affine");
  F.add = (add_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_point_add");
  F.dbl = (dbl_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_point_double");
  F.mul = (mul_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_mul_mont");
  F.sqr = (unary_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_sqr_mont");
  F.to_mont = (unary_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_to_mont");
  F.neg = (unary_fn)dlsym(RTLD_DEFAULT, "ecp_nistz256_neg");
  if (!F.add_affine || !F.add || !F.dbl || !F.mul || !F.sqr || !F.to_mont || !F.neg) return;
  static const uint64_t one[4] = {1, 0, 0, 0};
  F.to_mont(F.one, one);
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX *ctx = BN_CTX_new();
  p256_aff *table = aligned_alloc(64, COMB_TABLE_BYTES);
  int ok = g && ctx && table && build(g, EC_GROUP_get0_generator(g), table, ctx) && check(g, EC_GROUP_get0_generator(g), table, ctx);
  EC_GROUP_free(g);
  BN_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) {
    free(table);
    return;
  }
  F.g = table;
  F.ok = 1;
}

int comb_available(void) {
  pthread_once(&once, init);
  return F.ok;
}

p256_aff *comb_build(const EC_GROUP *g, const EC_POINT *q, BN_CTX *ctx) {
  if (!comb_available()) return NULL;
  /* One point per 64-byte cache line. */
  p256_aff *table = aligned_alloc(64, COMB_TABLE_BYTES);
  if (table && build(g, q, table, ctx) && check(g, q, table, ctx)) return table;
  free(table);
  ERR_clear_error();
  return NULL;
}

void comb_free(p256_aff *table) {
  free(table);
}

int comb_verify(const p256_aff *q_table, const uint64_t u1[4], const uint64_t u2[4], const uint64_t r[4]) {
  uint64_t a1[4], a2[4];
  /* Reduced below n, as comb_mul requires (ord_mul's products already are). */
  memcpy(a1, u1, sizeof(a1));
  memcpy(a2, u2, sizeof(a2));
  if (geq(a1, N)) sub4(a1, a1, N);
  if (geq(a2, N)) sub4(a2, a2, N);
  p256_jac A, B, R;
  comb_mul(F.g, a1, &A);
  comb_mul(q_table, a2, &B);
  add_any(&R, &A, &B);
  if (is_zero4(R.Z)) return 0;
  /* x(R) mod n == r: X == r * Z^2 (mod p), or r + n < p and X == (r + n) * Z^2 (see hot.c). */
  uint64_t z2[4], t[4], x[4], rn[4];
  F.sqr(z2, R.Z);
  memcpy(x, R.X, sizeof(x));
  canon(x);
  F.to_mont(t, r);
  F.mul(t, t, z2);
  canon(t);
  if (memcmp(t, x, sizeof(t)) == 0) return 1;
  if (add4(rn, r, N) || geq(rn, P)) return 0;
  F.to_mont(t, rn);
  F.mul(t, t, z2);
  canon(t);
  return memcmp(t, x, sizeof(t)) == 0;
}
