/* Probing an endpoint for a phone, and the device's session afterwards. */
#include "plugins/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/transport_tcp.h"
#include "core/usb.h"
#include "plugins/adb/adb_shell.h"

static const char *const df_device_mode_names[] = {
  [DF_DEVICE_OFFLINE] = "offline",
  [DF_DEVICE_SYSTEM] = "system",
  [DF_DEVICE_RECOVERY] = "recovery",
  [DF_DEVICE_SIDELOAD] = "sideload",
  [DF_DEVICE_BOOTLOADER] = "bootloader",
  [DF_DEVICE_FASTBOOTD] = "fastbootd",
  [DF_DEVICE_UNAUTHORIZED] = "unauthorized",
};

const char *
df_device_mode_name(enum df_device_mode mode)
{
  if ((size_t)mode >= sizeof(df_device_mode_names) / sizeof(*df_device_mode_names))
    return "unknown";
  return df_device_mode_names[mode];
}

int
df_device_mode_parse(const char *name, enum df_device_mode *mode)
{
  for (size_t i = 0; i < sizeof(df_device_mode_names) / sizeof(*df_device_mode_names); i++) {
    if (strcmp(name, df_device_mode_names[i]) == 0) {
      *mode = (enum df_device_mode)i;
      return DF_OK;
    }
  }
  return DF_EINVAL;
}

/* ---- transports added by plugins ---- */

struct df_device_scheme {
  const char *scheme;
  const char *owner;
  enum df_endpoint_kind kind;
  df_device_scheme_open_fn open;
};

static struct df_device_scheme df_device_schemes[DF_DEVICE_SCHEME_MAX];
static size_t df_device_nschemes;

/* The last failure of each scheme endpoint, for "nothing answered". */
struct df_device_scheme_error {
  char endpoint[300];
  char message[256];
};

static struct df_device_scheme_error df_device_scheme_errors[16];
static size_t df_device_scheme_next_error;

