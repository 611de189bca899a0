/* Finding and picking the phone a verb works on. */
#include "cli/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/output.h"
#include "core/error.h"
#include "core/log.h"
#include "core/usb.h"

#define DF_CLI_PROBE_MS 3000

struct df_cli_find_state {
  bool done;
  struct df_device_list *list;
};

static void
df_cli_on_list(void *userdata, struct df_device_list *list)
{
  struct df_cli_find_state *st = userdata;
  st->list = list;
  st->done = true;
}

void
df_cli_session_run_until(struct df_cli_session *s, const bool *done)
{
  while (!*done) {
    if (uv_run(&s->loop.uv, UV_RUN_ONCE) == 0 && !*done) {
      /* nothing left that could set *done: a bug, not a hang */
      df_log_error("internal: the operation ended without reporting");
      break;
    }
  }
}

/* USB: every matching interface present now, probed like an endpoint. */
struct df_cli_usb_scan {
  struct df_cli_session *s;
  struct df_device_list *list;
  int pending;
};

static void
df_cli_usb_probe_done(void *userdata, int status, struct df_device *dev)
{
  struct df_cli_usb_scan *scan = userdata;

  if (status == DF_OK && scan->list->count < DF_DEVICE_FIND_MAX)
    scan->list->devices[scan->list->count++] = dev;
  else if (status != DF_OK) {
    const char *hint = df_usb_error_hint(status);
    df_log_warn("a USB phone did not answer: %s%s%s", df_strerror(status),
                hint != NULL ? ": " : "", hint != NULL ? hint : "");
  }
  scan->pending--;
}

static void
df_cli_usb_arrived(void *ud, const struct df_usb_device_info *info)
{
  struct df_cli_usb_scan *scan = ud;
  int rc = df_device_probe_usb(&scan->s->loop, scan->s->usb, info, &scan->s->keys,
                               DF_CLI_PROBE_MS, df_cli_usb_probe_done, scan);
  if (rc == DF_OK) {
    scan->pending++;
  } else {
    const char *hint = df_usb_error_hint(rc);
    df_log_warn("cannot open the USB %s interface of %04x:%04x: %s%s%s",
                df_usb_kind_name(info->kind), info->vid, info->pid, df_strerror(rc),
                hint != NULL ? ": " : "", hint != NULL ? hint : "");
  }
}

static void
df_cli_usb_left(void *ud, const struct df_usb_device_info *info)
{
}

static const struct df_usb_callbacks df_cli_usb_cbs = {
  .arrived = df_cli_usb_arrived,
  .left = df_cli_usb_left,
};

/* Between scans and waits nobody listens: a phone plugged in while a verb
 * runs is not this verb's business. */
static void
df_cli_usb_ignore(void *ud, const struct df_usb_device_info *info)
{
}

static const struct df_usb_callbacks df_cli_usb_idle_cbs = {
  .arrived = df_cli_usb_ignore,
  .left = df_cli_usb_ignore,
};

static struct df_device_list *
df_cli_find_usb(struct df_cli_session *s)
{
  struct df_cli_usb_scan scan = {.s = s};
  int rc;

  scan.list = calloc(1, sizeof(*scan.list));
  if (scan.list == NULL) return NULL;
  if (s->usb == NULL) {
    rc = df_usb_init(&s->loop, &df_cli_usb_idle_cbs, NULL, &s->usb);
    if (rc != DF_OK) {
      df_log_info("USB is not available here (%s)", df_strerror(rc));
      s->usb = NULL;
      return scan.list;
    }
  }
  /* scan lives on this stack: its callbacks are in place only meanwhile */
  df_usb_set_callbacks(s->usb, &df_cli_usb_cbs, &scan);
  df_usb_forget(s->usb, NULL);
  df_usb_scan(s->usb);
  while (scan.pending > 0) uv_run(&s->loop.uv, UV_RUN_ONCE);
  df_usb_set_callbacks(s->usb, &df_cli_usb_idle_cbs, NULL);
  return scan.list;
}

static void
df_cli_print_candidates(struct df_cli *cli, const struct df_device_list *list)
{
  for (int i = 0; i < list->count; i++) {
    const struct df_device *d = list->devices[i];
    fprintf(cli->err, "  %d) %s  %s  %s (%s)  %s\n", i + 1, d->serial,
            df_device_mode_name(d->mode), d->model[0] ? d->model : "?",
            d->codename[0] ? d->codename : "?", d->transport);
  }
}

