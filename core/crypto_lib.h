/* What core/hash.c and core/rsa.c share, and nothing else includes:
 * libcrypto's functions, reached through a table filled by dlopen on first
 * use. Linked, libcrypto cost every start of droidfix about 120 page faults
 * and its symbol relocations (docs/benchmarks.md, Start-up), also for the
 * verbs that never hash or sign (`droidfix --version`, `droidfix recipes`).
 * OpenSSL types may appear here because this header never leaves
 * core/hash.c and core/rsa.c. */
#ifndef DF_CORE_CRYPTO_LIB_H
#define DF_CORE_CRYPTO_LIB_H

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

/* Every libcrypto function droidfix calls. A new call needs its name here
 * first; the table's field has the function's own name and type, so the
 * compiler checks each call against OpenSSL's headers. (BN_mod is a macro
 * over BN_div.) */
#define DF_CRYPTO_LIB_FUNCS(X)                                                  \
  X(BN_bn2binpad)                                                               \
  X(BN_CTX_free)                                                                \
  X(BN_CTX_new)                                                                 \
  X(BN_div)                                                                     \
  X(BN_free)                                                                    \
  X(BN_get_word)                                                                \
  X(BN_mod_inverse)                                                             \
  X(BN_new)                                                                     \
  X(BN_set_bit)                                                                 \
  X(EVP_DigestFinal_ex)                                                         \
  X(EVP_DigestInit_ex)                                                          \
  X(EVP_DigestUpdate)                                                           \
  X(EVP_MD_CTX_free)                                                            \
  X(EVP_MD_CTX_new)                                                             \
  X(EVP_md5)                                                                    \
  X(EVP_PKEY_CTX_free)                                                          \
  X(EVP_PKEY_CTX_new)                                                           \
  X(EVP_PKEY_CTX_new_id)                                                        \
  X(EVP_PKEY_CTX_set_rsa_keygen_bits)                                           \
  X(EVP_PKEY_CTX_set_rsa_padding)                                               \
  X(EVP_PKEY_CTX_set_signature_md)                                              \
  X(EVP_PKEY_free)                                                              \
  X(EVP_PKEY_get_base_id)                                                       \
  X(EVP_PKEY_get_bn_param)                                                      \
  X(EVP_PKEY_get_size)                                                          \
  X(EVP_PKEY_keygen)                                                            \
  X(EVP_PKEY_keygen_init)                                                       \
  X(EVP_PKEY_sign)                                                              \
  X(EVP_PKEY_sign_init)                                                         \
  X(EVP_sha1)                                                                   \
  X(EVP_sha256)                                                                 \
  X(PEM_read_PrivateKey)                                                        \
  X(PEM_write_PrivateKey)

struct df_crypto_lib {
#define DF_CRYPTO_LIB_FIELD(name) __typeof__(name) *name;
  DF_CRYPTO_LIB_FUNCS(DF_CRYPTO_LIB_FIELD)
#undef DF_CRYPTO_LIB_FIELD
};

/* The table; every field is set once df_crypto_lib_load returned DF_OK,
 * and not before. */
extern struct df_crypto_lib df_ssl;

/* Loads libcrypto and fills df_ssl, once per process (thread-safe: hashes
 * run on the thread pool; later calls return the first call's result at
 * once). DF_OK, or DF_EUNSUPPORTED when the library or one of its
 * functions is missing: the reason, naming the library and the package to
 * install, is logged as an error once. Called by every function that
 * creates an OpenSSL object (df_hash_new, df_rsa_generate,
 * df_rsa_load_pem); the others work on objects that exist only if it
 * succeeded. */
int
df_crypto_lib_load(void);

#endif
