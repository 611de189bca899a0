/* Progress of long work: a bar redrawn in place on a TTY, plain lines (at
 * most one a second) elsewhere, JSON lines for programs, or nothing. The
 * arithmetic and the text are pure functions of the state and a clock, so
 * tests drive them with a clock of their own. */
#include "core/progress.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/json.h"

#define DF_PROGRESS_BAR_INTERVAL_NS 100000000ull  /* 100 ms */
#define DF_PROGRESS_LINE_INTERVAL_NS 1000000000ull /* 1 s */
#define DF_PROGRESS_BAR_WIDTH 20

static enum df_progress_style df_progress_default_style = DF_PROGRESS_AUTO;

void
df_progress_set_default_style(enum df_progress_style style)
{
  df_progress_default_style = style;
}

uint64_t
df_progress_now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
df_format_bytes(uint64_t bytes, char *out, size_t outlen)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double value = (double)bytes;
  size_t unit = 0;

  if (outlen == 0) return;
  if (bytes < 1024) {
    snprintf(out, outlen, "%" PRIu64 " B", bytes);
    return;
  }
  value /= 1024.0;
  while (value >= 1024.0 && unit + 1 < sizeof(units) / sizeof(*units)) {
    value /= 1024.0;
    unit++;
  }
  /* A value that would print as "1024" moves up a unit. */
  if (value >= 1023.5 && unit + 1 < sizeof(units) / sizeof(*units)) {
    value /= 1024.0;
    unit++;
  }
  if (value < 9.95) snprintf(out, outlen, "%.1f %s", value, units[unit]);
  else snprintf(out, outlen, "%.0f %s", value, units[unit]);
}

