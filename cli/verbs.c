/* The verb table. Adding a verb: write cli/<verb>.c defining
 * `const struct df_cli_verb df_cli_verb_<name>`, and add one X(<name>) line
 * below, in the order `droidfix --help` lists them. A verb with a '-' in
 * its name has '_' in its symbol (set-active: df_cli_verb_set_active);
 * the fastboot commands live together in cli/fastboot_verbs.c. */
#include "cli/cli.h"

#include <string.h>

#define DF_CLI_VERB_LIST(X) \
  X(devices)                \
  X(info)                   \
  X(shell)                  \
  X(push)                   \
  X(pull)                   \
  X(reboot)                 \
  X(getvar)                 \
  X(flash)                  \
  X(erase)                  \
  X(set_active)             \
  X(flashing)               \
  X(oem)                    \
  X(create_logical_partition) \
  X(resize_logical_partition) \
  X(delete_logical_partition) \
  X(update_super)           \
  X(firmware)               \
  X(run)                    \
  X(recipes)                \
  X(plugins)                \
  X(models)                 \
  X(help)

#define DF_CLI_VERB_EXTERN(name) extern const struct df_cli_verb df_cli_verb_##name;
DF_CLI_VERB_LIST(DF_CLI_VERB_EXTERN)
#undef DF_CLI_VERB_EXTERN

const struct df_cli_verb *const df_cli_verbs[] = {
#define DF_CLI_VERB_ENTRY(name) &df_cli_verb_##name,
  DF_CLI_VERB_LIST(DF_CLI_VERB_ENTRY)
#undef DF_CLI_VERB_ENTRY
  NULL,
};

const struct df_cli_verb *
df_cli_find_verb(const struct df_cli_verb *const *table, const char *name)
{
  for (; table != NULL && *table != NULL; table++)
    if (strcmp((*table)->name, name) == 0) return *table;
  return NULL;
}

void
df_cli_verb_full_name(const struct df_cli_verb *verb, char *out, size_t outlen)
{
  if (verb->parent != NULL)
    snprintf(out, outlen, "%s %s", verb->parent->name, verb->name);
  else
    snprintf(out, outlen, "%s", verb->name);
}

const char *
df_cli_option(const struct df_cli_args *args, const char *name)
{
  const char *value = NULL;

  for (size_t i = 0; i < args->option_count; i++)
    if (strcmp(args->options[i].option->name, name) == 0) value = args->options[i].value;
  return value;
}

size_t
df_cli_option_count(const struct df_cli_args *args, const char *name)
{
  size_t n = 0;

  for (size_t i = 0; i < args->option_count; i++)
    n += strcmp(args->options[i].option->name, name) == 0;
  return n;
}
