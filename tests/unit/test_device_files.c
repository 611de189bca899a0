/* Device files: every file under devices/ loads and validates (this is the
 * validator `make test` runs), extends merges maps and replaces lists, the
 * matcher finds models and falls back to generic, and every broken fixture
 * in tests/fixtures/devices-bad/ is refused with its file, line and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/error.h"
#include "lua-api/device_file.h"

static char g_devices[4096];
static char g_bad[4096];

static const char *
source_dir(void)
{
  const char *env = getenv("DF_SOURCE_DIR");
  return env && env[0] ? env : DF_SOURCE_DIR;
}

/* ---- the validator ---------------------------------------------------- */

struct df_tree_check {
  const char *dir;
  int files;
  int bad;
  char first_err[1024];
};

static int
check_one(void *ctx, const char *id)
{
  struct df_tree_check *c = ctx;
  char err[1024];
  c->files++;
  if (df_device_file_check(c->dir, id, err, sizeof(err)) != 0) {
    print_message("device file %s: %s\n", id, err);
    if (c->bad++ == 0)
      snprintf(c->first_err, sizeof(c->first_err), "%s", err);
  }
  return 0;
}

static void
check_tree(const char *dir, struct df_tree_check *c)
{
  memset(c, 0, sizeof(*c));
  c->dir = dir;
  assert_int_equal(df_device_file_list(dir, check_one, c), 0);
}

static void
test_every_device_file_validates(void **state)
{
  (void)state;
  struct df_tree_check c;
  check_tree(g_devices, &c);
  assert_true(c.files >= 9);
  assert_int_equal(c.bad, 0);
}

static int
collect_ids(void *ctx, const char *id)
{
  char *buf = ctx;
  strcat(buf, id);
  strcat(buf, "\n");
  return 0;
}

static void
test_list_gives_sorted_ids(void **state)
{
  (void)state;
  char ids[4096] = "";
  assert_int_equal(df_device_file_list(g_devices, collect_ids, ids), 0);
  static const char *const want[] = {"generic\n",
                                     "google/pixel\n",
                                     "samsung/common\n",
                                     "samsung/galaxy-s22\n",
                                     "samsung/galaxy-s9\n",
                                     "xiaomi/common\n",
                                     "xiaomi/redmi-k70\n",
                                     "xiaomi/redmi-k70-pro\n",
                                     "xiaomi/redmi-k70e\n",
                                     NULL};
  const char *prev = ids;
  for (int i = 0; want[i]; i++) {
    const char *at = strstr(ids, want[i]);
    assert_non_null(at);
    assert_true(at >= prev); /* in sorted order */
    prev = at;
  }
  char err[256];
  assert_int_equal(df_device_file_list("/nonexistent/devices", collect_ids, ids), DF_ENOENT);
  (void)err;
}

/* Copies devices/ to a temporary folder file by file. */
struct df_copy_ctx {
  const char *from;
  const char *to;
};

static void
copy_file(const char *from, const char *to)
{
  FILE *in = fopen(from, "rb");
  assert_non_null(in);
  FILE *out = fopen(to, "wb");
  assert_non_null(out);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
    assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  fclose(out);
}

static int
copy_one(void *ctx, const char *id)
{
  struct df_copy_ctx *c = ctx;
  char from[4096], to[4096];
  snprintf(from, sizeof(from), "%s/%s.lua", c->from, id);
  snprintf(to, sizeof(to), "%s/%s.lua", c->to, id);
  char *slash = strrchr(to, '/');
  *slash = '\0';
  mkdir(to, 0700); /* one vendor level is all devices/ has */
  *slash = '/';
  copy_file(from, to);
  return 0;
}

/* Replaces the first `what` in file path with `with`. */
static void
edit_file(const char *path, const char *what, const char *with)
{
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[256 * 1024];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *at = strstr(buf, what);
  assert_non_null(at);
  f = fopen(path, "wb");
  assert_non_null(f);
  fwrite(buf, 1, (size_t)(at - buf), f);
  fputs(with, f);
  fputs(at + strlen(what), f);
  fclose(f);
}

