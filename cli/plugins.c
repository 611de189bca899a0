/* droidfix plugins: the external plugins loaded from --plugin-dir and
 * DROIDFIX_PLUGIN_PATH, with their ABI, Lua functions and transport scheme. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/json.h"
#include "lua-api/droidfix_plugin.h"
#include "lua-api/plugin.h"

static const char *
df_cli_plugin_protocol(int protocol)
{
  switch (protocol) {
  case DROIDFIX_PROTOCOL_ADB: return "adb";
  case DROIDFIX_PROTOCOL_FASTBOOT: return "fastboot";
  default: return "any";
  }
}

static void
df_cli_plugins_json(struct df_cli *cli)
{
  struct df_json j;

  df_json_init(&j, cli->out);
  df_json_object_begin(&j);
  df_json_kv_bool(&j, "ok", true);
  df_json_key(&j, "plugins");
  df_json_array_begin(&j);
  for (size_t i = 0; i < df_plugin_count(); i++) {
    const struct droidfix_plugin *p = df_plugin_at(i);
    const struct droidfix_transport *t = df_plugin_transport_at(i);
    df_json_object_begin(&j);
    df_json_kv_string(&j, "name", p->name);
    df_json_kv_string(&j, "version", p->version != NULL ? p->version : "");
    df_json_kv_string(&j, "description", p->description != NULL ? p->description : "");
    df_json_kv_int(&j, "abi", p->abi);
    df_json_kv_string(&j, "path", df_plugin_path_at(i));
    df_json_key(&j, "functions");
    df_json_array_begin(&j);
    for (const luaL_Reg *f = p->functions; f != NULL && f->name != NULL; f++)
      df_json_string(&j, f->name);
    df_json_array_end(&j);
    df_json_key(&j, "transport");
    if (t == NULL) {
      df_json_null(&j);
    } else {
      df_json_object_begin(&j);
      df_json_kv_string(&j, "scheme", t->scheme);
      df_json_kv_string(&j, "protocol", df_cli_plugin_protocol(t->protocol));
      df_json_object_end(&j);
    }
    df_json_object_end(&j);
  }
  df_json_array_end(&j);
  df_json_object_end(&j);
}

static int
df_cli_plugins_run(struct df_cli *cli, const struct df_cli_args *args)
{
  if (args->positional_count != 0)
    return df_cli_usage_error(cli, args->verb, "plugins takes no arguments");
  if (cli->json) {
    df_cli_plugins_json(cli);
    return DF_CLI_EXIT_OK;
  }
  if (df_plugin_count() == 0) {
    fprintf(cli->err, "droidfix: no plugins loaded (name a folder with --plugin-dir DIR or "
                      "DROIDFIX_PLUGIN_PATH)\n");
    return DF_CLI_EXIT_OK;
  }
  for (size_t i = 0; i < df_plugin_count(); i++) {
    const struct droidfix_plugin *p = df_plugin_at(i);
    const struct droidfix_transport *t = df_plugin_transport_at(i);
    char text[512];
    size_t nfun = 0;

    df_cli_safe_text(p->description != NULL ? p->description : "", text, sizeof(text));
    fprintf(cli->out, "%s %s (ABI %d): %s\n", p->name, p->version != NULL ? p->version : "",
            p->abi, text);
    fprintf(cli->out, "  file       %s\n", df_plugin_path_at(i));
    for (const luaL_Reg *f = p->functions; f != NULL && f->name != NULL; f++) {
      fprintf(cli->out, "%s%s", nfun == 0 ? "  functions  " : ", ", f->name);
      nfun++;
    }
    if (nfun > 0) fprintf(cli->out, "   (df.plugins.%s.*)\n", p->name);
    if (t != NULL)
      fprintf(cli->out, "  transport  --connect %s:ADDRESS (%s)\n", t->scheme,
              df_cli_plugin_protocol(t->protocol));
  }
  return DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_plugins = {
  .name = "plugins",
  .summary = "list the external plugins loaded, their functions and transports",
  .usage = "plugins [--plugin-dir DIR]...",
  .help = "Lists the plugins loaded from each --plugin-dir DIR and from the folders\n"
          "of DROIDFIX_PLUGIN_PATH (colon-separated): name, version, plugin ABI,\n"
          "file, the Lua functions recipes see as df.plugins.NAME.FUNCTION, and the\n"
          "transport scheme a plugin adds (--connect SCHEME:ADDRESS). A file that\n"
          "cannot be loaded is named in a warning with the reason. See\n"
          "docs/plugins.md.\n",
  .run = df_cli_plugins_run,
};