void
df_format_duration(double seconds, char *out, size_t outlen)
{
  uint64_t s;

  if (outlen == 0) return;
  if (seconds < 0 || isnan(seconds) || seconds > 1e9) {
    snprintf(out, outlen, "?");
    return;
  }
  s = (uint64_t)(seconds + 0.5);
  if (s >= 3600)
    snprintf(out, outlen, "%" PRIu64 ":%02u:%02u", s / 3600, (unsigned)(s / 60 % 60),
             (unsigned)(s % 60));
  else
    snprintf(out, outlen, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
}

double
df_progress_rate(const struct df_progress *p, uint64_t now_ns)
{
  double seconds;

  if (now_ns <= p->start_ns) return 0.0;
  seconds = (double)(now_ns - p->start_ns) / 1e9;
  return (double)p->done / seconds;
}

double
df_progress_eta(const struct df_progress *p, uint64_t now_ns)
{
  double rate;

  if (p->total == 0) return -1.0;
  if (p->done >= p->total) return 0.0;
  rate = df_progress_rate(p, now_ns);
  if (rate <= 0.0) return -1.0;
  return (double)(p->total - p->done) / rate;
}

static unsigned
df_progress_percent(const struct df_progress *p)
{
  if (p->total == 0) return 0;
  if (p->done >= p->total) return 100;
  return (unsigned)((double)p->done * 100.0 / (double)p->total);
}

void
df_progress_format(const struct df_progress *p, uint64_t now_ns, char *out, size_t outlen)
{
  char done[32], total[32], rate[32], eta[32];
  double eta_s = df_progress_eta(p, now_ns);

  df_format_bytes(p->done, done, sizeof(done));
  df_format_bytes(p->total, total, sizeof(total));
  df_format_bytes((uint64_t)df_progress_rate(p, now_ns), rate, sizeof(rate));
  df_format_duration(eta_s, eta, sizeof(eta));

  if (p->style == DF_PROGRESS_BAR && p->total > 0) {
    char bar[DF_PROGRESS_BAR_WIDTH + 1];
    unsigned percent = df_progress_percent(p);
    unsigned filled = percent * DF_PROGRESS_BAR_WIDTH / 100;
    for (unsigned i = 0; i < DF_PROGRESS_BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '-';
    bar[DF_PROGRESS_BAR_WIDTH] = '\0';
    snprintf(out, outlen, "%s [%s] %3u%% %s / %s  %s/s  ETA %s", p->label, bar, percent, done,
             total, rate, eta_s < 0 ? "?" : eta);
  } else if (p->total > 0) {
    snprintf(out, outlen, "%s: %u%%, %s of %s, %s/s, ETA %s", p->label, df_progress_percent(p),
             done, total, rate, eta_s < 0 ? "?" : eta);
  } else {
    snprintf(out, outlen, "%s: %s, %s/s", p->label, done, rate);
  }
}

static void
df_progress_json_string(FILE *out, const char *text)
{
  fputc('"', out);
  df_json_write_escaped(out, text, strlen(text));
  fputc('"', out);
}

static void
df_progress_json(const struct df_progress *p, uint64_t now_ns, const char *state, int err)
{
  double eta = df_progress_eta(p, now_ns);

  fputs("{\"event\":\"progress\",\"label\":", p->out);
  df_progress_json_string(p->out, p->label);
  fprintf(p->out, ",\"done\":%" PRIu64 ",\"total\":%" PRIu64 ",\"rate\":%.0f", p->done, p->total,
          df_progress_rate(p, now_ns));
  if (eta >= 0) fprintf(p->out, ",\"eta\":%.1f", eta);
  else fputs(",\"eta\":null", p->out);
  fprintf(p->out, ",\"state\":\"%s\"", state);
  if (err != 0) {
    fprintf(p->out, ",\"error\":\"%s\",\"message\":", df_error_name(err));
    df_progress_json_string(p->out, df_strerror(err));
  }
  fputs("}\n", p->out);
  fflush(p->out);
}

static void
df_progress_draw(struct df_progress *p, uint64_t now_ns)
{
  char line[512];

  switch (p->style) {
  case DF_PROGRESS_BAR:
    df_progress_format(p, now_ns, line, sizeof(line));
    /* \033[K clears what a longer earlier line left behind. */
    fprintf(p->out, "\r%s\033[K", line);
    break;
  case DF_PROGRESS_LINES:
    df_progress_format(p, now_ns, line, sizeof(line));
    fprintf(p->out, "%s\n", line);
    break;
  case DF_PROGRESS_JSON:
    df_progress_json(p, now_ns, "running", 0);
    break;
  case DF_PROGRESS_AUTO:
  case DF_PROGRESS_QUIET:
    return;
  }
  fflush(p->out);
}

void
df_progress_init(struct df_progress *p, const char *label, uint64_t total,
                 enum df_progress_style style, FILE *out, uint64_t now_ns)
{
  memset(p, 0, sizeof(*p));
  snprintf(p->label, sizeof(p->label), "%s", label != NULL ? label : "");
  p->total = total;
  p->start_ns = now_ns;
  p->last_draw_ns = now_ns;
  if (out == NULL) out = style == DF_PROGRESS_JSON ? stdout : stderr;
  if (style == DF_PROGRESS_AUTO) style = isatty(fileno(out)) ? DF_PROGRESS_BAR : DF_PROGRESS_LINES;
  p->style = style;
  p->out = out;
}

void
df_progress_start(struct df_progress *p, const char *label, uint64_t total)
{
  df_progress_init(p, label, total, df_progress_default_style, NULL, df_progress_now_ns());
}

void
df_progress_update_at(struct df_progress *p, uint64_t done, uint64_t now_ns)
{
  uint64_t interval = p->style == DF_PROGRESS_BAR ? DF_PROGRESS_BAR_INTERVAL_NS
                                                  : DF_PROGRESS_LINE_INTERVAL_NS;

  p->done = done;
  if (p->finished || p->style == DF_PROGRESS_QUIET) return;
  if (now_ns < p->last_draw_ns + interval) return;
  p->last_draw_ns = now_ns;
  df_progress_draw(p, now_ns);
}

void
df_progress_update(struct df_progress *p, uint64_t done)
{
  df_progress_update_at(p, done, df_progress_now_ns());
}

void
df_progress_add(struct df_progress *p, uint64_t delta)
{
  df_progress_update(p, p->done + delta);
}

void
df_progress_finish_at(struct df_progress *p, int err, uint64_t now_ns)
{
  char done[32], rate[32];
  double seconds = now_ns > p->start_ns ? (double)(now_ns - p->start_ns) / 1e9 : 0.0;
  const char *lead = p->style == DF_PROGRESS_BAR ? "\r" : "";
  const char *clear = p->style == DF_PROGRESS_BAR ? "\033[K" : "";

  if (p->finished) return;
  p->finished = true;
  if (p->style == DF_PROGRESS_QUIET || p->style == DF_PROGRESS_AUTO) return;
  if (p->style == DF_PROGRESS_JSON) {
    df_progress_json(p, now_ns, err == 0 ? "done" : "failed", err);
    return;
  }
  df_format_bytes(p->done, done, sizeof(done));
  df_format_bytes((uint64_t)df_progress_rate(p, now_ns), rate, sizeof(rate));
  if (err == 0)
    fprintf(p->out, "%s%s: done, %s in %.1f s (%s/s)%s\n", lead, p->label, done, seconds, rate,
            clear);
  else
    fprintf(p->out, "%s%s: failed after %s: %s%s\n", lead, p->label, done, df_strerror(err),
            clear);
  fflush(p->out);
}

void
df_progress_finish(struct df_progress *p, int err)
{
  df_progress_finish_at(p, err, df_progress_now_ns());
}