/* Letters, digits, '-', '_'; a lowercase letter first; short. */
static bool
df_device_scheme_syntax(const char *name, size_t len)
{
  if (len == 0 || len >= sizeof(((struct df_endpoint *)0)->scheme)) return false;
  if (!(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (size_t i = 1; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
      return false;
  }
  return true;
}

/* "fe80", "beef": would steal unbracketed IPv6 addresses. */
static bool
df_device_scheme_looks_hex(const char *name)
{
  size_t n = strlen(name);
  return n <= 4 && strspn(name, "0123456789abcdef") == n;
}

static const struct df_device_scheme *
df_device_scheme_lookup(const char *name, size_t len)
{
  for (size_t i = 0; i < df_device_nschemes; i++)
    if (strlen(df_device_schemes[i].scheme) == len &&
        strncmp(df_device_schemes[i].scheme, name, len) == 0)
      return &df_device_schemes[i];
  return NULL;
}

int
df_device_scheme_add(const char *scheme, enum df_endpoint_kind kind,
                     df_device_scheme_open_fn open, const char *owner)
{
  static const char *const reserved[] = {"adb", "fastboot", "tcp", "usb"};

  if (scheme == NULL || open == NULL || !df_device_scheme_syntax(scheme, strlen(scheme)) ||
      df_device_scheme_looks_hex(scheme) || kind < DF_ENDPOINT_ANY || kind > DF_ENDPOINT_FASTBOOT)
    return DF_EINVAL;
  for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
    if (strcmp(scheme, reserved[i]) == 0) return DF_EINVAL;
  if (df_device_scheme_lookup(scheme, strlen(scheme)) != NULL) return DF_EEXIST;
  if (df_device_nschemes >= DF_DEVICE_SCHEME_MAX) return DF_ENOSPC;
  df_device_schemes[df_device_nschemes].scheme = scheme;
  df_device_schemes[df_device_nschemes].owner = owner != NULL ? owner : "?";
  df_device_schemes[df_device_nschemes].kind = kind;
  df_device_schemes[df_device_nschemes].open = open;
  df_device_nschemes++;
  return DF_OK;
}

const char *
df_device_scheme_owner(const char *scheme)
{
  const struct df_device_scheme *s = df_device_scheme_lookup(scheme, strlen(scheme));

  return s != NULL ? s->owner : NULL;
}

static struct df_device_scheme_error *
df_device_scheme_error_slot(const struct df_endpoint *ep, bool create)
{
  char name[300];
  size_t n = sizeof(df_device_scheme_errors) / sizeof(*df_device_scheme_errors);
  struct df_device_scheme_error *e;

  df_endpoint_format(ep, name, sizeof(name));
  for (size_t i = 0; i < n; i++)
    if (strcmp(df_device_scheme_errors[i].endpoint, name) == 0) return &df_device_scheme_errors[i];
  if (!create) return NULL;
  e = &df_device_scheme_errors[df_device_scheme_next_error++ % n];
  snprintf(e->endpoint, sizeof(e->endpoint), "%s", name);
  e->message[0] = '\0';
  return e;
}

const char *
df_device_scheme_last_error(const struct df_endpoint *ep)
{
  const struct df_device_scheme_error *e = df_device_scheme_error_slot(ep, false);

  return e != NULL && e->message[0] != '\0' ? e->message : NULL;
}

/* ---- endpoints ---- */

/* "SCHEME:ADDRESS" with a registered scheme: DF_OK; a scheme-like prefix
 * nobody registered: DF_ENOENT; otherwise DF_EINVAL (try HOST:PORT). */
static int
df_endpoint_parse_scheme(const char *rest, struct df_endpoint *ep)
{
  const char *colon = strchr(rest, ':');
  const struct df_device_scheme *s;
  size_t len;

  if (colon == NULL) return DF_EINVAL;
  len = (size_t)(colon - rest);
  if (!df_device_scheme_syntax(rest, len)) return DF_EINVAL;
  memcpy(ep->scheme, rest, len);
  ep->scheme[len] = '\0';
  s = df_device_scheme_lookup(rest, len);
  if (s == NULL) return DF_ENOENT;
  if (colon[1] == '\0') return DF_EINVAL;
  if (strlen(colon + 1) >= sizeof(ep->host)) return DF_ETOOBIG;
  snprintf(ep->host, sizeof(ep->host), "%s", colon + 1);
  ep->port = 0;
  if (ep->kind == DF_ENDPOINT_ANY) ep->kind = s->kind;
  return DF_OK;
}

int
df_endpoint_parse(const char *text, struct df_endpoint *ep)
{
  const char *rest = text, *colon;
  char *end;
  long port;
  size_t hostlen;
  int scheme_rc;
  unsigned char ip6[16];
  char scheme[sizeof(ep->scheme)];

  memset(ep, 0, sizeof(*ep));
  if (strncmp(text, "adb:", 4) == 0) {
    ep->kind = DF_ENDPOINT_ADB;
    rest = text + 4;
  } else if (strncmp(text, "fastboot:", 9) == 0) {
    ep->kind = DF_ENDPOINT_FASTBOOT;
    rest = text + 9;
  } else if (strncmp(text, "tcp:", 4) == 0) {
    ep->kind = DF_ENDPOINT_FASTBOOT; /* fastboot -s tcp:HOST:PORT */
    rest = text + 4;
  }
  scheme_rc = df_endpoint_parse_scheme(rest, ep);
  if (scheme_rc == DF_OK || scheme_rc == DF_ETOOBIG) return scheme_rc;
  snprintf(scheme, sizeof(scheme), "%s", ep->scheme);
  ep->scheme[0] = '\0';
  colon = strrchr(rest, ':');
  if (colon == NULL || colon == rest) return scheme_rc == DF_ENOENT ? DF_ENOENT : DF_EINVAL;
  hostlen = (size_t)(colon - rest);
  if (hostlen >= sizeof(ep->host)) return DF_ETOOBIG;
  port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535 || colon[1] == '\0') {
    if (scheme_rc == DF_ENOENT) snprintf(ep->scheme, sizeof(ep->scheme), "%s", scheme);
    return scheme_rc == DF_ENOENT ? DF_ENOENT : DF_EINVAL;
  }
  memcpy(ep->host, rest, hostlen);
  ep->host[hostlen] = '\0';
  /* [::1]:5037 style */
  if (ep->host[0] == '[' && ep->host[hostlen - 1] == ']') {
    memmove(ep->host, ep->host + 1, hostlen - 2);
    ep->host[hostlen - 2] = '\0';
  } else if (strchr(ep->host, ':') != NULL && scheme_rc == DF_ENOENT &&
             uv_inet_pton(AF_INET6, ep->host, ip6) != 0) {
    /* "relay:127.0.0.1:4000" is no host: a scheme nobody provides */
    memset(ep, 0, sizeof(*ep));
    snprintf(ep->scheme, sizeof(ep->scheme), "%s", scheme);
    return DF_ENOENT;
  }
  ep->port = (int)port;
  return DF_OK;
}

void
df_endpoint_format(const struct df_endpoint *ep, char *out, size_t outlen)
{
  if (ep->scheme[0] != '\0')
    snprintf(out, outlen, "%s:%s", ep->scheme, ep->host);
  else if (strchr(ep->host, ':') != NULL)
    snprintf(out, outlen, "[%s]:%d", ep->host, ep->port);
  else
    snprintf(out, outlen, "%s:%d", ep->host, ep->port);
}

/* ---- the probe ---- */

#define DF_PROBE_AUTH_GRACE_MS 1500

struct df_probe {
  struct df_loop *loop;
  struct df_endpoint ep;
  const struct df_adb_keys *keys;
  df_device_probe_cb cb;
  void *userdata;
  uv_timer_t timer;
  struct df_device *dev;
  bool trying_fastboot;
  bool adb_answered; /* any ADB packet came back */
  bool finished;
  bool usb;
  bool unauthorized_grace; /* waiting briefly for the user to allow the key */
  int refs; /* the timer's, plus one per TCP connect still under way */
  int fastboot_step;
};

static const struct df_transport_callbacks df_probe_no_cbs; /* set by the sessions */
static void df_probe_try_fastboot(struct df_probe *p);

static void
df_probe_unref(struct df_probe *p)
{
  if (--p->refs == 0) free(p);
}

/* The timer has closed: the probe is over, but a connect may still be
 * under way and will come back to it. */
static void
df_probe_free(uv_handle_t *handle)
{
  df_probe_unref(handle->data);
}

static void
df_probe_finish(struct df_probe *p, int status)
{
  struct df_device *dev = p->dev;

  if (p->finished) return;
  p->finished = true;
  uv_timer_stop(&p->timer);
  p->dev = NULL;
  if (dev != NULL) dev->probing = NULL;
  if (status != DF_OK && dev != NULL) {
    df_device_close(dev);
    dev = NULL;
  }
  p->cb(p->userdata, status, dev);
  uv_close((uv_handle_t *)&p->timer, df_probe_free);
}

static void
df_probe_on_timeout(uv_timer_t *timer)
{
  struct df_probe *p = timer->data;

  if (p->unauthorized_grace) {
    df_probe_finish(p, DF_OK); /* still unauthorized: say so */
    return;
  }
  if (!p->trying_fastboot && p->ep.kind == DF_ENDPOINT_ANY && !p->adb_answered) {
    df_probe_try_fastboot(p);
    return;
  }
  df_probe_finish(p, DF_ETIMEDOUT);
}

/* ---- ADB ---- */

static void
df_device_on_adb_serial(void *userdata, int status, int exit_code, const char *out,
                        size_t out_len, const char *err, size_t err_len)
{
  struct df_probe *p = userdata;
  struct df_device *dev = p->dev;
  size_t n = out_len;

  if (p->finished || dev == NULL) return;
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' ')) n--;
  if (status == DF_OK && n > 0 && n < sizeof(dev->serial)) {
    memcpy(dev->serial, out, n);
    dev->serial[n] = '\0';
  }
  df_probe_finish(p, DF_OK);
}