/* Which phone: --device, the only one, or the user's answer on a terminal. */
static int
df_cli_pick(struct df_cli_session *s, struct df_device_list *list)
{
  struct df_cli *cli = s->cli;

  if (cli->device != NULL) {
    for (int i = 0; i < list->count; i++)
      if (strcmp(list->devices[i]->serial, cli->device) == 0) return i;
    fprintf(cli->err, "droidfix: no phone with serial '%s'; found:\n", cli->device);
    df_cli_print_candidates(cli, list);
    return -1;
  }
  if (list->count == 1) return 0;
  fprintf(cli->err, "droidfix: %d phones are connected:\n", list->count);
  df_cli_print_candidates(cli, list);
  if (!isatty(STDIN_FILENO) || cli->json) {
    fprintf(cli->err, "droidfix: pick one with --device SERIAL (or ANDROID_SERIAL)\n");
    return -1;
  }
  fprintf(cli->err, "Which one (1-%d)? ", list->count);
  fflush(cli->err);
  char line[32];
  if (fgets(line, sizeof(line), stdin) == NULL) return -1;
  int n = atoi(line);
  return n >= 1 && n <= list->count ? n - 1 : -1;
}

static void
df_cli_explain_nothing(struct df_cli_session *s, const struct df_device_list *list)
{
  struct df_cli *cli = s->cli;

  if (s->neps == 0) {
    fprintf(cli->err,
            "droidfix: no phone found over USB.\n"
            "  - Is the cable plugged in and USB debugging on (Settings > Developer options)?\n"
            "  - Does the phone show \"Allow USB debugging?\"? Tap Allow.\n"
            "  - Linux: are the udev rules installed (see README, \"Repairing a real phone\")?\n"
            "  - A phone over the network or a droidfix-sim: --connect HOST:PORT\n");
    return;
  }
  fprintf(cli->err, "droidfix: no phone answered:\n");
  for (int i = 0; i < list->failed_count; i++) {
    const struct df_endpoint *ep = &list->failed[i];
    const char *why = list->errors[i] == DF_ECONNREFUSED
                        ? "nothing listens there (is the phone in a mode served on that port?)"
                        : df_strerror(list->errors[i]);
    char name[320], safe[600];
    df_endpoint_format(ep, name, sizeof(name));
    if (ep->scheme[0] != '\0') {
      /* the plugin's own words, when its open failed */
      const char *plugin_why = df_device_scheme_last_error(ep);
      const char *owner = df_device_scheme_owner(ep->scheme);
      df_cli_safe_text(plugin_why != NULL ? plugin_why : why, safe, sizeof(safe));
      if (plugin_why != NULL)
        fprintf(cli->err, "  %s: the %s plugin could not open it: %s\n", name,
                owner != NULL ? owner : "?", safe);
      else
        fprintf(cli->err, "  %s (through the %s plugin): %s\n", name, owner != NULL ? owner : "?",
                safe);
      continue;
    }
    fprintf(cli->err, "  %s: %s\n", name, why);
  }
}

/* A --connect that did not parse: say which of the two forms failed. */
static int
df_cli_bad_endpoint(struct df_cli *cli, const char *text, int rc, const struct df_endpoint *ep)
{
  if (rc == DF_ENOENT)
    return df_cli_usage_error(
      cli, NULL,
      "bad --connect '%s': no loaded plugin provides the transport '%s' (load one with "
      "--plugin-dir DIR or DROIDFIX_PLUGIN_PATH; 'droidfix plugins' lists them); a phone over "
      "TCP is HOST:PORT",
      text, ep->scheme);
  if (rc == DF_ETOOBIG)
    return df_cli_usage_error(cli, NULL, "bad --connect '%s': the address is too long", text);
  return df_cli_usage_error(cli, NULL,
                            "bad --connect '%s': use HOST:PORT, or SCHEME:ADDRESS for a "
                            "plugin's transport",
                            text);
}

int
df_cli_session_start(struct df_cli *cli, struct df_cli_session *s)
{
  char dir[4096];
  int rc;

  memset(s, 0, sizeof(*s));
  s->cli = cli;
  for (size_t i = 0; i < cli->connect_count && s->neps < DF_DEVICE_FIND_MAX; i++) {
    rc = df_endpoint_parse(cli->connect[i], &s->eps[s->neps]);
    if (rc != DF_OK) return df_cli_bad_endpoint(cli, cli->connect[i], rc, &s->eps[s->neps]);
    s->neps++;
  }
  rc = df_loop_init(&s->loop);
  if (rc != DF_OK) return df_cli_fail(cli, NULL, rc, "cannot start the event loop");
  s->loop_ready = true;
  rc = df_adb_key_dir(dir, sizeof(dir));
  if (rc == DF_OK) rc = df_adb_keys_load(&s->keys, dir);
  if (rc != DF_OK) {
    df_cli_session_close(s);
    return df_cli_fail(cli, NULL, rc, "cannot load or create the ADB key in %s", dir);
  }
  s->keys_loaded = true;
  return DF_CLI_EXIT_OK;
}

