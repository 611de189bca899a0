/* RSA keys for authenticating to phones (OpenSSL behind this header; no
 * OpenSSL type leaks out). Generic operations only: what an ADB key looks
 * like on disk and on the wire is plugins/adb's business.
 *
 * libcrypto is loaded at run time (core/crypto_lib.h): when it is missing,
 * df_rsa_generate and df_rsa_load_pem return DF_EUNSUPPORTED (the others
 * take a key, which cannot exist then). */
#ifndef DF_CORE_RSA_H
#define DF_CORE_RSA_H

#include <stddef.h>
#include <stdint.h>

struct df_rsa;

/* A new key of `bits` bits with public exponent 65537. */
int
df_rsa_generate(int bits, struct df_rsa **out);

/* Reads an unencrypted PEM private key (PKCS#8 or PKCS#1). DF_ENOENT when
 * absent, DF_ECORRUPT when the file is not such a key. */
int
df_rsa_load_pem(const char *path, struct df_rsa **out);

/* Writes the key as PKCS#8 PEM to path, created with mode 0600 through a
 * temporary file and a rename, so a crash never leaves half a key. */
int
df_rsa_save_pem(const struct df_rsa *key, const char *path);

void
df_rsa_free(struct df_rsa *key);

/* Modulus size in bytes (256 for RSA-2048). */
size_t
df_rsa_size(const struct df_rsa *key);

/* PKCS#1 v1.5 signature with the SHA-1 DigestInfo prefix over a 20-byte
 * value used as the digest as it is (not hashed again): what adbd verifies.
 * sig must hold df_rsa_size bytes; *siglen gets the length. */
int
df_rsa_sign_sha1_digest(const struct df_rsa *key, const uint8_t digest[20],
                        uint8_t *sig, size_t *siglen);

/* Public numbers: modulus big-endian into n (df_rsa_size bytes), exponent. */
int
df_rsa_public_numbers(const struct df_rsa *key, uint8_t *n, uint32_t *exponent);

/* Montgomery parameters of the modulus for a word size of 32 bits:
 * n0inv = -1/n mod 2^32, and rr = (2^(8*size))^2 mod n, big-endian into rr
 * (df_rsa_size bytes). */
int
df_rsa_montgomery(const struct df_rsa *key, uint32_t *n0inv, uint8_t *rr);

#endif
