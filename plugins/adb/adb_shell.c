/* The shell service over an ADB stream, v2 or v1. */
#include "plugins/adb/adb_shell.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "plugins/adb/adb_shell_protocol.h"

struct df_adb_shell {
  struct df_adb_stream *stream;
  const struct df_adb_shell_callbacks *cbs;
  void *userdata;
  struct df_shell_decoder decoder;
  bool v2;
  int exit_code;
  bool have_exit;
  unsigned stall_ms;
  char what[80]; /* the command, shortened, for the stall message */
};

static void
df_adb_shell_finish(struct df_adb_shell *sh, int status)
{
  const struct df_adb_shell_callbacks *cbs = sh->cbs;
  void *userdata = sh->userdata;
  int code = sh->have_exit ? sh->exit_code : -1;

  /* Understood here, and only here: the callers see DF_ETIMEDOUT. */
  if (status == DF_ETIMEDOUT && sh->stall_ms > 0)
    df_log_error("shell '%s': the phone sent nothing for %u s (and did not answer droidfix's "
                 "check either); check the cable and that the phone is awake, then run the "
                 "same command again",
                 sh->what, sh->stall_ms / 1000);
  free(sh);
  cbs->on_done(userdata, status, code);
}

static int
df_adb_shell_on_packet_data(void *ctx, uint8_t id, const uint8_t *data, size_t len)
{
  struct df_adb_shell *sh = ctx;

  switch (id) {
  case DF_SHELL_STDOUT:
    if (len > 0) sh->cbs->on_stdout(sh->userdata, data, len);
    break;
  case DF_SHELL_STDERR:
    if (len > 0) sh->cbs->on_stderr(sh->userdata, data, len);
    break;
  case DF_SHELL_EXIT:
    if (len >= 1) {
      sh->exit_code = data[0];
      sh->have_exit = true;
    }
    break;
  default:
    break; /* the phone sends nothing else; ignore what we do not know */
  }
  return 0;
}

static void
df_adb_shell_on_open(void *userdata, int status)
{
  if (status != DF_OK) df_adb_shell_finish(userdata, status);
}

static void
df_adb_shell_on_data(void *userdata, const uint8_t *data, size_t len)
{
  struct df_adb_shell *sh = userdata;

  if (sh->v2)
    df_shell_decoder_feed(&sh->decoder, data, len, df_adb_shell_on_packet_data, sh);
  else
    sh->cbs->on_stdout(sh->userdata, data, len);
}

static void
df_adb_shell_on_close(void *userdata, int status)
{
  struct df_adb_shell *sh = userdata;

  /* Over v2 a stream that closes without an exit packet was cut short. */
  if (status == DF_OK && sh->v2 && !sh->have_exit) status = DF_ECONNRESET;
  df_adb_shell_finish(sh, status);
}

static const struct df_adb_stream_callbacks df_adb_shell_stream_cbs = {
  .on_open = df_adb_shell_on_open,
  .on_data = df_adb_shell_on_data,
  .on_close = df_adb_shell_on_close,
};

/* The command as the stall message shows it: one line, at most size-1
 * bytes ("..." when cut). */
static void
df_adb_shell_name(char *out, size_t size, const char *command)
{
  size_t n = 0;

  for (const char *p = command; *p != '\0' && n + 1 < size; p++)
    out[n++] = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
  out[n] = '\0';
  if (strlen(command) >= size && size > 4) memcpy(out + size - 4, "...", 4);
}

int
df_adb_shell_start(struct df_adb_conn *conn, const char *command,
                   const struct df_adb_shell_callbacks *cbs, void *userdata,
                   struct df_adb_shell **out)
{
  struct df_adb_shell *sh;
  char *service;
  int rc;

  sh = calloc(1, sizeof(*sh));
  if (sh == NULL) return DF_ENOMEM;
  sh->cbs = cbs;
  sh->userdata = userdata;
  sh->v2 = df_adb_conn_has_feature(conn, "shell_v2");
  df_shell_decoder_init(&sh->decoder);
  /* "raw": no pty, so output bytes arrive as the command wrote them. */
  if (asprintf(&service, sh->v2 ? "shell,v2,raw:%s" : "shell:%s", command) < 0) {
    free(sh);
    return DF_ENOMEM;
  }
  rc = df_adb_stream_open(conn, service, &df_adb_shell_stream_cbs, sh, &sh->stream);
  free(service);
  if (rc != DF_OK) {
    free(sh);
    return rc;
  }
  df_adb_shell_name(sh->what, sizeof(sh->what), command);
  sh->stall_ms = df_adb_conn_stall_ms(conn);
  df_adb_stream_watch(sh->stream);
  if (out != NULL) *out = sh;
  return DF_OK;
}

void
df_adb_shell_cancel(struct df_adb_shell *sh)
{
  df_adb_stream_close(sh->stream);
  free(sh);
}

/* ---- capture: the whole output of a short command ---- */

struct df_adb_capture {
  char *out, *err;
  size_t out_len, err_len, max;
  df_adb_capture_cb cb;
  void *userdata;
};

static void
df_adb_capture_append(struct df_adb_capture *c, char **buf, size_t *len, const uint8_t *data,
                      size_t n)
{
  if (*len + n > c->max) n = c->max > *len ? c->max - *len : 0;
  if (n == 0) return;
  char *grown = realloc(*buf, *len + n + 1);
  if (grown == NULL) return;
  memcpy(grown + *len, data, n);
  *len += n;
  grown[*len] = '\0';
  *buf = grown;
}

static void
df_adb_capture_stdout(void *userdata, const uint8_t *data, size_t len)
{
  struct df_adb_capture *c = userdata;
  df_adb_capture_append(c, &c->out, &c->out_len, data, len);
}

static void
df_adb_capture_stderr(void *userdata, const uint8_t *data, size_t len)
{
  struct df_adb_capture *c = userdata;
  df_adb_capture_append(c, &c->err, &c->err_len, data, len);
}

static void
df_adb_capture_done(void *userdata, int status, int exit_code)
{
  struct df_adb_capture *c = userdata;

  c->cb(c->userdata, status, exit_code, c->out != NULL ? c->out : "", c->out_len,
        c->err != NULL ? c->err : "", c->err_len);
  free(c->out);
  free(c->err);
  free(c);
}

static const struct df_adb_shell_callbacks df_adb_capture_cbs = {
  .on_stdout = df_adb_capture_stdout,
  .on_stderr = df_adb_capture_stderr,
  .on_done = df_adb_capture_done,
};

int
df_adb_shell_capture(struct df_adb_conn *conn, const char *command, size_t max_bytes,
                     df_adb_capture_cb cb, void *userdata)
{
  struct df_adb_capture *c = calloc(1, sizeof(*c));
  int rc;

  if (c == NULL) return DF_ENOMEM;
  c->max = max_bytes;
  c->cb = cb;
  c->userdata = userdata;
  rc = df_adb_shell_start(conn, command, &df_adb_capture_cbs, c, NULL);
  if (rc != DF_OK) free(c);
  return rc;
}