static void
remove_tree(const char *dir)
{
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

/* The validator must fail when one file of a copy of devices/ is broken:
 * proof that test_every_device_file_validates can fail. */
static void
test_validator_catches_a_broken_copy(void **state)
{
  (void)state;
  char tmp[] = "/tmp/df-devices-XXXXXX";
  assert_non_null(mkdtemp(tmp));
  struct df_copy_ctx c = {g_devices, tmp};
  assert_int_equal(df_device_file_list(g_devices, copy_one, &c), 0);

  struct df_tree_check before;
  check_tree(tmp, &before);
  assert_int_equal(before.bad, 0);

  char path[4200];
  snprintf(path, sizeof(path), "%s/samsung/galaxy-s22.lua", tmp);
  edit_file(path, "{ action = \"plug_usb\" }", "{ action = \"plug_in\" }");
  struct df_tree_check after;
  check_tree(tmp, &after);
  assert_int_equal(after.bad, 1);
  assert_non_null(strstr(after.first_err, "samsung/galaxy-s22.lua:"));
  assert_non_null(strstr(after.first_err, "modes.recovery.steps[1].action"));
  assert_non_null(strstr(after.first_err, "'plug_in' is not a valid step action"));

  /* A broken base breaks every model that extends it, and names the base. */
  snprintf(path, sizeof(path), "%s/xiaomi/common.lua", tmp);
  edit_file(path, "factory_test = \"com.miui.cit\"", "factory_test = 7");
  check_tree(tmp, &after);
  assert_int_equal(after.bad, 5); /* samsung s22, xiaomi common + 3 models */
  remove_tree(tmp);
}

/* ---- extends and the loaded table ------------------------------------- */

static lua_State *
new_state(void)
{
  lua_State *L = luaL_newstate();
  assert_non_null(L);
  return L;
}

/* Pushes the value at a dotted path of the table on top ("a.b.1.c"). */
static int
get_path(lua_State *L, const char *path)
{
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  lua_pushvalue(L, -1);
  for (char *save = NULL, *seg = strtok_r(buf, ".", &save); seg;
       seg = strtok_r(NULL, ".", &save)) {
    if (lua_type(L, -1) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_pushnil(L);
      return LUA_TNIL;
    }
    char *end;
    long i = strtol(seg, &end, 10);
    if (*end == '\0')
      lua_rawgeti(L, -1, i);
    else if (strcmp(seg, "ro_device") == 0)
      lua_getfield(L, -1, "ro.product.device");
    else if (strcmp(seg, "ro_manufacturer") == 0)
      lua_getfield(L, -1, "ro.product.manufacturer");
    else if (strcmp(seg, "safe_mode") == 0)
      lua_getfield(L, -1, "safe-mode");
    else
      lua_getfield(L, -1, seg);
    lua_remove(L, -2);
  }
  return lua_type(L, -1);
}

static void
assert_string_at(lua_State *L, const char *path, const char *want)
{
  assert_int_equal(get_path(L, path), LUA_TSTRING);
  assert_string_equal(lua_tostring(L, -1), want);
  lua_pop(L, 1);
}

static void
assert_absent(lua_State *L, const char *path)
{
  assert_int_equal(get_path(L, path), LUA_TNIL);
  lua_pop(L, 1);
}

static size_t
len_at(lua_State *L, const char *path)
{
  assert_int_equal(get_path(L, path), LUA_TTABLE);
  size_t n = (size_t)lua_rawlen(L, -1);
  lua_pop(L, 1);
  return n;
}

static void
test_extends_merges_maps_and_replaces_lists(void **state)
{
  (void)state;
  lua_State *L = new_state();
  char err[1024];
  int top = lua_gettop(L);
  assert_int_equal(df_device_file_load(L, g_devices, "xiaomi/redmi-k70", err, sizeof(err)), 0);
  assert_int_equal(lua_gettop(L), top + 1);

  assert_string_at(L, "id", "xiaomi/redmi-k70");
  assert_absent(L, "extends");
  assert_absent(L, "abstract");
  /* Inherited scalars and maps from xiaomi/common. */
  assert_string_at(L, "vendor", "xiaomi");
  assert_string_at(L, "packages.factory_test", "com.miui.cit");
  assert_string_at(L, "modes.fastboot.steps.1.keys.1", "volume_down");
  /* properties: the model's keys and the base's keys, merged. */
  assert_string_at(L, "properties.ro_device", "vermeer");
  assert_string_at(L, "properties.ro_manufacturer", "Xiaomi");
  /* flashing: rom_format from the base, ab and partitions from the model. */
  assert_string_at(L, "flashing.rom_format", "xiaomi-fastboot-tgz");
  assert_int_equal(get_path(L, "flashing.ab"), LUA_TBOOLEAN);
  assert_true(lua_toboolean(L, -1));
  lua_pop(L, 1);
  /* match.usb is a list: the model's 3 entries replace the base's 2. */
  assert_int_equal(len_at(L, "match.usb"), 3);
  assert_string_at(L, "match.usb.3.mode", "edl");
  assert_string_at(L, "name", "Redmi K70");
  lua_pop(L, 1);

  /* A vendor base loads too, and says it is one. */
  assert_int_equal(df_device_file_load(L, g_devices, "xiaomi/common", err, sizeof(err)), 0);
  assert_int_equal(get_path(L, "abstract"), LUA_TBOOLEAN);
  assert_true(lua_toboolean(L, -1));
  lua_pop(L, 2);

  /* A failed load pushes nothing. */
  top = lua_gettop(L);
  assert_int_equal(df_device_file_load(L, g_devices, "xiaomi/redmi-k99", err, sizeof(err)),
                   DF_ENOENT);
  assert_int_equal(lua_gettop(L), top);
  assert_non_null(strstr(err, "xiaomi/redmi-k99.lua: no such device file"));
  assert_int_equal(df_device_file_load(L, g_devices, "../etc/passwd", err, sizeof(err)),
                   DF_EINVAL);
  assert_int_equal(lua_gettop(L), top);
  lua_close(L);
}

/* Does any step of any mode use the key? */
static bool
uses_key(lua_State *L, const char *key)
{
  bool found = false;
  lua_getfield(L, -1, "modes");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_getfield(L, -1, "steps");
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
      lua_rawgeti(L, -1, i);
      if (lua_getfield(L, -1, "keys") == LUA_TTABLE)
        for (lua_Integer k = 1; k <= (lua_Integer)lua_rawlen(L, -1); k++) {
          lua_rawgeti(L, -1, k);
          found = found || strcmp(lua_tostring(L, -1), key) == 0;
          lua_pop(L, 1);
        }
      lua_pop(L, 2);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return found;
}

static void
test_samsung_models_differ_in_buttons(void **state)
{
  (void)state;
  lua_State *L = new_state();
  char err[1024];
  assert_int_equal(df_device_file_load(L, g_devices, "samsung/galaxy-s9", err, sizeof(err)), 0);
  assert_true(uses_key(L, "bixby"));
  assert_string_at(L, "modes.download.steps.1.keys.2", "bixby");
  assert_string_at(L, "modes.safe_mode.from", "off"); /* inherited from samsung/common */
  assert_absent(L, "modes.fastboot");
  assert_string_at(L, "packages.factory_keystring", "com.sec.android.app.factorykeystring");
  lua_pop(L, 1);

  assert_int_equal(df_device_file_load(L, g_devices, "samsung/galaxy-s22", err, sizeof(err)), 0);
  assert_false(uses_key(L, "bixby"));
  assert_string_at(L, "modes.download.steps.2.action", "plug_usb");
  assert_absent(L, "modes.fastboot");
  lua_pop(L, 1);
  lua_close(L);
}

/* ---- matching --------------------------------------------------------- */

static void
match(const struct df_device_query *q, struct df_device_match *m)
{
  char err[1024];
  assert_int_equal(df_device_match(g_devices, q, m, err, sizeof(err)), 0);
  assert_int_equal(m->broken, 0);
}

static void
test_match_by_properties(void **state)
{
  (void)state;
  struct df_device_match m;
  struct df_device_query q = {"vermeer", NULL, -1, -1};
  match(&q, &m);
  assert_string_equal(m.id, "xiaomi/redmi-k70");
  assert_false(m.fallback);
  assert_string_equal(m.vendor, "xiaomi");
  assert_non_null(strstr(m.reason, "vermeer"));

  struct df_device_query q2 = {NULL, "23117RK66C", -1, -1};
  match(&q2, &m);
  assert_string_equal(m.id, "xiaomi/redmi-k70-pro");
  assert_false(m.fallback);

  struct df_device_query q3 = {"duchamp", "2311DRK48G", 0x2717, 0xff48};
  match(&q3, &m);
  assert_string_equal(m.id, "xiaomi/redmi-k70e");

  struct df_device_query q4 = {"starlte", NULL, -1, -1};
  match(&q4, &m);
  assert_string_equal(m.id, "samsung/galaxy-s9");
}

static void
test_unknown_phone_falls_back_to_generic(void **state)
{
  (void)state;
  struct df_device_match m;
  struct df_device_query q = {"nosuchphone", "XYZ-1", -1, -1};
  match(&q, &m);
  assert_string_equal(m.id, DF_DEVICE_FALLBACK_ID);
  assert_string_equal(m.id, "generic");
  assert_true(m.fallback);
  assert_false(m.ambiguous);
  assert_non_null(strstr(m.reason, "nosuchphone"));
  assert_non_null(strstr(m.reason, "using generic"));

  /* generic itself is a valid, loadable model with no matching rules. */
  lua_State *L = new_state();
  char err[1024];
  assert_int_equal(df_device_file_load(L, g_devices, m.id, err, sizeof(err)), 0);
  assert_string_at(L, "vendor", "generic");
  assert_int_equal(get_path(L, "modes.fastboot.verified"), LUA_TBOOLEAN);
  assert_false(lua_toboolean(L, -1));
  lua_pop(L, 2);
  lua_close(L);
}

static void
test_match_by_usb(void **state)
{
  (void)state;
  struct df_device_match m;
  /* One model lists 18d1:4ee0. */
  struct df_device_query q = {NULL, NULL, 0x18d1, 0x4ee0};
  match(&q, &m);
  assert_string_equal(m.id, "google/pixel");
  assert_false(m.fallback);

  /* Xiaomi's adb id is shared by every Xiaomi model: vendor known, model not. */
  struct df_device_query q2 = {NULL, NULL, 0x2717, 0xff48};
  match(&q2, &m);
  assert_string_equal(m.id, "generic");
  assert_true(m.fallback);
  assert_true(m.ambiguous);
  assert_string_equal(m.vendor, "xiaomi");
  assert_non_null(strstr(m.reason, "xiaomi/redmi-k70"));

  /* Samsung download mode: both Galaxy models. */
  struct df_device_query q3 = {NULL, NULL, 0x04e8, 0x685d};
  match(&q3, &m);
  assert_true(m.ambiguous);
  assert_string_equal(m.vendor, "samsung");

  struct df_device_query q4 = {NULL, NULL, 0x1234, 0x5678};
  match(&q4, &m);
  assert_true(m.fallback);
  assert_false(m.ambiguous);
  assert_non_null(strstr(m.reason, "1234:5678"));
}

/* A broken file is skipped by the matcher, counted, and named. */
static void
test_match_skips_broken_files(void **state)
{
  (void)state;
  struct df_device_match m;
  char err[1024];
  struct df_device_query q = {"missing", NULL, -1, -1};
  assert_int_equal(df_device_match(g_bad, &q, &m, err, sizeof(err)), 0);
  assert_true(m.broken >= 10);
  assert_true(m.fallback);
  assert_non_null(strstr(err, "devices-bad/"));
}

/* ---- negative fixtures ------------------------------------------------ */

struct df_bad_case {
  const char *id;
  const char *where;   /* "file.lua:LINE:" */
  const char *field;   /* the field path as the message names it */
  const char *problem; /* a piece of the problem text */
};

static const struct df_bad_case bad_cases[] = {
  {"wrong-type", "wrong-type.lua:5:", " name: ", "expected a string, got the number 42"},
  {"unknown-key", "unknown-key.lua:6:", " colour: ", "unknown key"},
  {"bad-step-action", "bad-step-action.lua:11:", " modes.fastboot.steps[2].action: ",
   "'jump' is not a valid step action"},
  {"bad-key-name", "bad-key-name.lua:12:", " modes.fastboot.steps[2].keys[1]: ",
   "'volume_dn' is not a valid key name"},
  {"key-still-held", "key-still-held.lua:9:", " modes.recovery.steps: ", "still held"},
  {"function-value", "function-value.lua:7:", " packages.factory_test: ",
   "a function is not data"},
  {"call", "call.lua:5:", " name: ", "'os' is not defined"},
  {"loop", "loop.lua:6:", " name: ", "instructions (a loop?)"},
  {"memory-bomb", "memory-bomb.lua:7:", " name: ", "MiB of memory"},
  {"cycle-a", "cycle-b.lua:4:", " extends: ", "extends cycle: cycle-a -> cycle-b -> cycle-a"},
  {"extends-missing", "extends-missing.lua:3:", " extends: ",
   "no-such-base.lua does not exist"},
  {"syntax-error", "syntax-error.lua:4:", " abstract: ", "'}' expected"},
  {"bad-usb-id", "bad-usb-id.lua:9:", " match.usb[2].vid: ", "74565 is out of range"},
  {"not-one-table", "not-one-table.lua:2:", " (top level): ", "one 'return { ... }' table"},
  {"missing-properties", "missing-properties.lua:2:", " properties: ", "missing"},
  {"logical-without-super", "logical-without-super.lua:11:",
   " flashing.partitions[2].logical: ", "needs dynamic_partitions = true"},
};

static void
test_bad_fixtures_are_refused_with_file_line_and_field(void **state)
{
  (void)state;
  lua_State *L = new_state();
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
    const struct df_bad_case *c = &bad_cases[i];
    char err[1024] = "";
    int top = lua_gettop(L);
    int rc = df_device_file_load(L, g_bad, c->id, err, sizeof(err));
    print_message("%-22s -> %s\n", c->id, err);
    assert_int_equal(rc, DF_EINVAL);
    assert_int_equal(lua_gettop(L), top);
    /* The message starts with the file's path under the fixtures folder. */
    assert_non_null(strstr(err, "tests/fixtures/devices-bad/"));
    assert_non_null(strstr(err, c->where));
    assert_non_null(strstr(err, c->field));
    assert_non_null(strstr(err, c->problem));
    /* df_device_file_check agrees with df_device_file_load. */
    char err2[1024];
    assert_int_equal(df_device_file_check(g_bad, c->id, err2, sizeof(err2)), DF_EINVAL);
    assert_string_equal(err, err2);
  }
  /* droidfix is fine afterwards: the caller's state was never touched. */
  char err[1024];
  assert_int_equal(df_device_file_load(L, g_devices, "google/pixel", err, sizeof(err)), 0);
  lua_pop(L, 1);
  lua_close(L);
}