static void
df_device_adb_ready(void *userdata, const struct df_adb_banner *banner)
{
  struct df_device *dev = userdata;
  struct df_probe *p = dev->probing;
  int rc;

  if (strcmp(banner->state, "recovery") == 0) dev->mode = DF_DEVICE_RECOVERY;
  else if (strcmp(banner->state, "sideload") == 0) dev->mode = DF_DEVICE_SIDELOAD;
  else dev->mode = DF_DEVICE_SYSTEM;
  if (p == NULL) return; /* the user allowed the key after the probe */
  p->adb_answered = true;
  p->unauthorized_grace = false;
  snprintf(dev->model, sizeof(dev->model), "%s", banner->model);
  snprintf(dev->codename, sizeof(dev->codename), "%s", banner->device);
  /* The banner has no serial over TCP: ask the phone. */
  rc = df_adb_shell_capture(dev->adb, "getprop ro.serialno", 4096, df_device_on_adb_serial, p);
  if (rc != DF_OK) df_probe_finish(p, DF_OK); /* keep host:port as the serial */
}

static void
df_device_adb_unauthorized(void *userdata)
{
  struct df_device *dev = userdata;
  struct df_probe *p = dev->probing;

  if (p == NULL) return;
  p->adb_answered = true;
  p->dev->mode = DF_DEVICE_UNAUTHORIZED;
  /* The phone shows "Allow USB debugging?" now. Give it a moment: a phone
   * that already trusts the key's owner, or a user quick on the button,
   * answers with CNXN; otherwise the probe reports it unauthorized. */
  p->unauthorized_grace = true;
  uv_timer_start(&p->timer, df_probe_on_timeout, DF_PROBE_AUTH_GRACE_MS, 0);
}

