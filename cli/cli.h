/* The droidfix command's shared shapes: a verb (name, summary, usage, help,
 * options, run) and the state every verb gets (global flags, output
 * streams). A verb lives in its own file and is listed once in verbs.c. */
#ifndef DF_CLI_CLI_H
#define DF_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of the droidfix command. */
enum df_cli_exit {
  DF_CLI_EXIT_OK = 0,      /* done; a check matched */
  DF_CLI_EXIT_FAILED = 1,  /* the operation failed, or a check did not match */
  DF_CLI_EXIT_USAGE = 2,   /* bad arguments */
};

/* An option a verb takes, next to the global ones. */
struct df_cli_option {
  const char *name;       /* long name without "--"; NULL ends a table */
  char short_name;        /* 0 for none */
  const char *value_name; /* "HEX": takes a value; NULL: a plain flag */
  const char *help;
};

/* The global flags, and what the verb was given. */
struct df_cli {
  int verbose;            /* -v count */
  bool quiet;             /* -q */
  bool json;              /* --json */
  const char **connect;   /* --connect HOST:PORT, or DROIDFIX_CONNECT */
  size_t connect_count;
  const char *device;     /* --device SERIAL, or ANDROID_SERIAL; NULL */
  FILE *out;              /* results (stdout) */
  FILE *err;              /* messages (stderr) */
};

struct df_cli_option_value {
  const struct df_cli_option *option;
  const char *value;      /* NULL for a plain flag */
};

#define DF_CLI_MAX_ARGS 256

struct df_cli_args {
  const struct df_cli_verb *verb; /* the verb that runs (a subverb for groups) */
  const char *positional[DF_CLI_MAX_ARGS];
  size_t positional_count;
  struct df_cli_option_value options[DF_CLI_MAX_ARGS];
  size_t option_count;
};

struct df_cli_verb {
  const char *name;
  const char *summary;    /* one line, for the verb list */
  const char *usage;      /* after "droidfix ": "firmware verify FILE (--md5 HEX | ...)" */
  const char *help;       /* paragraphs shown by --help; may be NULL */
  const struct df_cli_option *options; /* may be NULL */
  /* A leaf verb runs; returns an enum df_cli_exit. */
  int (*run)(struct df_cli *cli, const struct df_cli_args *args);
  /* A group (firmware) lists its subverbs instead, NULL-terminated. */
  const struct df_cli_verb *const *subverbs;
  /* The group a subverb belongs to (for "droidfix firmware verify"). */
  const struct df_cli_verb *parent;
};

/* The verb table (verbs.c), NULL-terminated. */
extern const struct df_cli_verb *const df_cli_verbs[];

/* The name of a verb as typed: "firmware verify". */
void
df_cli_verb_full_name(const struct df_cli_verb *verb, char *out, size_t outlen);

const struct df_cli_verb *
df_cli_find_verb(const struct df_cli_verb *const *table, const char *name);

/* The value of the last --name given, or NULL; df_cli_option_count says how
 * many times it was given. */
const char *
df_cli_option(const struct df_cli_args *args, const char *name);

size_t
df_cli_option_count(const struct df_cli_args *args, const char *name);

/* Help and usage (help.c). */
void
df_cli_print_main_help(FILE *out);

void
df_cli_print_verb_help(FILE *out, const struct df_cli_verb *verb);

/* "usage: droidfix ..." for a verb, or for droidfix itself (verb NULL). */
void
df_cli_print_usage_line(FILE *out, const struct df_cli_verb *verb);

/* A usage error: "droidfix: MESSAGE" and the usage line on stderr. Returns
 * DF_CLI_EXIT_USAGE. */
int
df_cli_usage_error(struct df_cli *cli, const struct df_cli_verb *verb, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

#endif
