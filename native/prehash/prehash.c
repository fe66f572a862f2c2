/*
 * sigil_prehash: ECDSA verification over a precomputed digest, against the OpenSSL that node
 * itself links (node exports its OpenSSL symbols to addons; headers ship in <prefix>/include/node).
 *
 * Why native: node:crypto cannot verify ECDSA over a digest (crypto.verify always hashes), and
 * the BigInt fallback (src/crypto/ecdsa-js.ts) runs ~10x slower than OpenSSL, too slow for a
 * transparency log verifying ~15,000 hashedrekord entries per second.
 *
 * API (all inputs validated; any OpenSSL error is cleared and reported as "not valid"):
 *   newKey(curve: 0|1|2, point: Buffer /- uncompressed 04||X||Y -/) -> External | null
 *       curve 0 = P-256, 1 = P-384, 2 = P-521. null when the point is not on the curve.
 *   verify(key: External, digest: Buffer, derSignature: Buffer) -> boolean
 *   verifyPoint(curve, point, digest, derSignature) -> boolean | null  (one-shot, no handle; null = bad key)
 *   precomputeP256(point: Buffer) -> Promise<External | null>   (hot keys, see hot.c)
 *   verifyHot(table: External, digest: Buffer, derSignature: Buffer) -> boolean
 *   hotInverse() -> 'ord-asm' | 'bn'   (how verifyHot inverts s, see hot.c)
 *   hotComb() -> 'direct' | 'openssl'  (how verifyHot multiplies, see comb.c)
 *
 * ECDSA_verify parses the DER signature, re-encodes it and rejects any difference (non-canonical
 * DER), checks 1 <= r, s < n, truncates the digest to the order's bit length (SEC 1 4.1.4) and
 * rejects R = infinity: the same rules crypto.verify applies, because it is the same code.
 * The EC_KEY API is deprecated in OpenSSL 3 but remains exported; it skips the provider fetch
 * EVP_PKEY_verify does per context (measured in bench/prehash.ts).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "hot.h"
#include "comb.h"

static const int CURVE_NIDS[3] = {NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1};
static const size_t FIELD_BYTES[3] = {32, 48, 66};

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static int get_buffer(napi_env env, napi_value v, const unsigned char **data, size_t *len) {
  bool ok = false;
  if (napi_is_buffer(env, v, &ok) != napi_ok || !ok) return 0;
  void *p = NULL;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return 0;
  *data = (const unsigned char *)p;
  return 1;
}

static int get_curve(napi_env env, napi_value v, int *curve) {
  int32_t c = -1;
  if (napi_get_value_int32(env, v, &c) != napi_ok || c < 0 || c > 2) return 0;
  *curve = c;
  return 1;
}

/*
 * Loads an uncompressed point into `key` (whose group is set). EC_KEY_oct2key -> EC_POINT_oct2point
 * rejects points off the curve; the 0x04 prefix excludes the point at infinity, and the NIST
 * curves have cofactor 1, so an on-curve point has order n (no EC_KEY_check_key, which costs a
 * full scalar multiplication).
 */
static int load_point(EC_KEY *key, int curve, const unsigned char *point, size_t len) {
  if (len != 1 + 2 * FIELD_BYTES[curve] || point[0] != 0x04) return 0;
  if (EC_KEY_oct2key(key, point, len, NULL) != 1) {
    ERR_clear_error();
    return 0;
  }
  return 1;
}

static EC_KEY *make_key(int curve, const unsigned char *point, size_t len) {
  EC_KEY *key = EC_KEY_new_by_curve_name(CURVE_NIDS[curve]);
  if (key == NULL) {
    ERR_clear_error();
    return NULL;
  }
  if (!load_point(key, curve, point, len)) {
    EC_KEY_free(key);
    return NULL;
  }
  return key;
}

/*
 * One scratch EC_KEY per curve and per module instance (each worker thread has its own), reused
 * by verifyPoint: EC_KEY_new_by_curve_name builds a whole EC_GROUP (~40 us for P-256, measured),
 * more than the verification itself.
 */
typedef struct {
  EC_KEY *scratch[3];
  hot_scratch hot;
} instance_data;

static void free_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  instance_data *d = (instance_data *)data;
  for (int i = 0; i < 3; i++) EC_KEY_free(d->scratch[i]);
  hot_scratch_free(&d->hot);
  free(d);
}

static EC_KEY *scratch_key(napi_env env, int curve) {
  instance_data *d = NULL;
  if (napi_get_instance_data(env, (void **)&d) != napi_ok || d == NULL) return NULL;
  if (d->scratch[curve] == NULL) {
    d->scratch[curve] = EC_KEY_new_by_curve_name(CURVE_NIDS[curve]);
    if (d->scratch[curve] == NULL) ERR_clear_error();
  }
  return d->scratch[curve];
}

static void free_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EC_KEY_free((EC_KEY *)data);
}

