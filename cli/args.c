/* The command-line parser. Written by hand rather than with getopt_long
 * because the option set grows once the verb is known, global flags may sit
 * on either side of it, and errors must be one droidfix-style line. */
#include "cli/args.h"

#include <stdlib.h>
#include <string.h>

const struct df_cli_option df_cli_global_options[] = {
  { "help", 'h', NULL, "show help (droidfix VERB --help for one verb)" },
  { "version", 0, NULL, "print the version and exit" },
  { "verbose", 'v', NULL, "more log output; repeat for more (-vv)" },
  { "quiet", 'q', NULL, "errors only, no progress" },
  { "json", 0, NULL, "machine-readable output on stdout" },
  { "connect", 0, "HOST:PORT", "a phone over TCP, or a plugin's SCHEME:ADDRESS; repeatable" },
  { "plugin-dir", 0, "DIR", "load the plugins (*.so) in DIR; repeatable" },
  { "device", 0, "SERIAL", "the phone to use (env ANDROID_SERIAL)" },
  { NULL, 0, NULL, NULL },
};

static const struct df_cli_option *
df_cli_lookup_long(const struct df_cli_option *table, const char *name, size_t len)
{
  for (; table != NULL && table->name != NULL; table++)
    if (strlen(table->name) == len && strncmp(table->name, name, len) == 0) return table;
  return NULL;
}

static const struct df_cli_option *
df_cli_lookup_short(const struct df_cli_option *table, char c)
{
  for (; table != NULL && table->name != NULL; table++)
    if (table->short_name != 0 && table->short_name == c) return table;
  return NULL;
}

static bool
df_cli_is_global(const struct df_cli_option *opt)
{
  return opt >= df_cli_global_options &&
         opt < df_cli_global_options + sizeof(df_cli_global_options) /
                                           sizeof(*df_cli_global_options);
}

static int
df_cli_apply(struct df_cli *cli, struct df_cli_args *args, struct df_cli_parsed *parsed,
             const struct df_cli_option *opt, const char *value)
{
  if (!df_cli_is_global(opt)) {
    if (args->option_count == DF_CLI_MAX_ARGS)
      return df_cli_usage_error(cli, args->verb, "too many options");
    args->options[args->option_count].option = opt;
    args->options[args->option_count].value = value;
    args->option_count++;
    return DF_CLI_EXIT_OK;
  }
  if (strcmp(opt->name, "help") == 0) parsed->help = true;
  else if (strcmp(opt->name, "version") == 0) parsed->version = true;
  else if (strcmp(opt->name, "verbose") == 0) cli->verbose++;
  else if (strcmp(opt->name, "quiet") == 0) cli->quiet = true;
  else if (strcmp(opt->name, "json") == 0) cli->json = true;
  else if (strcmp(opt->name, "device") == 0) cli->device = value;
  else if (strcmp(opt->name, "connect") == 0) {
    /* HOST:PORT, or a plugin's SCHEME:ADDRESS: the plugins are not loaded
     * yet, so only the shape is checked here. */
    const char *colon = strrchr(value, ':');
    if (colon == NULL || colon == value || colon[1] == '\0')
      return df_cli_usage_error(cli, args->verb,
                                "--connect needs HOST:PORT (or SCHEME:ADDRESS), got '%s'", value);
    cli->connect[cli->connect_count++] = value;
  } else if (strcmp(opt->name, "plugin-dir") == 0) {
    if (parsed->plugin_dir_count == DF_CLI_MAX_PLUGIN_DIRS)
      return df_cli_usage_error(cli, args->verb, "at most %d --plugin-dir",
                                DF_CLI_MAX_PLUGIN_DIRS);
    if (value[0] == '\0') return df_cli_usage_error(cli, args->verb, "--plugin-dir needs a folder");
    parsed->plugin_dirs[parsed->plugin_dir_count++] = value;
  }
  return DF_CLI_EXIT_OK;
}

/* A word that names the verb or subverb, or a positional argument. */
static int
df_cli_positional(struct df_cli *cli, struct df_cli_args *args, const char *word, bool *group_open)
{
  if (args->verb == NULL) {
    args->verb = df_cli_find_verb(df_cli_verbs, word);
    if (args->verb == NULL) return df_cli_usage_error(cli, NULL, "unknown verb '%s'", word);
    *group_open = args->verb->subverbs != NULL;
    return DF_CLI_EXIT_OK;
  }
  if (*group_open) {
    const struct df_cli_verb *sub = df_cli_find_verb(args->verb->subverbs, word);
    char group[64];
    if (sub == NULL) {
      df_cli_verb_full_name(args->verb, group, sizeof(group));
      return df_cli_usage_error(cli, args->verb, "unknown verb '%s %s'", group, word);
    }
    args->verb = sub;
    *group_open = false;
    return DF_CLI_EXIT_OK;
  }
  if (args->positional_count == DF_CLI_MAX_ARGS)
    return df_cli_usage_error(cli, args->verb, "too many arguments");
  args->positional[args->positional_count++] = word;
  return DF_CLI_EXIT_OK;
}

