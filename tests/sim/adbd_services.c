/* The services adbd offers on a stream (adb/daemon/services.cpp
 * daemon_service_to_fd): shell (v1 and the shell protocol, v2), exec:,
 * reboot:, root: and unroot: (adb/daemon/restart_service.cpp); sync: is in
 * adbd_sync.c. Commands run in the phone model's shell (df_sim_shell_run),
 * which answers at once: a command's whole output is known when it starts. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "tests/sim/adbd_internal.h"

/* adbd sends shell packets of at most its buffer size; any size up to
 * max payload works with the 29.0.6 host (shell_protocol.cpp reads a
 * packet in pieces), 64 KiB keeps them moderate. */
#define SHELL_PACKET_MAX (64u * 1024)

struct df_sim_adbd_shell {
  bool protocol;                 /* shell_v2 framing */
  bool pty;                      /* terminal: prompt, echo, CRLF */
  struct df_sim_adbd_shell_reader reader;
  struct df_sim_buf line;        /* interactive: the line being typed */
  int last_exit;
  bool ended;
};

static struct df_sim_phone *
phone_of(struct df_sim_adbd_stream *s)
{
  return s->conn->adbd->phone;
}

/* Output of a terminal: a pty turns "\n" into "\r\n" (termios ONLCR). */
static void
write_text(struct df_sim_adbd_stream *s, uint8_t id, const char *data, size_t len)
{
  struct df_sim_adbd_shell *sh = s->shell;
  struct df_sim_buf conv = {0};

  if (len == 0)
    return;
  if (sh != NULL && sh->pty) {
    for (size_t i = 0; i < len; i++) {
      if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
        df_sim_buf_append(&conv, "\r", 1);
      df_sim_buf_append(&conv, data + i, 1);
    }
    data = conv.data;
    len = conv.len;
    id = DF_SIM_ADBD_SHELL_STDOUT; /* a pty has one output */
  }
  if (sh != NULL && sh->protocol) {
    while (len > 0) {
      size_t n = len < SHELL_PACKET_MAX ? len : SHELL_PACKET_MAX;
      uint8_t hdr[DF_SIM_ADBD_SHELL_HEADER_SIZE];

      df_sim_adbd_shell_header(hdr, id, (uint32_t)n);
      df_sim_adbd_stream_write(s, hdr, sizeof(hdr));
      df_sim_adbd_stream_write(s, data, n);
      data += n;
      len -= n;
    }
  } else {
    df_sim_adbd_stream_write(s, data, len);
  }
  df_sim_buf_free(&conv);
}

/* shell_protocol.h kIdExit: one byte, the exit code; adbd closes after it. */
static void
shell_end(struct df_sim_adbd_stream *s, int code)
{
  struct df_sim_adbd_shell *sh = s->shell;

  if (sh->ended)
    return;
  sh->ended = true;
  if (sh->protocol) {
    uint8_t pkt[DF_SIM_ADBD_SHELL_HEADER_SIZE + 1];

    df_sim_adbd_shell_header(pkt, DF_SIM_ADBD_SHELL_EXIT, 1);
    pkt[DF_SIM_ADBD_SHELL_HEADER_SIZE] = (uint8_t)code;
    df_sim_adbd_stream_write(s, pkt, sizeof(pkt));
  }
  df_sim_adbd_stream_finish(s);
}

/* Runs one command line and sends what it printed. Without the shell
 * protocol stdout and stderr share the socket (subprocess.cpp gives raw
 * no-protocol children one fd for both). */
static int
run_command(struct df_sim_adbd_stream *s, const char *cmd)
{
  struct df_sim_output o = {0};
  int code;

  df_sim_shell_run(phone_of(s), cmd, s->as_root, &o);
  write_text(s, DF_SIM_ADBD_SHELL_STDOUT, o.out.data, o.out.len);
  write_text(s, DF_SIM_ADBD_SHELL_STDERR, o.err.data, o.err.len);
  code = o.exit_code;
  df_sim_output_free(&o);
  return code;
}

