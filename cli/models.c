/* droidfix models [--json]: the device files droidfix knows (devices/, or
 * DROIDFIX_DEVICES): id, name, vendor, codenames and the button
 * combinations each has. Vendor bases (abstract) are left out; a broken
 * file is listed with its error and the exit status is 1. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/recipes.h"
#include "core/error.h"
#include "core/json.h"
#include "lua-api/device_file.h"

struct df_cli_models {
  struct df_cli *cli;
  struct df_json j;
  const char *dir;
  lua_State *L;
  int broken;
  int listed;
};

/* The strings of the list field at -1's key, joined or as JSON. */
static void
df_cli_models_strings(struct df_cli_models *m, int table, const char *field, char *text,
                      size_t textlen)
{
  size_t used = 0;

  if (text != NULL) text[0] = '\0';
  if (m->cli->json) {
    df_json_key(&m->j, field);
    df_json_array_begin(&m->j);
  }
  if (lua_getfield(m->L, table, field) == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)lua_rawlen(m->L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(m->L, -1, i);
      const char *s = lua_tostring(m->L, -1);
      if (s != NULL) {
        if (m->cli->json) df_json_string(&m->j, s);
        if (text != NULL && used + 2 < textlen) {
          int w = snprintf(text + used, textlen - used, "%s%s", used ? "," : "", s);
          if (w > 0) used += (size_t)w;
        }
      }
      lua_pop(m->L, 1);
    }
  }
  lua_pop(m->L, 1);
  if (m->cli->json) df_json_array_end(&m->j);
}

static int
df_cli_models_one(void *ctx, const char *id)
{
  struct df_cli_models *m = ctx;
  char err[1024], safe[1200], codenames[200], modes[200] = "";
  int t, rc;

  lua_settop(m->L, 0);
  rc = df_device_file_load(m->L, m->dir, id, err, sizeof(err));
  if (rc != 0) {
    m->broken++;
    if (m->cli->json) {
      df_json_object_begin(&m->j);
      df_json_kv_string(&m->j, "id", id);
      df_json_kv_bool(&m->j, "ok", false);
      df_json_kv_string(&m->j, "error", err);
      df_json_object_end(&m->j);
    } else {
      df_cli_safe_text(err, safe, sizeof(safe));
      fprintf(m->cli->out, "BROKEN  %s\n", safe);
    }
    return 0;
  }
  t = lua_gettop(m->L);
  lua_getfield(m->L, t, "abstract");
  if (lua_toboolean(m->L, -1)) return 0;
  lua_pop(m->L, 1);
  m->listed++;
  lua_getfield(m->L, t, "name");
  lua_getfield(m->L, t, "vendor");
  const char *name = lua_tostring(m->L, -2), *vendor = lua_tostring(m->L, -1);
  if (m->cli->json) {
    df_json_object_begin(&m->j);
    df_json_kv_string(&m->j, "id", id);
    df_json_kv_bool(&m->j, "ok", true);
    df_json_kv_string(&m->j, "name", name);
    df_json_kv_string(&m->j, "vendor", vendor);
    df_cli_models_strings(m, t, "codenames", codenames, sizeof(codenames));
    df_cli_models_strings(m, t, "marketing_names", NULL, 0);
    df_json_key(&m->j, "modes");
    df_json_array_begin(&m->j);
  } else {
    df_cli_models_strings(m, t, "codenames", codenames, sizeof(codenames));
  }
  /* modes: keys in a fixed order, so the listing is stable */
  static const char *const combos[] = {"fastboot", "recovery", "download", "safe-mode", "edl"};
  lua_getfield(m->L, t, "modes");
  for (size_t i = 0; i < sizeof(combos) / sizeof(*combos); i++) {
    if (!lua_istable(m->L, -1)) break;
    if (lua_getfield(m->L, -1, combos[i]) == LUA_TTABLE) {
      if (m->cli->json) df_json_string(&m->j, combos[i]);
      size_t n = strlen(modes);
      snprintf(modes + n, sizeof(modes) - n, "%s%s", n ? "," : "", combos[i]);
    }
    lua_pop(m->L, 1);
  }
  lua_pop(m->L, 1);
  if (m->cli->json) {
    df_json_array_end(&m->j);
    df_json_object_end(&m->j);
  } else {
    df_cli_safe_text(name != NULL ? name : "?", safe, sizeof(safe));
    fprintf(m->cli->out, "%-24s %-26s %-16s %s\n", id, safe, codenames, modes);
  }
  lua_settop(m->L, 0);
  return 0;
}

static int
df_cli_models_run(struct df_cli *cli, const struct df_cli_args *args)
{
  struct df_cli_models m = {.cli = cli, .dir = df_cli_devices_dir()};
  int rc;

  if (args->positional_count > 0)
    return df_cli_usage_error(cli, args->verb, "models takes no arguments");
  m.L = luaL_newstate();
  if (m.L == NULL) return df_cli_fail(cli, NULL, DF_ENOMEM, "out of memory");
  if (cli->json) {
    df_json_init(&m.j, cli->out);
    df_json_object_begin(&m.j);
    df_json_kv_string(&m.j, "devices_dir", m.dir);
    df_json_key(&m.j, "models");
    df_json_array_begin(&m.j);
  } else {
    fprintf(cli->out, "%-24s %-26s %-16s %s\n", "ID", "NAME", "CODENAMES", "BUTTON COMBINATIONS");
  }
  rc = df_device_file_list(m.dir, df_cli_models_one, &m);
  if (cli->json) {
    df_json_array_end(&m.j);
    df_json_object_end(&m.j);
  }
  lua_close(m.L);
  if (rc < 0)
    return df_cli_fail(cli, m.dir, rc, "cannot read the device files in %s (set DROIDFIX_DEVICES)",
                       m.dir);
  return m.broken > 0 ? DF_CLI_EXIT_FAILED : DF_CLI_EXIT_OK;
}

const struct df_cli_verb df_cli_verb_models = {
  .name = "models",
  .summary = "list the phone models droidfix has device files for",
  .usage = "models [--json]",
  .help = "Lists the device files under devices/ (or DROIDFIX_DEVICES): each\n"
          "model's id (as droidfix-sim --model takes it), name, codenames and the\n"
          "button combinations it has (fastboot, recovery, download, safe-mode,\n"
          "edl). Vendor bases are left out. A broken file is listed with its file,\n"
          "field and line, and the exit status is 1.",
  .run = df_cli_models_run,
};
