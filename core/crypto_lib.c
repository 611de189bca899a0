/* libcrypto (OpenSSL 3), loaded on first use (see core/crypto_lib.h for
 * why): dlopen of its run-time name, then every function droidfix calls,
 * looked up once. */
#include "core/crypto_lib.h"

#include <dlfcn.h>
#include <pthread.h>

#include "core/error.h"
#include "core/log.h"

/* The run-time name (soname) of the libcrypto droidfix was built against;
 * CMake passes it in. OpenSSL 3.x keeps soname 3. */
#ifndef DF_LIBCRYPTO_SONAME
#define DF_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

struct df_crypto_lib df_ssl;

static pthread_once_t df_crypto_lib_once = PTHREAD_ONCE_INIT;
static int df_crypto_lib_rc = DF_EUNSUPPORTED;

static void
df_crypto_lib_open(void)
{
  /* RTLD_LOCAL: its symbols stay out of the global scope. A process that
   * links libcrypto itself (the simulated phone, some tests) gets the same
   * copy back from dlopen. */
  void *h = dlopen(DF_LIBCRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
  const char *missing = NULL;

  if (h == NULL) {
    const char *why = dlerror();
    df_log_error("cannot load %s, which droidfix needs to hash files and to sign in to "
                 "phones over ADB (%s): install OpenSSL 3's library (Debian and Ubuntu: "
                 "apt install libssl3; Fedora: dnf install openssl-libs)",
                 DF_LIBCRYPTO_SONAME, why != NULL ? why : "not found");
    return;
  }
  /* Stored through a void ** as POSIX's dlsym page does: ISO C leaves the
   * conversion of a void * to a function pointer undefined. */
#define DF_CRYPTO_LIB_SYM(name)                                    \
  *(void **)&df_ssl.name = dlsym(h, #name);                         \
  if (df_ssl.name == NULL && missing == NULL) missing = #name;
  DF_CRYPTO_LIB_FUNCS(DF_CRYPTO_LIB_SYM)
#undef DF_CRYPTO_LIB_SYM
  if (missing != NULL) {
    df_log_error("%s has no %s: it is older than the OpenSSL 3.0 droidfix was built "
                 "against; install OpenSSL 3.0 or later",
                 DF_LIBCRYPTO_SONAME, missing);
    dlclose(h);
    return;
  }
  /* Kept open for the life of the process: keys and hash contexts made by
   * it may live until exit. */
  df_crypto_lib_rc = DF_OK;
}

int
df_crypto_lib_load(void)
{
  if (pthread_once(&df_crypto_lib_once, df_crypto_lib_open) != 0) return DF_EUNSUPPORTED;
  return df_crypto_lib_rc;
}