/* The prompt of Android's mkshrc: "<device>:<dir> $ " ("#" as root). */
static void
prompt(struct df_sim_adbd_stream *s)
{
  char p[256];
  const char *dev = df_sim_phone_getprop(phone_of(s), "ro.product.device");

  if (!s->shell->pty || s->shell->ended)
    return;
  snprintf(p, sizeof(p), "%s:/ %c ", dev[0] != '\0' ? dev : "android", s->as_root ? '#' : '$');
  write_text(s, DF_SIM_ADBD_SHELL_STDOUT, p, strlen(p));
}

/* "exit" or "exit N" ends an interactive session. Returns -1 otherwise. */
static int
exit_request(const char *line, int last)
{
  while (isspace((unsigned char)*line))
    line++;
  if (strncmp(line, "exit", 4) != 0 || (line[4] != '\0' && !isspace((unsigned char)line[4])))
    return -1;
  line += 4;
  while (isspace((unsigned char)*line))
    line++;
  return *line != '\0' ? atoi(line) & 0xff : last;
}

static void
run_line(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_shell *sh = s->shell;
  char *line;
  int code;

  df_sim_buf_append(&sh->line, "", 1);
  line = sh->line.data;
  sh->line.len = 0;
  code = exit_request(line, sh->last_exit);
  if (code >= 0) {
    shell_end(s, code);
    return;
  }
  if (line[strspn(line, " \t\r")] != '\0')
    sh->last_exit = run_command(s, line);
  prompt(s);
}

/* Bytes typed by the user (pty) or piped in (raw). */
static void
shell_input(struct df_sim_adbd_stream *s, const uint8_t *data, size_t len)
{
  struct df_sim_adbd_shell *sh = s->shell;

  for (size_t i = 0; i < len && !sh->ended && !s->freed; i++) {
    char c = (char)data[i];

    if (!sh->pty) {
      if (c == '\n')
        run_line(s);
      else
        df_sim_buf_append(&sh->line, &c, 1);
      continue;
    }
    if (c == '\r' || c == '\n') {
      write_text(s, DF_SIM_ADBD_SHELL_STDOUT, "\n", 1);
      run_line(s);
    } else if (c == 0x7f || c == 0x08) {
      if (sh->line.len > 0) {
        sh->line.len--;
        write_text(s, DF_SIM_ADBD_SHELL_STDOUT, "\b \b", 3);
      }
    } else if (c == 0x03) {
      sh->line.len = 0;
      write_text(s, DF_SIM_ADBD_SHELL_STDOUT, "^C\n", 3);
      prompt(s);
    } else if (c == 0x04) {
      if (sh->line.len == 0)
        shell_end(s, sh->last_exit);
    } else {
      df_sim_buf_append(&sh->line, &c, 1);
      write_text(s, DF_SIM_ADBD_SHELL_STDOUT, &c, 1); /* the pty echoes */
    }
  }
}

/* End of input (close-stdin): a last unterminated line still runs. */
static void
shell_eof(struct df_sim_adbd_stream *s)
{
  struct df_sim_adbd_shell *sh = s->shell;

  if (sh->ended)
    return;
  if (sh->line.len > 0)
    run_line(s);
  shell_end(s, sh->last_exit);
}

static void
on_shell_piece(void *ctx, uint8_t id, const uint8_t *data, size_t len, bool end)
{
  struct df_sim_adbd_stream *s = ctx;

  if (s->freed)
    return;
  if (id == DF_SIM_ADBD_SHELL_STDIN)
    shell_input(s, data, len);
  else if (id == DF_SIM_ADBD_SHELL_CLOSE_STDIN && end)
    shell_eof(s);
  /* kIdWindowSizeChange and unknown ids: nothing to do for this shell. */
}

static void
shell_on_data(struct df_sim_adbd_stream *s, const uint8_t *data, size_t len)
{
  struct df_sim_adbd_shell *sh = s->shell;

  if (sh->ended)
    return; /* a finished command ignores further stdin */
  if (sh->protocol)
    df_sim_adbd_shell_feed(&sh->reader, data, len, on_shell_piece, s);
  else
    shell_input(s, data, len);
}

static void
shell_on_free(struct df_sim_adbd_stream *s)
{
  if (s->shell != NULL) {
    df_sim_buf_free(&s->shell->line);
    free(s->shell);
    s->shell = NULL;
  }
}

