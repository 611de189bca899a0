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

#endif
