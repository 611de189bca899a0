/* libarchive, loaded on first use (see core/archive_lib.h for why): dlopen
 * of its run-time name, then every function droidfix calls, looked up
 * once. */
#include "core/archive_lib.h"

#include <dlfcn.h>
#include <pthread.h>

#include "core/error.h"
#include "core/log.h"

/* The run-time name (soname) of the libarchive droidfix was built against;
 * CMake passes it in. 3.x has kept soname 13 since 3.0. */
#ifndef DF_LIBARCHIVE_SONAME
#define DF_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

struct df_archive_lib df_la;

static pthread_once_t df_archive_lib_once = PTHREAD_ONCE_INIT;
static int df_archive_lib_rc = DF_EUNSUPPORTED;

static void
df_archive_lib_open(void)
{
  /* RTLD_LOCAL: its symbols stay out of the global scope, as a linked
   * library's would not, so nothing else binds to them by accident. */
  void *h = dlopen(DF_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
  const char *missing = NULL;

  if (h == NULL) {
    const char *why = dlerror();
    df_log_error("cannot load %s, which droidfix needs to read and write packages and "
                 "backups (%s): install libarchive 3 (Debian and Ubuntu: apt install "
                 "libarchive13; Fedora: dnf install libarchive)",
                 DF_LIBARCHIVE_SONAME, why != NULL ? why : "not found");
    return;
  }
  /* Stored through a void ** as POSIX's dlsym page does: ISO C leaves the
   * conversion of a void * to a function pointer undefined. */
#define DF_ARCHIVE_LIB_SYM(name)                                   \
  *(void **)&df_la.name = dlsym(h, #name);                          \
  if (df_la.name == NULL && missing == NULL) missing = #name;
  DF_ARCHIVE_LIB_FUNCS(DF_ARCHIVE_LIB_SYM)
#undef DF_ARCHIVE_LIB_SYM
  if (missing != NULL) {
    df_log_error("%s has no %s: it is older than the libarchive 3.6 droidfix was built "
                 "against; install libarchive 3.6 or later",
                 DF_LIBARCHIVE_SONAME, missing);
    dlclose(h);
    return;
  }
  /* Kept open for the life of the process: objects made by it may live
   * until exit. */
  df_archive_lib_rc = DF_OK;
}

int
df_archive_lib_load(void)
{
  if (pthread_once(&df_archive_lib_once, df_archive_lib_open) != 0) return DF_EUNSUPPORTED;
  return df_archive_lib_rc;
}
