/* Logging: one line per event on stderr, at a level chosen by -v/-q or the
 * DROIDFIX_LOG variable (error, warn, info, debug, trace). Log once, where a
 * failure is understood; transports return errors and never log them. */
#ifndef DF_CORE_LOG_H
#define DF_CORE_LOG_H

enum df_log_level {
  DF_LOG_ERROR = 0,
  DF_LOG_WARN,
  DF_LOG_INFO,
  DF_LOG_DEBUG,
  DF_LOG_TRACE,
};

/* Reads DROIDFIX_LOG; returns DF_EINVAL (and keeps the level) on a bad value. */
int
df_log_init_from_env(void);

void
df_log_set_level(enum df_log_level level);

enum df_log_level
df_log_get_level(void);

/* Parses "error".."trace"; returns DF_EINVAL for anything else. */
int
df_log_level_parse(const char *text, enum df_log_level *level);

void
df_log(enum df_log_level level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

#define df_log_error(...) df_log(DF_LOG_ERROR, __VA_ARGS__)
#define df_log_warn(...) df_log(DF_LOG_WARN, __VA_ARGS__)
#define df_log_info(...) df_log(DF_LOG_INFO, __VA_ARGS__)
#define df_log_debug(...) df_log(DF_LOG_DEBUG, __VA_ARGS__)
#define df_log_trace(...) df_log(DF_LOG_TRACE, __VA_ARGS__)

#endif
