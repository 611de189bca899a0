/* Logging to stderr with a process-wide level. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static enum df_log_level df_log_level_current = DF_LOG_WARN;

static const char *const df_log_level_names[] = {
  "error", "warn", "info", "debug", "trace",
};

int
df_log_level_parse(const char *text, enum df_log_level *level)
{
  for (size_t i = 0; i < sizeof(df_log_level_names) / sizeof(*df_log_level_names); i++) {
    if (strcmp(text, df_log_level_names[i]) == 0) {
      *level = (enum df_log_level)i;
      return DF_OK;
    }
  }
  return DF_EINVAL;
}

int
df_log_init_from_env(void)
{
  const char *value = getenv("DROIDFIX_LOG");
  enum df_log_level level;

  if (value == NULL || *value == '\0') return DF_OK;
  if (df_log_level_parse(value, &level) != DF_OK) return DF_EINVAL;
  df_log_level_current = level;
  return DF_OK;
}

void
df_log_set_level(enum df_log_level level)
{
  df_log_level_current = level;
}

enum df_log_level
df_log_get_level(void)
{
  return df_log_level_current;
}

void
df_log(enum df_log_level level, const char *fmt, ...)
{
  va_list ap;
  char line[2048];

  if (level > df_log_level_current) return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  fprintf(stderr, "droidfix: %s%s\n",
          level == DF_LOG_ERROR ? "error: " : level == DF_LOG_WARN ? "warning: " : "",
          line);
}