struct df_device_list *
df_cli_session_find(struct df_cli_session *s)
{
  struct df_cli_find_state st = {0};

  if (s->neps == 0) return df_cli_find_usb(s);
  if (df_device_find(&s->loop, s->eps, s->neps, &s->keys, DF_CLI_PROBE_MS, df_cli_on_list,
                     &st) != DF_OK)
    return NULL;
  df_cli_session_run_until(s, &st.done);
  return st.list;
}

int
df_cli_session_open(struct df_cli *cli, struct df_cli_session *s)
{
  struct df_cli_find_state st = {0};
  int rc, pick;

  rc = df_cli_session_start(cli, s);
  if (rc != DF_CLI_EXIT_OK) return rc;
  st.list = df_cli_session_find(s);
  if (st.list == NULL || st.list->count == 0) {
    if (st.list != NULL) df_cli_explain_nothing(s, st.list);
    df_device_list_free(st.list);
    df_cli_session_close(s);
    return DF_CLI_EXIT_FAILED;
  }
  pick = df_cli_pick(s, st.list);
  if (pick < 0) {
    df_device_list_free(st.list);
    df_cli_session_close(s);
    return DF_CLI_EXIT_USAGE;
  }
  s->dev = df_device_list_take(st.list, pick);
  df_device_list_free(st.list);
  if (s->dev->mode == DF_DEVICE_UNAUTHORIZED) {
    fprintf(cli->err,
            "droidfix: the phone %s has not allowed this computer yet.\n"
            "  Unlock the phone and tap \"Allow\" on \"Allow USB debugging?\"\n"
            "  (tick \"Always allow from this computer\"), then run the command again.\n",
            s->dev->serial);
    df_cli_session_close(s);
    return DF_CLI_EXIT_FAILED;
  }
  return DF_CLI_EXIT_OK;
}

struct df_cli_wait_state {
  bool done;
  int status;
  struct df_device *dev;
};

static void
df_cli_on_wait(void *userdata, int status, struct df_device *dev)
{
  struct df_cli_wait_state *w = userdata;
  w->status = status;
  w->dev = dev;
  w->done = true;
}

int
df_cli_session_wait_for(struct df_cli_session *s, unsigned modes, unsigned timeout_ms)
{
  struct df_cli_wait_state w = {0};
  char serial[sizeof(s->dev->serial)];
  int rc;

  if (s->neps == 0 && s->usb == NULL) return DF_EUNSUPPORTED; /* no USB on this system */
  snprintf(serial, sizeof(serial), "%s", s->dev->serial);
  /* The old session goes first: over USB it holds the interface. */
  df_device_close(s->dev);
  s->dev = NULL;
  df_log_info("waiting up to %u s for %s to come back%s", timeout_ms / 1000, serial,
              s->neps == 0 ? " over USB" : "");
  if (s->neps == 0)
    rc = df_device_wait_usb(&s->loop, s->usb, &s->keys, serial, modes, timeout_ms,
                            df_cli_on_wait, &w);
  else
    rc = df_device_wait(&s->loop, s->eps, s->neps, &s->keys, serial, modes, timeout_ms,
                        &s->owners, df_cli_on_wait, &w);
  if (rc != DF_OK) return rc;
  df_cli_session_run_until(s, &w.done);
  s->dev = w.dev;
  if (w.status == DF_EUNAUTHORIZED && !s->cli->quiet)
    fprintf(s->cli->err, "droidfix: the phone %s came back but has not allowed this computer: "
                         "tap \"Allow\" on \"Allow USB debugging?\"\n", serial);
  else if (df_usb_error_hint(w.status) != NULL && !s->cli->quiet)
    fprintf(s->cli->err, "droidfix: a USB phone could not be opened: %s\n",
            df_usb_error_hint(w.status));
  return w.status;
}

void
df_cli_session_close(struct df_cli_session *s)
{
  if (s->dev != NULL) df_device_close(s->dev);
  s->dev = NULL;
  if (s->keys_loaded) df_adb_keys_free(&s->keys);
  s->keys_loaded = false;
  if (s->loop_ready) {
    /* Let closing sessions finish before the USB context goes: a USB
     * transport is gone only once libusb gave back the transfers its close
     * cancelled, which takes turns of the loop (up to 2 s). */
    uint64_t start = uv_now(&s->loop.uv);
    uv_run(&s->loop.uv, UV_RUN_NOWAIT);
    while (s->usb != NULL && df_usb_open_transports(s->usb) > 0 &&
           uv_now(&s->loop.uv) - start < 2000 && uv_run(&s->loop.uv, UV_RUN_ONCE) != 0) {
    }
    if (s->usb != NULL) df_usb_free(s->usb);
    s->usb = NULL;
    df_loop_close(&s->loop);
  }
  s->loop_ready = false;
}
