/* Running a command on the phone: shell v2 (stdout, stderr and the exit
 * code apart) when the phone has the shell_v2 feature, else shell v1 (one
 * merged output, no exit code). */
#ifndef DF_ADB_SHELL_H
#define DF_ADB_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "plugins/adb/adb_conn.h"

struct df_adb_shell;

struct df_adb_shell_callbacks {
  void (*on_stdout)(void *userdata, const uint8_t *data, size_t len);
  void (*on_stderr)(void *userdata, const uint8_t *data, size_t len);
  /* status 0: exit_code is the command's (or -1 over shell v1, which loses
   * it); else why the command could not run or finish: DF_ETIMEDOUT when
   * the phone stopped answering while it ran (df_adb_stream_watch; the
   * line naming the command is logged here, once). Called once; the
   * shell object is freed after it returns. */
  void (*on_done)(void *userdata, int status, int exit_code);
};

/* Starts command (run by the phone's /system/bin/sh). Its stream is
 * watched (df_adb_stream_watch): a phone that stops answering ends it with
 * DF_ETIMEDOUT after DROIDFIX_STALL_TIMEOUT (30 s); a command that is only
 * silent runs on. */
int
df_adb_shell_start(struct df_adb_conn *conn, const char *command,
                   const struct df_adb_shell_callbacks *cbs, void *userdata,
                   struct df_adb_shell **out);

/* Stops waiting: closes the stream; on_done is not called. */
void
df_adb_shell_cancel(struct df_adb_shell *sh);


/* Runs command and gathers its output (up to max_bytes of each stream;
 * more is dropped and *truncated set). cb gets NUL-terminated buffers that
 * are freed after it returns. */
typedef void (*df_adb_capture_cb)(void *userdata, int status, int exit_code, const char *out,
                                  size_t out_len, const char *err, size_t err_len);

int
df_adb_shell_capture(struct df_adb_conn *conn, const char *command, size_t max_bytes,
                     df_adb_capture_cb cb, void *userdata);

#endif
