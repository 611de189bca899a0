/* Error codes of droidfix: negative ints from one table, each with a name and
 * a message (the libuv way). 0 is success. */
#ifndef DF_CORE_ERROR_H
#define DF_CORE_ERROR_H

/* X(NAME, message). Append only: the numbers are part of the --json output. */
#define DF_ERROR_MAP(X)                                                  \
  X(INVAL, "invalid argument")                                           \
  X(NOMEM, "out of memory")                                              \
  X(IO, "input/output error")                                            \
  X(NOENT, "no such file or directory")                                  \
  X(ACCES, "permission denied")                                          \
  X(EXIST, "already exists")                                             \
  X(NOSPC, "no space left on device")                                    \
  X(TIMEDOUT, "timed out")                                               \
  X(CONNREFUSED, "connection refused")                                   \
  X(CONNRESET, "connection reset by peer")                               \
  X(EOF, "end of stream")                                                \
  X(CANCELED, "operation canceled")                                      \
  X(BUSY, "resource busy")                                               \
  X(NODEV, "no such device")                                             \
  X(PROTO, "protocol error")                                             \
  X(UNAUTHORIZED, "device unauthorized")                                 \
  X(CORRUPT, "corrupt or truncated data")                                \
  X(UNSAFE, "unsafe archive entry")                                      \
  X(TOOBIG, "too large")                                                 \
  X(MISMATCH, "checksum mismatch")                                       \
  X(UNSUPPORTED, "not supported")                                        \
  X(DEVFAIL, "device reported failure")                                  \
  X(USB, "USB error")                                                    \
  X(PERM, "operation not permitted")                                     \
  X(USAGE, "bad usage")

enum df_error {
  DF_OK = 0,
#define DF_ERROR_ENUM(name, msg) DF_E##name,
  DF_ERROR_FIRST_ = -1000,
  DF_ERROR_MAP(DF_ERROR_ENUM)
#undef DF_ERROR_ENUM
  DF_ERROR_LAST_
};
/* The enum above counts up from -999; DF_E* values are all negative. */

/* "EINVAL"-style name of a code; "UNKNOWN" for a code not in the table. */
const char *
df_error_name(int err);

/* Human message of a code; also accepts libuv error codes. */
const char *
df_strerror(int err);

/* Maps a libuv (negative errno) error to the closest df error. */
int
df_error_from_uv(int uv_err);

/* Maps a positive errno value to the closest df error. */
int
df_error_from_errno(int errnum);

#endif
