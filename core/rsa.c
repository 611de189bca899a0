/* RSA keys through OpenSSL 3's EVP API, loaded on first use
 * (core/crypto_lib.h). */
#include "core/rsa.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include <openssl/core_names.h>

#include "core/crypto_lib.h"
#include "core/error.h"

struct df_rsa {
  EVP_PKEY *pkey;
};

int
df_rsa_generate(int bits, struct df_rsa **out)
{
  EVP_PKEY_CTX *ctx;
  EVP_PKEY *pkey = NULL;
  struct df_rsa *key;
  int rc = df_crypto_lib_load();

  if (rc != DF_OK) return rc;
  ctx = df_ssl.EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
  if (ctx == NULL) return DF_ENOMEM;
  if (df_ssl.EVP_PKEY_keygen_init(ctx) <= 0 || df_ssl.EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
      df_ssl.EVP_PKEY_keygen(ctx, &pkey) <= 0) {
    df_ssl.EVP_PKEY_CTX_free(ctx);
    return DF_EIO;
  }
  df_ssl.EVP_PKEY_CTX_free(ctx);
  key = calloc(1, sizeof(*key));
  if (key == NULL) {
    df_ssl.EVP_PKEY_free(pkey);
    return DF_ENOMEM;
  }
  key->pkey = pkey;
  *out = key;
  return DF_OK;
}

int
df_rsa_load_pem(const char *path, struct df_rsa **out)
{
  FILE *f;
  EVP_PKEY *pkey;
  struct df_rsa *key;
  int rc = df_crypto_lib_load();

  if (rc != DF_OK) return rc;
  f = fopen(path, "r");
  if (f == NULL) return df_error_from_errno(errno);
  /* PEM_read_PrivateKey accepts PKCS#8 and traditional PKCS#1 alike. */
  pkey = df_ssl.PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (pkey == NULL) return DF_ECORRUPT;
  if (df_ssl.EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    df_ssl.EVP_PKEY_free(pkey);
    return DF_ECORRUPT;
  }
  key = calloc(1, sizeof(*key));
  if (key == NULL) {
    df_ssl.EVP_PKEY_free(pkey);
    return DF_ENOMEM;
  }
  key->pkey = pkey;
  *out = key;
  return DF_OK;
}

int
df_rsa_save_pem(const struct df_rsa *key, const char *path)
{
  char tmp[4096];
  int fd;
  FILE *f;
  int ok;

  if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
    return DF_EINVAL;
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return df_error_from_errno(errno);
  f = fdopen(fd, "w");
  if (f == NULL) {
    close(fd);
    unlink(tmp);
    return DF_ENOMEM;
  }
  ok = df_ssl.PEM_write_PrivateKey(f, key->pkey, NULL, NULL, 0, NULL, NULL) == 1;
  ok = (fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  if (fclose(f) != 0) ok = 0;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return DF_EIO;
  }
  return DF_OK;
}

void
df_rsa_free(struct df_rsa *key)
{
  if (key == NULL) return;
  df_ssl.EVP_PKEY_free(key->pkey);
  free(key);
}

size_t
df_rsa_size(const struct df_rsa *key)
{
  return (size_t)df_ssl.EVP_PKEY_get_size(key->pkey);
}

int
df_rsa_sign_sha1_digest(const struct df_rsa *key, const uint8_t digest[20], uint8_t *sig,
                        size_t *siglen)
{
  EVP_PKEY_CTX *ctx;
  size_t len = df_rsa_size(key);
  int rc = DF_OK;

  ctx = df_ssl.EVP_PKEY_CTX_new(key->pkey, NULL);
  if (ctx == NULL) return DF_ENOMEM;
  if (df_ssl.EVP_PKEY_sign_init(ctx) <= 0 ||
      df_ssl.EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
      df_ssl.EVP_PKEY_CTX_set_signature_md(ctx, df_ssl.EVP_sha1()) <= 0 ||
      df_ssl.EVP_PKEY_sign(ctx, sig, &len, digest, 20) <= 0) {
    rc = DF_EIO;
  } else {
    *siglen = len;
  }
  df_ssl.EVP_PKEY_CTX_free(ctx);
  return rc;
}

static int
df_rsa_get_bn(const struct df_rsa *key, const char *name, BIGNUM **bn)
{
  *bn = NULL;
  if (df_ssl.EVP_PKEY_get_bn_param(key->pkey, name, bn) != 1) return DF_EIO;
  return DF_OK;
}

int
df_rsa_public_numbers(const struct df_rsa *key, uint8_t *n, uint32_t *exponent)
{
  BIGNUM *bn_n, *bn_e;
  int size = (int)df_rsa_size(key);

  if (df_rsa_get_bn(key, OSSL_PKEY_PARAM_RSA_N, &bn_n) != DF_OK) return DF_EIO;
  if (df_rsa_get_bn(key, OSSL_PKEY_PARAM_RSA_E, &bn_e) != DF_OK) {
    df_ssl.BN_free(bn_n);
    return DF_EIO;
  }
  df_ssl.BN_bn2binpad(bn_n, n, size);
  *exponent = (uint32_t)df_ssl.BN_get_word(bn_e);
  df_ssl.BN_free(bn_n);
  df_ssl.BN_free(bn_e);
  return DF_OK;
}

int
df_rsa_montgomery(const struct df_rsa *key, uint32_t *n0inv, uint8_t *rr)
{
  BIGNUM *n = NULL, *r32 = df_ssl.BN_new(), *inv = df_ssl.BN_new(), *r = df_ssl.BN_new(), *rrbn = df_ssl.BN_new();
  BN_CTX *ctx = df_ssl.BN_CTX_new();
  int size = (int)df_rsa_size(key);
  int rc = DF_EIO;

  if (r32 == NULL || inv == NULL || r == NULL || rrbn == NULL || ctx == NULL) goto out;
  if (df_rsa_get_bn(key, OSSL_PKEY_PARAM_RSA_N, &n) != DF_OK) goto out;
  /* n0inv = -(n^-1 mod 2^32) mod 2^32 */
  df_ssl.BN_set_bit(r32, 32);
  if (df_ssl.BN_mod_inverse(inv, n, r32, ctx) == NULL) goto out;
  *n0inv = (uint32_t)(0u - (uint32_t)df_ssl.BN_get_word(inv));
  /* rr = (2^(8*size))^2 mod n */
  df_ssl.BN_set_bit(r, size * 8 * 2);
  if (!df_ssl.BN_div(NULL, rrbn, r, n, ctx)) goto out;
  df_ssl.BN_bn2binpad(rrbn, rr, size);
  rc = DF_OK;
out:
  df_ssl.BN_free(n);
  df_ssl.BN_free(r32);
  df_ssl.BN_free(inv);
  df_ssl.BN_free(r);
  df_ssl.BN_free(rrbn);
  df_ssl.BN_CTX_free(ctx);
  return rc;
}