static void
df_device_adb_gone(void *userdata, int err)
{
  struct df_device *dev = userdata;
  struct df_probe *p = dev->probing;

  dev->adb = NULL; /* the connection frees itself */
  if (p == NULL) {
    dev->mode = DF_DEVICE_OFFLINE;
    return;
  }
  if (!p->adb_answered && p->ep.kind == DF_ENDPOINT_ANY) {
    df_probe_try_fastboot(p); /* closed at our CNXN: maybe fastboot */
    return;
  }
  df_probe_finish(p, err);
}

static const struct df_adb_conn_callbacks df_device_adb_cbs = {
  .on_ready = df_device_adb_ready,
  .on_unauthorized = df_device_adb_unauthorized,
  .on_gone = df_device_adb_gone,
};

static void
df_probe_adb_connected(struct df_probe *p, struct df_transport *t, int status)
{
  int rc;

  if (p->finished) {
    if (t != NULL) df_transport_close(t, NULL);
    return;
  }
  if (status != DF_OK) {
    df_probe_finish(p, status);
    return;
  }
  snprintf(p->dev->transport, sizeof(p->dev->transport), "%s", t->description);
  rc = df_adb_conn_start(t, p->keys, &df_device_adb_cbs, p->dev, &p->dev->adb);
  if (rc != DF_OK) {
    df_transport_close(t, NULL);
    df_probe_finish(p, rc);
    return;
  }
  df_adb_conn_set_loop(p->dev->adb, p->loop, 0); /* shell commands' stall watch */
}

/* ---- fastboot ---- */

static void df_probe_fastboot_next(struct df_probe *p);

static void
df_probe_fastboot_var(void *userdata, int status, const char *value)
{
  struct df_probe *p = userdata;
  struct df_device *dev = p->dev;

  if (p->finished || dev == NULL) return;
  if (status == DF_OK) {
    switch (p->fastboot_step) {
    case 0: snprintf(dev->serial, sizeof(dev->serial), "%s", value); break;
    case 1:
      snprintf(dev->codename, sizeof(dev->codename), "%s", value);
      snprintf(dev->model, sizeof(dev->model), "%s", value);
      break;
    case 2:
      dev->mode = strcmp(value, "yes") == 0 ? DF_DEVICE_FASTBOOTD : DF_DEVICE_BOOTLOADER;
      break;
    }
  } else if (status != DF_EDEVFAIL) {
    df_probe_finish(p, status);
    return;
  }
  p->fastboot_step++;
  df_probe_fastboot_next(p);
}

static void
df_probe_fastboot_next(struct df_probe *p)
{
  static const char *const vars[] = {"getvar:serialno", "getvar:product", "getvar:is-userspace"};
  int rc;

  if (p->fastboot_step >= 3) {
    df_probe_finish(p, DF_OK);
    return;
  }
  rc = df_fastboot_command(p->dev->fastboot, vars[p->fastboot_step], NULL,
                           df_probe_fastboot_var, p);
  if (rc != DF_OK) df_probe_finish(p, rc);
}

static void
df_probe_fastboot_ready(void *userdata, int status)
{
  struct df_device *dev = userdata;
  struct df_probe *p = dev->probing;

  if (p == NULL) return;
  if (status != DF_OK) {
    df_probe_finish(p, status == DF_EEOF ? DF_EPROTO : status);
    return;
  }
  p->dev->mode = DF_DEVICE_BOOTLOADER; /* until is-userspace says otherwise */
  df_probe_fastboot_next(p);
}

static void
df_probe_fastboot_gone(void *userdata, int err)
{
  struct df_device *dev = userdata;

  /* The session stays allocated until df_device_close; it is just dead. */
  if (dev->probing == NULL) dev->mode = DF_DEVICE_OFFLINE;
}

