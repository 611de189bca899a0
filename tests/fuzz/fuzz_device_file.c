/* Fuzzes device files (lua-api/device_file.h): the input is written into a
 * private devices folder twice, as a model file (fz/model.lua) and as the
 * vendor base (fz/common.lua) a fixed, valid model file extends, and
 * df_device_file_check runs on both models. When the input passes as a model
 * it is also matched (df_device_match over the folder) and loaded into a
 * state of our own. Checked: the checks never crash, leak or raise through
 * C; a refusal always comes with a message naming the file; a file accepted
 * loads as one table; a match names a model id or "generic". The files run in
 * device_file.c's own limited Lua state (memory, instructions), which is
 * what keeps each input short. */
#include "tests/fuzz/fuzz_util.h"

#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/error.h"
#include "core/log.h"
#include "lua-api/device_file.h"

static char devices[300];
static char model_path[400];
static char common_path[400];
static char child_path[400];

/* A real model file (redmi-k70e's fields) that extends the fuzzed base. */
static const char child_text[] =
  "return {\n"
  "  extends = \"fz/common\",\n"
  "  name = \"Redmi K70E\",\n"
  "  codenames = { \"duchamp\" },\n"
  "  match = {\n"
  "    [\"ro.product.device\"] = { \"duchamp\" },\n"
  "    usb = { { vid = 0x2717, pid = 0xff48, mode = \"adb\" } },\n"
  "  },\n"
  "  properties = { [\"ro.product.device\"] = \"duchamp\" },\n"
  "}\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  df_log_set_level(DF_LOG_ERROR);
  snprintf(devices, sizeof(devices), "%s/devices", df_fuzz_tmpdir());
  snprintf(model_path, sizeof(model_path), "%s/fz", devices);
  if (mkdir(devices, 0700) != 0 || mkdir(model_path, 0700) != 0) abort();
  snprintf(model_path, sizeof(model_path), "%s/fz/model.lua", devices);
  snprintf(common_path, sizeof(common_path), "%s/fz/common.lua", devices);
  snprintf(child_path, sizeof(child_path), "%s/fz/child.lua", devices);
  df_fuzz_write_file(child_path, child_text, sizeof(child_text) - 1);
  return 0;
}

static void
check(const char *id, bool *ok)
{
  char err[1024];
  int rc;

  err[0] = '\0';
  rc = df_device_file_check(devices, id, err, sizeof(err));
  *ok = rc == 0;
  if (rc != 0) {
    DF_FUZZ_CHECK(rc == DF_EINVAL || rc == DF_ENOMEM || rc == DF_ENOENT,
                  "%s: result %d (%s)", id, rc, err);
    DF_FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0',
                  "%s refused without a message", id);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  bool model_ok, child_ok;

  if (size > DF_DEVICE_FILE_MAX_BYTES + 16) return 0;
  df_fuzz_write_file(model_path, data, size);
  df_fuzz_write_file(common_path, data, size);
  check("fz/model", &model_ok);
  check("fz/child", &child_ok);

  if (model_ok) {
    struct df_device_query q = {"duchamp", "2311DRK48C", 0x2717, 0xff48};
    struct df_device_match m;
    char err[1024];
    lua_State *L = luaL_newstate();

    DF_FUZZ_CHECK(df_device_match(devices, &q, &m, err, sizeof(err)) == 0, "match failed");
    DF_FUZZ_CHECK(memchr(m.id, '\0', sizeof(m.id)) != NULL, "id not terminated");
    DF_FUZZ_CHECK(strcmp(m.id, DF_DEVICE_FALLBACK_ID) == 0 || strncmp(m.id, "fz/", 3) == 0,
                  "matched \"%s\"", m.id);
    DF_FUZZ_CHECK(L != NULL, "luaL_newstate");
    DF_FUZZ_CHECK(df_device_file_load(L, devices, "fz/model", err, sizeof(err)) == 0,
                  "checked but does not load: %s", err);
    DF_FUZZ_CHECK(lua_gettop(L) == 1 && lua_istable(L, 1), "load pushed no table");
    lua_close(L);
  }
  return 0;
}