static int
df_cli_env_connect(struct df_cli *cli, char **storage)
{
  const char *env = getenv("DROIDFIX_CONNECT");
  size_t n = 1;
  char *copy, *save = NULL;

  if (env == NULL || *env == '\0') return DF_CLI_EXIT_OK;
  for (const char *c = env; *c != '\0'; c++) n += *c == ',';
  copy = strdup(env);
  cli->connect = calloc(n, sizeof(*cli->connect));
  if (copy == NULL || cli->connect == NULL) {
    free(copy);
    fprintf(cli->err, "droidfix: out of memory\n");
    return DF_CLI_EXIT_FAILED;
  }
  *storage = copy;
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    while (*tok == ' ') tok++;
    if (*tok != '\0') cli->connect[cli->connect_count++] = tok;
  }
  return DF_CLI_EXIT_OK;
}

static char *df_cli_env_connect_storage;

int
df_cli_parse(int argc, char **argv, struct df_cli *cli, struct df_cli_args *args,
             struct df_cli_parsed *parsed)
{
  bool group_open = false, options_done = false;
  int rc;

  memset(args, 0, sizeof(*args));
  memset(parsed, 0, sizeof(*parsed));
  cli->connect = calloc((size_t)argc + 1, sizeof(*cli->connect));
  if (cli->connect == NULL) {
    fprintf(cli->err, "droidfix: out of memory\n");
    return DF_CLI_EXIT_FAILED;
  }

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const struct df_cli_option *verb_options = args->verb != NULL ? args->verb->options : NULL;

    if (options_done || arg[0] != '-' || arg[1] == '\0') {
      rc = df_cli_positional(cli, args, arg, &group_open);
      if (rc != DF_CLI_EXIT_OK) return rc;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      options_done = true;
      continue;
    }
    if (arg[1] == '-') {
      const char *name = arg + 2, *eq = strchr(name, '=');
      size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
      const struct df_cli_option *opt = df_cli_lookup_long(df_cli_global_options, name, len);
      const char *value = NULL;
      if (opt == NULL) opt = df_cli_lookup_long(verb_options, name, len);
      if (opt == NULL) return df_cli_usage_error(cli, args->verb, "unknown flag '--%.*s'", (int)len, name);
      if (opt->value_name != NULL) {
        if (eq != NULL) value = eq + 1;
        else if (i + 1 < argc) value = argv[++i];
        else return df_cli_usage_error(cli, args->verb, "--%s needs a value (%s)", opt->name, opt->value_name);
      } else if (eq != NULL) {
        return df_cli_usage_error(cli, args->verb, "--%s takes no value", opt->name);
      }
      rc = df_cli_apply(cli, args, parsed, opt, value);
      if (rc != DF_CLI_EXIT_OK) return rc;
      continue;
    }
    /* -v, -vv, -qv: short flags bundled; one taking a value must come last
     * and takes the next word. */
    for (const char *c = arg + 1; *c != '\0'; c++) {
      const struct df_cli_option *opt = df_cli_lookup_short(df_cli_global_options, *c);
      const char *value = NULL;
      if (opt == NULL) opt = df_cli_lookup_short(verb_options, *c);
      if (opt == NULL) return df_cli_usage_error(cli, args->verb, "unknown flag '-%c'", *c);
      if (opt->value_name != NULL) {
        if (c[1] != '\0' || i + 1 >= argc)
          return df_cli_usage_error(cli, args->verb, "-%c needs a value (%s)", *c, opt->value_name);
        value = argv[++i];
      }
      rc = df_cli_apply(cli, args, parsed, opt, value);
      if (rc != DF_CLI_EXIT_OK) return rc;
    }
  }

  if (cli->connect_count == 0) {
    free(cli->connect);
    cli->connect = NULL;
    rc = df_cli_env_connect(cli, &df_cli_env_connect_storage);
    if (rc != DF_CLI_EXIT_OK) return rc;
  }
  if (cli->device == NULL) {
    const char *serial = getenv("ANDROID_SERIAL");
    if (serial != NULL && *serial != '\0') cli->device = serial;
  }
  return DF_CLI_EXIT_OK;
}

void
df_cli_release(struct df_cli *cli)
{
  free(cli->connect);
  cli->connect = NULL;
  cli->connect_count = 0;
  free(df_cli_env_connect_storage);
  df_cli_env_connect_storage = NULL;
}
