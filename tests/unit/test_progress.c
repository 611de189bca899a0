/* core/progress: byte and time formatting, rate and ETA, and what each style
 * writes, driven by a clock of the test's own (no sleeping, no timing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/progress.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define MIB (1024ull * 1024)

static void
format_bytes(void **state)
{
  char out[32];
  static const struct { uint64_t bytes; const char *text; } cases[] = {
    { 0, "0 B" },
    { 17, "17 B" },
    { 1023, "1023 B" },
    { 1024, "1.0 KiB" },
    { 1536, "1.5 KiB" },
    { 312 * 1024, "312 KiB" },
    { 1024 * 1024 - 1, "1.0 MiB" },  /* 1023.999 KiB would print as 1024 KiB */
    { 10 * MIB, "10 MiB" },
    { 3 * MIB / 2 * 1024, "1.5 GiB" },
    { UINT64_MAX, "16 EiB" },
  };

  (void)state;
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    df_format_bytes(cases[i].bytes, out, sizeof(out));
    assert_string_equal(out, cases[i].text);
  }
  /* A short buffer is cut, never overrun. */
  df_format_bytes(312 * 1024, out, 4);
  assert_string_equal(out, "312");
}

static void
format_duration(void **state)
{
  char out[32];

  (void)state;
  df_format_duration(7, out, sizeof(out));
  assert_string_equal(out, "0:07");
  df_format_duration(754, out, sizeof(out));
  assert_string_equal(out, "12:34");
  df_format_duration(3723, out, sizeof(out));
  assert_string_equal(out, "1:02:03");
  df_format_duration(-1, out, sizeof(out));
  assert_string_equal(out, "?");
}

static void
rate_and_eta(void **state)
{
  struct df_progress p;

  (void)state;
  df_progress_init(&p, "copy", 100 * MIB, DF_PROGRESS_QUIET, NULL, 5 * SEC);
  /* Nothing done yet: no rate, no ETA. */
  assert_true(df_progress_rate(&p, 5 * SEC) == 0.0);
  assert_true(df_progress_eta(&p, 6 * SEC) < 0);
  p.done = 50 * MIB;
  assert_true(df_progress_rate(&p, 7 * SEC) == 25.0 * MIB);
  assert_true(df_progress_eta(&p, 7 * SEC) == 2.0);
  /* A clock that has not moved gives no rate rather than a division by 0. */
  assert_true(df_progress_rate(&p, 5 * SEC) == 0.0);
  p.done = 100 * MIB;
  assert_true(df_progress_eta(&p, 9 * SEC) == 0.0);
  /* Unknown total: no ETA. */
  p.total = 0;
  assert_true(df_progress_eta(&p, 9 * SEC) < 0);
}

/* Runs fn with a progress writing into memory; returns what it wrote. */
static char *
capture(enum df_progress_style style, const char *label, uint64_t total,
        void (*fn)(struct df_progress *p))
{
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  struct df_progress p;

  assert_non_null(out);
  df_progress_init(&p, label, total, style, out, 0);
  fn(&p);
  fclose(out);
  return text;
}

static size_t
count_char(const char *s, char c)
{
  size_t n = 0;

  for (; *s != '\0'; s++) n += *s == c;
  return n;
}

static void
lines_run(struct df_progress *p)
{
  df_progress_update_at(p, 5 * MIB, 500 * MS);   /* too soon */
  df_progress_update_at(p, 10 * MIB, 1 * SEC);   /* a line */
  df_progress_update_at(p, 15 * MIB, 1500 * MS); /* too soon after it */
  df_progress_update_at(p, 20 * MIB, 2 * SEC);   /* a line */
  df_progress_update_at(p, 25 * MIB, 2500 * MS);
  df_progress_finish_at(p, 0, 2500 * MS);        /* the final line, always */
  df_progress_finish_at(p, 0, 3 * SEC);          /* a second finish writes nothing */
}

static void
lines_at_most_one_a_second(void **state)
{
  char *text = capture(DF_PROGRESS_LINES, "copy", 100 * MIB, lines_run);

  (void)state;
  assert_int_equal(count_char(text, '\n'), 3);
  assert_null(strchr(text, '\r'));
  assert_string_equal(text,
                      "copy: 10%, 10 MiB of 100 MiB, 10 MiB/s, ETA 0:09\n"
                      "copy: 20%, 20 MiB of 100 MiB, 10 MiB/s, ETA 0:08\n"
                      "copy: done, 25 MiB in 2.5 s (10 MiB/s)\n");
  free(text);
}

static void
unknown_total_run(struct df_progress *p)
{
  df_progress_update_at(p, 3 * MIB, 1 * SEC);
  df_progress_finish_at(p, DF_ECORRUPT, 2 * SEC);
}