static void
df_probe_fastboot_connected(struct df_probe *p, struct df_transport *t, int status)
{
  int rc;

  if (p->finished) {
    if (t != NULL) df_transport_close(t, NULL);
    return;
  }
  if (status != DF_OK) {
    df_probe_finish(p, status);
    return;
  }
  snprintf(p->dev->transport, sizeof(p->dev->transport), "%s", t->description);
  rc = df_fastboot_start(p->loop, t, p->usb ? DF_FASTBOOT_LINK_USB : DF_FASTBOOT_LINK_TCP,
                         df_probe_fastboot_ready,
                         df_probe_fastboot_gone, p->dev, &p->dev->fastboot);
  if (rc != DF_OK) {
    df_transport_close(t, NULL);
    df_probe_finish(p, rc);
  }
}

static void
df_probe_tcp_adb_connected(void *data, struct df_transport *t, int status)
{
  struct df_probe *p = data;

  df_probe_adb_connected(p, t, status);
  df_probe_unref(p);
}

static void
df_probe_tcp_fastboot_connected(void *data, struct df_transport *t, int status)
{
  struct df_probe *p = data;

  df_probe_fastboot_connected(p, t, status);
  df_probe_unref(p);
}

/* A plugin's transport: its open runs on the thread pool (it may block);
 * the socket it returns is wrapped on the loop thread. */
struct df_probe_open {
  uv_work_t req;
  struct df_probe *p;
  df_device_scheme_open_fn open;
  char address[sizeof(((struct df_endpoint *)0)->host)];
  bool fastboot;
  int fd; /* or a negative errno value */
  char err[256];
};

static void
df_probe_open_work(uv_work_t *req)
{
  struct df_probe_open *o = req->data;

  o->err[0] = '\0';
  o->fd = o->open(o->address, o->err, sizeof(o->err));
  o->err[sizeof(o->err) - 1] = '\0';
}

static void
df_probe_open_done(uv_work_t *req, int status)
{
  struct df_probe_open *o = req->data;
  struct df_probe *p = o->p;
  struct df_transport *t = NULL;
  struct df_device_scheme_error *e = df_device_scheme_error_slot(&p->ep, true);
  char desc[sizeof(t->description)];
  int rc;

  if (status != 0) {
    rc = df_error_from_uv(status); /* cancelled before it ran: no fd */
  } else if (o->fd < 0) {
    rc = df_error_from_uv(o->fd);
    if (rc == DF_OK) rc = DF_EIO;
    snprintf(e->message, sizeof(e->message), "%s", o->err[0] ? o->err : df_strerror(rc));
  } else {
    df_endpoint_format(&p->ep, desc, sizeof(desc));
    rc = df_tcp_open_fd(p->loop, o->fd, desc, &df_probe_no_cbs, NULL, &t);
    if (rc != DF_OK) {
      close(o->fd);
      snprintf(e->message, sizeof(e->message),
               "the plugin's open gave no stream socket (%s)", df_strerror(rc));
    } else {
      e->message[0] = '\0';
    }
  }
  if (o->fastboot)
    df_probe_fastboot_connected(p, t, rc);
  else
    df_probe_adb_connected(p, t, rc);
  df_probe_unref(p);
  free(o);
}

static int
df_probe_open_scheme(struct df_probe *p, bool fastboot)
{
  const struct df_device_scheme *s = df_device_scheme_lookup(p->ep.scheme, strlen(p->ep.scheme));
  struct df_probe_open *o;
  int rc;

  if (s == NULL) return DF_ENOENT;
  o = calloc(1, sizeof(*o));
  if (o == NULL) return DF_ENOMEM;
  o->req.data = o;
  o->p = p;
  o->open = s->open;
  o->fastboot = fastboot;
  snprintf(o->address, sizeof(o->address), "%s", p->ep.host);
  p->refs++;
  rc = uv_queue_work(&p->loop->uv, &o->req, df_probe_open_work, df_probe_open_done);
  if (rc != 0) {
    p->refs--;
    free(o);
    return df_error_from_uv(rc);
  }
  return DF_OK;
}

/* Connects to the probe's endpoint; the probe stays allocated until the
 * connect has come back, even if the probe ends first. */
static int
df_probe_connect(struct df_probe *p, bool fastboot)
{
  int rc;

  if (p->ep.scheme[0] != '\0') return df_probe_open_scheme(p, fastboot);
  p->refs++;
  rc = df_tcp_connect(p->loop, p->ep.host, p->ep.port, &df_probe_no_cbs, NULL,
                      fastboot ? df_probe_tcp_fastboot_connected : df_probe_tcp_adb_connected, p);
  if (rc != DF_OK) p->refs--;
  return rc;
}