static napi_value new_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int curve;
  const unsigned char *point;
  size_t len;
  if (argc < 2 || !get_curve(env, argv[0], &curve) || !get_buffer(env, argv[1], &point, &len)) {
    return throw_type(env, "newKey(curve: 0|1|2, point: Buffer)");
  }
  EC_KEY *key = make_key(curve, point, len);
  napi_value out;
  if (key == NULL) {
    napi_get_null(env, &out);
    return out;
  }
  if (napi_create_external(env, key, free_key, NULL, &out) != napi_ok) {
    EC_KEY_free(key);
    return throw_type(env, "cannot wrap key");
  }
  return out;
}

static int do_verify(EC_KEY *key, const unsigned char *dg, size_t dglen, const unsigned char *sig, size_t siglen) {
  if (dglen == 0 || dglen > 64 || siglen == 0 || siglen > 200) return 0;
  int rc = ECDSA_verify(0, dg, (int)dglen, sig, (int)siglen, key);
  if (rc != 1) ERR_clear_error();
  return rc == 1;
}

/* The arguments of verify and verifyHot: (handle: External, digest: Buffer, signature: Buffer). */
static int get_handle_args(napi_env env, napi_callback_info info, void **handle, const unsigned char **dg, size_t *dglen,
                           const unsigned char **sig, size_t *siglen) {
  size_t argc = 3;
  napi_value argv[3];
  napi_valuetype t;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return 0;
  return napi_typeof(env, argv[0], &t) == napi_ok && t == napi_external && napi_get_value_external(env, argv[0], handle) == napi_ok &&
         *handle != NULL && get_buffer(env, argv[1], dg, dglen) && get_buffer(env, argv[2], sig, siglen);
}

static napi_value verify(napi_env env, napi_callback_info info) {
  void *key = NULL;
  const unsigned char *dg, *sig;
  size_t dglen, siglen;
  if (!get_handle_args(env, info, &key, &dg, &dglen, &sig, &siglen)) {
    return throw_type(env, "verify(key: External, digest: Buffer, signature: Buffer)");
  }
  napi_value out;
  napi_get_boolean(env, do_verify((EC_KEY *)key, dg, dglen, sig, siglen), &out);
  return out;
}

static napi_value verify_point(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int curve;
  const unsigned char *point, *dg, *sig;
  size_t plen, dglen, siglen;
  if (argc < 4 || !get_curve(env, argv[0], &curve) || !get_buffer(env, argv[1], &point, &plen) ||
      !get_buffer(env, argv[2], &dg, &dglen) || !get_buffer(env, argv[3], &sig, &siglen)) {
    return throw_type(env, "verifyPoint(curve: 0|1|2, point: Buffer, digest: Buffer, signature: Buffer)");
  }
  napi_value out;
  EC_KEY *key = scratch_key(env, curve);
  if (key == NULL) return throw_type(env, "cannot create EC key");
  if (!load_point(key, curve, point, plen)) {
    napi_get_null(env, &out);
    return out;
  }
  napi_get_boolean(env, do_verify(key, dg, dglen, sig, siglen), &out);
  return out;
}

static napi_value verify_hot_js(napi_env env, napi_callback_info info) {
  void *table = NULL;
  const unsigned char *dg, *sig;
  size_t dglen, siglen;
  instance_data *d = NULL;
  if (!get_handle_args(env, info, &table, &dg, &dglen, &sig, &siglen)) {
    return throw_type(env, "verifyHot(table: External, digest: Buffer, signature: Buffer)");
  }
  if (napi_get_instance_data(env, (void **)&d) != napi_ok || d == NULL) return throw_type(env, "no instance data");
  int rc = hot_verify(&d->hot, (hot_table *)table, dg, dglen, sig, siglen);
  if (rc < 0) return throw_type(env, "verifyHot: out of memory");
  napi_value out;
  napi_get_boolean(env, rc == 1, &out);
  return out;
}

static napi_value hot_engine_js(napi_env env, napi_callback_info info) {
  (void)info;
  instance_data *d = NULL;
  if (napi_get_instance_data(env, (void **)&d) != napi_ok || d == NULL) return throw_type(env, "no instance data");
  napi_value out;
  napi_create_string_utf8(env, hot_fast_inverse(&d->hot) ? "ord-asm" : "bn", NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value hot_comb_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, comb_available() ? "direct" : "openssl", NAPI_AUTO_LENGTH, &out);
  return out;
}

NAPI_MODULE_INIT() {
  instance_data *d = (instance_data *)calloc(1, sizeof(instance_data));
  if (d == NULL || napi_set_instance_data(env, d, free_instance, NULL) != napi_ok) {
    free(d);
    napi_throw_error(env, NULL, "sigil_prehash: cannot allocate instance data");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"newKey", NULL, new_key, NULL, NULL, NULL, napi_default, NULL},
      {"verify", NULL, verify, NULL, NULL, NULL, napi_default, NULL},
      {"verifyPoint", NULL, verify_point, NULL, NULL, NULL, napi_default, NULL},
      {"precomputeP256", NULL, hot_precompute_js, NULL, NULL, NULL, napi_default, NULL},
      {"verifyHot", NULL, verify_hot_js, NULL, NULL, NULL, napi_default, NULL},
      {"hotInverse", NULL, hot_engine_js, NULL, NULL, NULL, napi_default, NULL},
      {"hotComb", NULL, hot_comb_js, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