/* Every fixture in the folder is covered by a case above. */
static int
fixture_is_covered(void *ctx, const char *id)
{
  (void)ctx;
  if (strcmp(id, "cycle-b") == 0)
    return 0; /* the other half of cycle-a */
  for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
    if (strcmp(bad_cases[i].id, id) == 0)
      return 0;
  print_message("fixture %s has no test case\n", id);
  return 1;
}

static void
test_every_fixture_has_a_case(void **state)
{
  (void)state;
  assert_int_equal(df_device_file_list(g_bad, fixture_is_covered, NULL), 0);
}

static int
setup(void **state)
{
  (void)state;
  snprintf(g_devices, sizeof(g_devices), "%s/devices", source_dir());
  snprintf(g_bad, sizeof(g_bad), "%s/tests/fixtures/devices-bad", source_dir());
  return 0;
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_every_device_file_validates),
    cmocka_unit_test(test_list_gives_sorted_ids),
    cmocka_unit_test(test_validator_catches_a_broken_copy),
    cmocka_unit_test(test_extends_merges_maps_and_replaces_lists),
    cmocka_unit_test(test_samsung_models_differ_in_buttons),
    cmocka_unit_test(test_match_by_properties),
    cmocka_unit_test(test_unknown_phone_falls_back_to_generic),
    cmocka_unit_test(test_match_by_usb),
    cmocka_unit_test(test_match_skips_broken_files),
    cmocka_unit_test(test_bad_fixtures_are_refused_with_file_line_and_field),
    cmocka_unit_test(test_every_fixture_has_a_case),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