static void
df_probe_try_fastboot(struct df_probe *p)
{
  int rc;

  p->trying_fastboot = true;
  if (p->dev->adb != NULL) {
    df_adb_conn_close(p->dev->adb);
    p->dev->adb = NULL;
  }
  uv_timer_again(&p->timer);
  rc = df_probe_connect(p, true);
  if (rc != DF_OK) df_probe_finish(p, rc);
}

static struct df_probe *
df_probe_new(struct df_loop *loop, const struct df_endpoint *ep, const char *serial,
             const struct df_adb_keys *keys, df_device_probe_cb cb, void *userdata)
{
  struct df_probe *p = calloc(1, sizeof(*p));

  if (p == NULL) return NULL;
  p->dev = calloc(1, sizeof(*p->dev));
  if (p->dev == NULL) {
    free(p);
    return NULL;
  }
  p->loop = loop;
  p->ep = *ep;
  p->keys = keys;
  p->cb = cb;
  p->userdata = userdata;
  p->dev->endpoint = *ep;
  p->dev->probing = p;
  p->refs = 1; /* the timer's: released when it has closed */
  snprintf(p->dev->serial, sizeof(p->dev->serial), "%s", serial);
  return p;
}

static void
df_probe_arm(struct df_probe *p, unsigned timeout_ms)
{
  uv_timer_init(&p->loop->uv, &p->timer);
  p->timer.data = p;
  uv_timer_start(&p->timer, df_probe_on_timeout, timeout_ms, timeout_ms);
}

void
df_endpoint_stand_in_serial(const struct df_endpoint *ep, char *out, size_t outlen)
{
  if (ep->scheme[0] != '\0')
    df_endpoint_format(ep, out, outlen);
  else
    snprintf(out, outlen, "%s:%d", ep->host, ep->port);
}

int
df_device_probe(struct df_loop *loop, const struct df_endpoint *ep,
                const struct df_adb_keys *keys, unsigned timeout_ms,
                df_device_probe_cb cb, void *userdata)
{
  char serial[272];
  struct df_probe *p;
  int rc;

  df_endpoint_stand_in_serial(ep, serial, sizeof(serial));
  p = df_probe_new(loop, ep, serial, keys, cb, userdata);
  if (p == NULL) return DF_ENOMEM;
  p->trying_fastboot = ep->kind == DF_ENDPOINT_FASTBOOT;
  rc = df_probe_connect(p, p->trying_fastboot);
  if (rc != DF_OK) {
    free(p->dev);
    free(p);
    return rc;
  }
  df_probe_arm(p, timeout_ms);
  return DF_OK;
}

int
df_device_probe_usb(struct df_loop *loop, struct df_usb *usb,
                    const struct df_usb_device_info *info, const struct df_adb_keys *keys,
                    unsigned timeout_ms, df_device_probe_cb cb, void *userdata)
{
  struct df_endpoint ep = {0};
  struct df_transport *t;
  struct df_probe *p;
  int rc;

  ep.kind = info->kind == DF_USB_ADB ? DF_ENDPOINT_ADB : DF_ENDPOINT_FASTBOOT;
  snprintf(ep.host, sizeof(ep.host), "usb:%s", info->port_path);
  p = df_probe_new(loop, &ep, info->serial[0] != '\0' ? info->serial : ep.host, keys, cb,
                   userdata);
  if (p == NULL) return DF_ENOMEM;
  p->usb = true;
  p->trying_fastboot = ep.kind == DF_ENDPOINT_FASTBOOT;
  rc = df_usb_open(usb, info, &df_probe_no_cbs, NULL, &t);
  if (rc != DF_OK) {
    free(p->dev);
    free(p);
    return rc;
  }
  /* adb: header and payload apart, ZLPs; fastboot: no ZLP mid-download. */
  df_usb_transport_set_kind(t, info->kind);
  df_probe_arm(p, timeout_ms);
  if (p->trying_fastboot)
    df_probe_fastboot_connected(p, t, DF_OK);
  else
    df_probe_adb_connected(p, t, DF_OK);
  return DF_OK;
}

void
df_device_close(struct df_device *dev)
{
  if (dev->adb != NULL) df_adb_conn_close(dev->adb);
  if (dev->fastboot != NULL) df_fastboot_close(dev->fastboot);
  free(dev);
}