static void
lines_unknown_total_and_failure(void **state)
{
  char *text = capture(DF_PROGRESS_LINES, "reading x.tgz", 0, unknown_total_run);

  (void)state;
  assert_string_equal(text, "reading x.tgz: 3.0 MiB, 3.0 MiB/s\n"
                            "reading x.tgz: failed after 3.0 MiB: corrupt or truncated data\n");
  free(text);
}

static void
bar_run(struct df_progress *p)
{
  df_progress_update_at(p, 10 * MIB, 50 * MS);  /* within 100 ms: no redraw */
  df_progress_update_at(p, 50 * MIB, 100 * MS); /* redraw */
  df_progress_update_at(p, 60 * MIB, 150 * MS); /* no */
  df_progress_update_at(p, 75 * MIB, 200 * MS); /* redraw */
  df_progress_finish_at(p, 0, 250 * MS);
}

static void
bar_redraws_in_place(void **state)
{
  char *text = capture(DF_PROGRESS_BAR, "flash boot", 100 * MIB, bar_run);

  (void)state;
  /* Two redraws and the final line, each starting with a carriage return;
   * only the final line ends the line. */
  assert_int_equal(count_char(text, '\r'), 3);
  assert_int_equal(count_char(text, '\n'), 1);
  assert_non_null(strstr(text, "\rflash boot [##########----------]  50% 50 MiB / 100 MiB"));
  assert_non_null(strstr(text, "\rflash boot [###############-----]  75% 75 MiB / 100 MiB"));
  assert_non_null(strstr(text, "ETA 0:00\033[K"));
  assert_non_null(strstr(text, "\rflash boot: done, 75 MiB in 0.2 s (300 MiB/s)\033[K\n"));
  free(text);
}

static void
json_run(struct df_progress *p)
{
  df_progress_update_at(p, 10, 1 * SEC);
  df_progress_finish_at(p, DF_EMISMATCH, 2 * SEC);
}

static void
json_lines(void **state)
{
  char *text = capture(DF_PROGRESS_JSON, "a\"b\\c\x01\xff", 40, json_run);

  (void)state;
  assert_string_equal(text,
                      "{\"event\":\"progress\",\"label\":\"a\\\"b\\\\c\\u0001\\ufffd\",\"done\":10,"
                      "\"total\":40,\"rate\":10,\"eta\":3.0,\"state\":\"running\"}\n"
                      "{\"event\":\"progress\",\"label\":\"a\\\"b\\\\c\\u0001\\ufffd\",\"done\":10,"
                      "\"total\":40,\"rate\":5,\"eta\":6.0,\"state\":\"failed\",\"error\":"
                      "\"EMISMATCH\",\"message\":\"checksum mismatch\"}\n");
  free(text);
}

static void
quiet_writes_nothing(void **state)
{
  char *text = capture(DF_PROGRESS_QUIET, "copy", 100, lines_run);

  (void)state;
  assert_string_equal(text, "");
  free(text);
}

static void
auto_on_a_pipe_is_lines(void **state)
{
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  struct df_progress p;

  (void)state;
  df_progress_init(&p, "copy", 100, DF_PROGRESS_AUTO, out, 0);
  assert_int_equal(p.style, DF_PROGRESS_LINES);
  fclose(out);
  free(text);

  df_progress_set_default_style(DF_PROGRESS_QUIET);
  df_progress_start(&p, "copy", 100);
  assert_int_equal(p.style, DF_PROGRESS_QUIET);
  df_progress_set_default_style(DF_PROGRESS_JSON);
  df_progress_start(&p, "copy", 100);
  assert_int_equal(p.style, DF_PROGRESS_JSON);
  assert_ptr_equal(p.out, stdout);
  df_progress_set_default_style(DF_PROGRESS_AUTO);
}

static void
format_line(void **state)
{
  struct df_progress p;
  char line[256];

  (void)state;
  df_progress_init(&p, "push", 4 * MIB, DF_PROGRESS_LINES, NULL, 0);
  p.done = 1 * MIB;
  df_progress_format(&p, 1 * SEC, line, sizeof(line));
  assert_string_equal(line, "push: 25%, 1.0 MiB of 4.0 MiB, 1.0 MiB/s, ETA 0:03");
  /* More done than the total (a header that lied): 100%, not 101%. */
  p.done = 5 * MIB;
  df_progress_format(&p, 1 * SEC, line, sizeof(line));
  assert_string_equal(line, "push: 100%, 5.0 MiB of 4.0 MiB, 5.0 MiB/s, ETA 0:00");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(format_bytes),
    cmocka_unit_test(format_duration),
    cmocka_unit_test(rate_and_eta),
    cmocka_unit_test(lines_at_most_one_a_second),
    cmocka_unit_test(lines_unknown_total_and_failure),
    cmocka_unit_test(bar_redraws_in_place),
    cmocka_unit_test(json_lines),
    cmocka_unit_test(quiet_writes_nothing),
    cmocka_unit_test(auto_on_a_pipe_is_lines),
    cmocka_unit_test(format_line),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