static const struct df_sim_adbd_stream_ops shell_ops = {
  .on_data = shell_on_data,
  .on_free = shell_on_free,
};

/* Streams whose service wrote everything at open: input is ignored. */
static const struct df_sim_adbd_stream_ops oneshot_ops = {
  .on_free = shell_on_free,
};

static int
open_shell(struct df_sim_adbd_stream *s, const struct df_sim_adbd_service *svc, bool exec)
{
  struct df_sim_adbd_shell *sh = calloc(1, sizeof(*sh));

  if (sh == NULL)
    return DF_ENOMEM;
  s->shell = sh;
  sh->protocol = !exec && svc->shell_protocol;
  sh->pty = !exec && svc->pty;
  if (!exec && svc->arg[0] == '\0') {
    /* An interactive shell: commands come from stdin, one per line. */
    s->ops = &shell_ops;
    prompt(s);
    return 0;
  }
  s->ops = &oneshot_ops;
  shell_end(s, run_command(s, svc->arg));
  return 0;
}

/* restart_service.cpp restart_root_service / restart_unroot_service. A
 * phone whose state says rooted is taken for a debuggable build. */
static int
open_root(struct df_sim_adbd_stream *s, bool root)
{
  struct df_sim_phone *phone = phone_of(s);
  bool now = df_sim_phone_adbd_root(phone);
  const char *msg;

  s->ops = &oneshot_ops;
  if (root) {
    if (now) {
      msg = "adbd is already running as root\n";
    } else if (!df_sim_phone_rooted(phone)) {
      msg = "adbd cannot run as root in production builds\n";
    } else {
      df_sim_phone_set_adbd_root(phone, true);
      s->restart_adbd_when_flushed = true;
      msg = "restarting adbd as root\n";
    }
  } else {
    if (!now) {
      msg = "adbd not running as root\n";
    } else {
      df_sim_phone_set_adbd_root(phone, false);
      s->restart_adbd_when_flushed = true;
      msg = "restarting adbd as non root\n";
    }
  }
  df_sim_adbd_stream_write(s, msg, strlen(msg));
  df_sim_adbd_stream_finish(s);
  return 0;
}

/* services.cpp reboot_device runs "/system/bin/reboot <target>", which
 * prints nothing; the phone goes down and the transport drops. An unknown
 * reason still reboots (the bootloader ignores it): into system. */
static int
open_reboot(struct df_sim_adbd_stream *s, const char *target)
{
  struct df_sim_phone *phone = phone_of(s);

  s->ops = &oneshot_ops;
  if (df_sim_phone_reboot(phone, target) == DF_EINVAL)
    df_sim_phone_reboot(phone, "");
  df_sim_adbd_stream_finish(s);
  return 0;
}

int
df_sim_adbd_service_open(struct df_sim_adbd_stream *s, const char *name)
{
  struct df_sim_phone *phone = phone_of(s);
  enum df_sim_mode mode = df_sim_phone_mode(phone);
  struct df_sim_adbd_service svc;

  df_sim_adbd_service_parse(name, &svc);
  /* adbd in recovery runs as root. */
  s->as_root = df_sim_phone_adbd_root(phone) || mode == DF_SIM_MODE_RECOVERY;
  /* minadbd (sideload) offers only sideload services, which this phone
   * does not model. */
  if (mode == DF_SIM_MODE_SIDELOAD)
    return DF_ENOENT;
  switch (svc.kind) {
  case DF_SIM_ADBD_SVC_SHELL:
    return open_shell(s, &svc, false);
  case DF_SIM_ADBD_SVC_EXEC:
    return open_shell(s, &svc, true);
  case DF_SIM_ADBD_SVC_SYNC:
    return df_sim_adbd_sync_open(s);
  case DF_SIM_ADBD_SVC_REBOOT:
    return open_reboot(s, svc.arg);
  case DF_SIM_ADBD_SVC_ROOT:
    return open_root(s, true);
  case DF_SIM_ADBD_SVC_UNROOT:
    return open_root(s, false);
  case DF_SIM_ADBD_SVC_UNKNOWN:
  default:
    df_log_debug("adbd: no service \"%s\"", name);
    return DF_ENOENT;
  }
}
