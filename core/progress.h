/* One primitive for long work: bytes done of a total, rate and ETA. Shown as a
 * bar on a TTY, as plain lines (at most one a second) when stderr is not a
 * TTY, and as JSON lines on stdout with --json. */
#ifndef DF_CORE_PROGRESS_H
#define DF_CORE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum df_progress_style {
  DF_PROGRESS_AUTO = 0, /* bar if the stream is a TTY, else plain lines */
  DF_PROGRESS_BAR,
  DF_PROGRESS_LINES,
  DF_PROGRESS_JSON,
  DF_PROGRESS_QUIET,
};

struct df_progress {
  char label[128];
  uint64_t total;   /* 0 when unknown */
  uint64_t done;
  uint64_t start_ns;
  uint64_t last_draw_ns;
  enum df_progress_style style;
  FILE *out;
  bool finished;
};

/* The style every new progress takes unless told otherwise (set by --json,
 * -q). */
void
df_progress_set_default_style(enum df_progress_style style);

void
df_progress_start(struct df_progress *p, const char *label, uint64_t total);

/* Sets the bytes done; redraws at most every 100 ms (1 s for lines). */
void
df_progress_update(struct df_progress *p, uint64_t done);

void
df_progress_add(struct df_progress *p, uint64_t delta);

/* Final line: "done" with the average rate, or the error's message. */
void
df_progress_finish(struct df_progress *p, int err);

/* Pure helpers, for tests: bytes per second since start, and the seconds
 * left (-1 when unknown). */
double
df_progress_rate(const struct df_progress *p, uint64_t now_ns);

double
df_progress_eta(const struct df_progress *p, uint64_t now_ns);

/* "1.5 GiB", "312 KiB", "17 B" */
void
df_format_bytes(uint64_t bytes, char *out, size_t outlen);

/* ---- Additions for explicit streams and clocks (tests, and callers that
 * must keep stdout for one JSON result) ---- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t
df_progress_now_ns(void);

/* Like df_progress_start, with the style and stream given and the clock read
 * by the caller. DF_PROGRESS_AUTO picks a bar if out is a TTY, else lines;
 * out NULL means stderr (stdout for DF_PROGRESS_JSON). */
void
df_progress_init(struct df_progress *p, const char *label, uint64_t total,
                 enum df_progress_style style, FILE *out, uint64_t now_ns);

/* df_progress_update and df_progress_finish at a given time. */
void
df_progress_update_at(struct df_progress *p, uint64_t done, uint64_t now_ns);

void
df_progress_finish_at(struct df_progress *p, int err, uint64_t now_ns);

/* One line of progress as the style shows it, without '\r' or line end:
 * what a bar or a plain line says at now_ns. */
void
df_progress_format(const struct df_progress *p, uint64_t now_ns, char *out, size_t outlen);

/* "0:07", "12:34", "1:02:03"; "?" for a negative value. */
void
df_format_duration(double seconds, char *out, size_t outlen);

#endif
