/* File transfer with the phone over ADB's sync service: stat, list, push
 * and pull, streamed both ways in bounded memory (two buffers of the
 * connection's max payload at most), with progress.
 * One operation at a time per sync session; a pull writes LOCAL.partial and
 * renames it only when the phone said DONE, so an interrupted pull never
 * leaves a file that looks complete. If a function that takes a callback
 * returns an error, the callback is never called. */
#ifndef DF_ADB_SYNC_H
#define DF_ADB_SYNC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/loop.h"
#include "core/progress.h"
#include "plugins/adb/adb_conn.h"
#include "plugins/adb/adb_sync_protocol.h"

struct df_adb_sync;

typedef void (*df_adb_sync_ready_cb)(void *userdata, int status);
typedef void (*df_adb_sync_stat_cb)(void *userdata, int status, const struct df_sync_stat *st);
typedef void (*df_adb_sync_entry_cb)(void *userdata, const char *name,
                                     const struct df_sync_stat *st);
/* status 0 on success; else message holds the phone's FAIL text when the
 * phone refused (status DF_EDEVFAIL), or "" for local errors. */
typedef void (*df_adb_sync_done_cb)(void *userdata, int status, const char *message);

/* Opens the "sync:" service; ready(0) when the phone accepted it. */
int
df_adb_sync_open(struct df_adb_conn *conn, df_adb_sync_ready_cb ready, void *userdata,
                 struct df_adb_sync **out);

/* STAT (or STA2 when the phone has stat_v2). */
int
df_adb_sync_stat(struct df_adb_sync *sync, const char *path, df_adb_sync_stat_cb cb,
                 void *userdata);

/* LIST: entry for each name (including "." and ".." as the phone sends
 * them), then done. */
int
df_adb_sync_list(struct df_adb_sync *sync, const char *path, df_adb_sync_entry_cb entry,
                 df_adb_sync_done_cb done, void *userdata);

/* Pushes local_path to remote_path with the local file's mode and mtime.
 * progress may be NULL. */
int
df_adb_sync_push(struct df_adb_sync *sync, const char *local_path, const char *remote_path,
                 struct df_progress *progress, df_adb_sync_done_cb done, void *userdata);

/* Pulls remote_path into local_path (through local_path.partial). */
int
df_adb_sync_pull(struct df_adb_sync *sync, const char *remote_path, const char *local_path,
                 struct df_progress *progress, df_adb_sync_done_cb done, void *userdata);

/* ---- Streaming variants: the caller gives or takes the data ----
 * (additive; for backups that go straight into an archive and restores
 * that come straight out of one, with no file in between.) */

/* Where pulled data goes. Both run on the loop thread with the operation's
 * userdata. on_start (may be NULL) gets the phone's stat of the file before
 * any data is asked for; a df error from it ends the pull with that error
 * (no data is requested). on_data gets each piece in order; a df error from
 * it stops taking data (the rest is drained) and done gets that error. The
 * pieces add up to the file only when done reports 0. */
struct df_adb_sync_sink {
  int (*on_start)(void *userdata, const struct df_sync_stat *st);
  int (*on_data)(void *userdata, const uint8_t *data, size_t len);
};

/* Pulls remote_path into sink (no local file, no .partial). sink must stay
 * valid until done. progress may be NULL. */
int
df_adb_sync_pull_to(struct df_adb_sync *sync, const char *remote_path,
                    const struct df_adb_sync_sink *sink, struct df_progress *progress,
                    df_adb_sync_done_cb done, void *userdata);

/* Where pushed data comes from: read fills buf with up to len bytes and
 * returns how many (> 0), 0 at the end, or a df error. On an error the push
 * is abandoned without DONE (so the phone never takes a half file as
 * finished: adbd removes it) and done gets that error. Called on the loop
 * thread with the operation's userdata, possibly already from inside
 * df_adb_sync_push_from. */
struct df_adb_sync_source {
  ssize_t (*read)(void *userdata, void *buf, size_t len);
};

/* Pushes the source's bytes to remote_path as a regular file with mode's
 * permission bits and mtime. size is for progress only (0: unknown).
 * progress may be NULL. source must stay valid until done. */
int
df_adb_sync_push_from(struct df_adb_sync *sync, const struct df_adb_sync_source *source,
                      const char *remote_path, uint32_t mode, int64_t mtime, uint64_t size,
                      struct df_progress *progress, df_adb_sync_done_cb done, void *userdata);

/* Gives the session a watchdog on loop (which must outlive it): an
 * operation under way fails with DF_ETIMEDOUT, message "the phone stopped
 * answering ...", when the phone neither sends a byte nor takes one for
 * timeout_ms. 0 picks the default: DROIDFIX_STALL_TIMEOUT seconds from the
 * environment, else 30 s (a phone that stalls, not one that is slow: data
 * keeps flowing on a slow one). Without it an operation waits for ever. */
int
df_adb_sync_watch(struct df_adb_sync *sync, struct df_loop *loop, unsigned timeout_ms);

/* The default of df_adb_sync_watch, in milliseconds. */
unsigned
df_adb_stall_timeout_ms(void);

/* Forgets the operation under way: none of its callbacks will run, and the
 * session is no longer usable (close it). Safe inside a sync callback. */
void
df_adb_sync_abandon(struct df_adb_sync *sync);

/* Sends QUIT and closes the stream; a pending operation is abandoned (its
 * callback is not called; a pull's .partial file is removed). */
void
df_adb_sync_close(struct df_adb_sync *sync);

#endif
