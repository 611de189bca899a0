/* The schema of a device file (docs/device-files.md) as a tree of value
 * descriptors (device_file_schema.h), with the checks no kind of value
 * expresses: ids, vendor and partition names, property and package maps,
 * and button steps a person can follow. */
#include "lua-api/device_file_schema.h"

#include <stdio.h>
#include <string.h>

static const char *const USB_MODES[] = {"adb", "fastboot", "fastbootd", "recovery", "sideload",
                                        "download", "edl", "brom", "preloader", "mtp", NULL};
static const char *const MODE_FROM[] = {"off", "on", "any", NULL};
static const char *const STEP_ACTIONS[] = {"hold", "release", "press", "plug_usb", "unplug_usb",
                                           "wait", NULL};
static const char *const KEY_NAMES[] = {"power", "volume_up", "volume_down", "bixby", "home",
                                        NULL};
static const char *const ROM_FORMATS[] = {"xiaomi-fastboot-tgz", "samsung-odin",
                                          "google-factory-zip", NULL};

/* ---- names ---- */

bool
df_schema_chars_ok(const char *s, const char *extra, bool upper)
{
  for (; *s; s++) {
    char c = *s;
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper && c >= 'A' && c <= 'Z') ||
        (extra && strchr(extra, c)))
      continue;
    return false;
  }
  return true;
}

bool
df_device_id_valid(const char *id)
{
  size_t n = strlen(id);
  if (n == 0 || n >= DF_DEVICE_ID_MAX || !df_schema_chars_ok(id, "_-/", false))
    return false;
  const char *seg = id;
  for (;;) {
    if (*seg == '/' || *seg == '\0' || *seg == '-' || *seg == '_')
      return false;
    const char *slash = strchr(seg, '/');
    if (!slash)
      return true;
    seg = slash + 1;
  }
}

/* A Java package name: at least two dot-separated identifiers. */
static bool
valid_package(const char *s)
{
  int segments = 0;
  const char *c = s;
  for (;;) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
      return false;
    while ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
           *c == '_')
      c++;
    segments++;
    if (*c == '\0')
      return segments >= 2;
    if (*c != '.')
      return false;
    c++;
  }
}

static int
check_extends(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (!df_device_id_valid(lua_tostring(ld->P, idx)))
    return df_device_fail(ld, p, "'%s' is not a device id: write the path under devices/ "
                                 "without .lua, lowercase, e.g. \"xiaomi/common\"",
                          lua_tostring(ld->P, idx));
  return 0;
}

static int
check_vendor(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (!df_schema_chars_ok(lua_tostring(ld->P, idx), "-", false))
    return df_device_fail(ld, p, "'%s': a vendor is lowercase letters, digits and '-', like its "
                                 "folder under devices/", lua_tostring(ld->P, idx));
  return 0;
}

static int
check_property_name(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  const char *k = lua_tostring(ld->P, idx);
  if (strlen(k) > 255 || !strchr(k, '.') || !df_schema_chars_ok(k, "._-", true))
    return df_device_fail(ld, p, "'%s' is not a property name (like \"ro.product.device\")", k);
  return 0;
}

/* Property values are strings, empty ones too. */
static int
check_property_value(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (lua_type(ld->P, idx) != LUA_TSTRING)
    return df_device_fail_type(ld, p, idx, "a string (property values are strings, e.g. \"34\")");
  if (lua_rawlen(ld->P, idx) > 255)
    return df_device_fail(ld, p, "is longer than 255 characters");
  return 0;
}

static int
check_package_role(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  const char *k = lua_tostring(ld->P, idx);
  if (strlen(k) > 63 || !(k[0] >= 'a' && k[0] <= 'z') || !df_schema_chars_ok(k, "_", false))
    return df_device_fail(ld, p, "'%s' is not a package role: use lowercase letters, digits and "
                                 "'_', e.g. factory_test", k);
  return 0;
}

static int
check_package_name(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (lua_type(ld->P, idx) != LUA_TSTRING)
    return df_device_fail_type(ld, p, idx, "a package name such as \"com.miui.cit\"");
  if (!valid_package(lua_tostring(ld->P, idx)) || lua_rawlen(ld->P, idx) > 255)
    return df_device_fail(ld, p, "'%s' is not an Android package name (like \"com.miui.cit\")",
                          lua_tostring(ld->P, idx));
  return 0;
}

static int
check_partition_name(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  const char *s = lua_tostring(ld->P, idx);
  size_t n = strlen(s);
  if (!df_schema_chars_ok(s, "_", false))
    return df_device_fail(ld, p, "'%s': partition names are lowercase letters, digits and '_'", s);
  if (n > 2 && (strcmp(s + n - 2, "_a") == 0 || strcmp(s + n - 2, "_b") == 0))
    return df_device_fail(ld, p, "'%s' ends in a slot suffix; write the name without it and set "
                                 "slot = true", s);
  return 0;
}

static int
check_block_multiple(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (lua_tointeger(ld->P, idx) % 4096 != 0)
    return df_device_fail(ld, p, "%lld is not a multiple of 4096 (the block size)",
                          (long long)lua_tointeger(ld->P, idx));
  return 0;
}

/* Partitions are told apart by name. */
static int
check_partitions_unique(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  size_t n = (size_t)lua_rawlen(P, idx);
  for (size_t i = 2; i <= n; i++) {
    lua_rawgeti(P, idx, (lua_Integer)i);
    lua_getfield(P, -1, "name");
    for (size_t j = 1; j < i; j++) {
      lua_rawgeti(P, idx, (lua_Integer)j);
      lua_getfield(P, -1, "name");
      bool same = lua_rawequal(P, -1, -3);
      lua_pop(P, 2);
      if (same) {
        df_field_path_push_index(p, (long long)i);
        df_field_path_push_key(p, "name");
        df_device_fail(ld, p, "partition '%s' is listed twice (also item %zu)",
                       lua_tostring(P, -1), j);
        df_field_path_pop(p);
        df_field_path_pop(p);
        lua_pop(P, 2);
        return -1;
      }
    }
    lua_pop(P, 2);
  }
  return 0;
}

/* ---- button steps ---- */

static int
check_seconds(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  if (lua_type(ld->P, idx) != LUA_TNUMBER)
    return df_device_fail_type(ld, p, idx, "a number of seconds");
  double s = (double)lua_tonumber(ld->P, idx);
  if (!(s > 0 && s <= 120))
    return df_device_fail(ld, p, "%g is out of range: expected seconds from 0 to 120", s);
  return 0;
}

/* No key twice in one step. */
static int
check_keys_unique(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  int rc = 0;
  size_t n = (size_t)lua_rawlen(P, idx);
  for (size_t i = 1; rc == 0 && i <= n; i++)
    for (size_t j = 1; rc == 0 && j < i; j++) {
      lua_rawgeti(P, idx, (lua_Integer)i);
      lua_rawgeti(P, idx, (lua_Integer)j);
      if (lua_rawequal(P, -1, -2)) {
        df_field_path_push_index(p, (long long)i);
        rc = df_device_fail(ld, p, "'%s' is listed twice", lua_tostring(P, -1));
        df_field_path_pop(p);
      }
      lua_pop(P, 2);
    }
  return rc;
}

/* The step's action, already checked (its field comes first). */
static const char *
step_action(lua_State *P, int step)
{
  lua_getfield(P, step, "action");
  const char *action = lua_tostring(P, -1); /* the step table keeps it alive */
  lua_pop(P, 1);
  return action;
}

static bool
action_takes_keys(const char *action)
{
  return strcmp(action, "hold") == 0 || strcmp(action, "release") == 0 ||
         strcmp(action, "press") == 0;
}

/* hold, release and press name keys; the other actions take none. */
static int
step_keys_presence(struct df_device_load *ld, struct df_field_path *p, int step, bool present)
{
  const char *action = step_action(ld->P, step);
  if (action_takes_keys(action) && !present)
    return df_device_fail(ld, p, "a %s step needs keys = { ... }", action);
  if (!action_takes_keys(action) && present) {
    df_field_path_push_key(p, "keys");
    df_device_fail(ld, p, "a %s step takes no keys", action);
    df_field_path_pop(p);
    return -1;
  }
  return 0;
}

static int
check_wait_step(struct df_device_load *ld, struct df_field_path *p, int step)
{
  lua_State *P = ld->P;
  if (strcmp(step_action(P, step), "wait") != 0)
    return 0;
  bool has_until = lua_getfield(P, step, "until") != LUA_TNIL;
  bool has_seconds = lua_getfield(P, step, "seconds") != LUA_TNIL;
  lua_pop(P, 2);
  if (!has_until && !has_seconds)
    return df_device_fail(ld, p, "a wait step needs until = \"...\" or seconds = N");
  return 0;
}

/* Walks the steps as a person would: a key is held until released, a
 * pressed key must not be held, and nothing stays held at the end. */
static int
check_step_sequence(struct df_device_load *ld, struct df_field_path *p, int idx)
{
  lua_State *P = ld->P;
  unsigned held = 0;
  size_t n = (size_t)lua_rawlen(P, idx);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(P, idx, (lua_Integer)i);
    lua_getfield(P, -1, "action");
    const char *action = lua_tostring(P, -1);
    lua_getfield(P, -2, "keys");
    size_t nk = lua_type(P, -1) == LUA_TTABLE ? (size_t)lua_rawlen(P, -1) : 0;
    for (size_t k = 1; k <= nk; k++) {
      lua_rawgeti(P, -1, (lua_Integer)k);
      int key = df_schema_name_index(KEY_NAMES, lua_tostring(P, -1));
      const char *kname = lua_tostring(P, -1);
      unsigned bit = 1u << key;
      const char *problem = NULL;
      if (strcmp(action, "hold") == 0) {
        if (held & bit)
          problem = "is already held by an earlier step";
        held |= bit;
      } else if (strcmp(action, "release") == 0) {
        if (!(held & bit))
          problem = "is not held: no earlier step holds it";
        held &= ~bit;
      } else if (strcmp(action, "press") == 0) {
        if (held & bit)
          problem = "is held; release it before pressing it";
      }
      if (problem) {
        df_field_path_push_index(p, (long long)i);
        df_field_path_push_key(p, "keys");
        df_field_path_push_index(p, (long long)k);
        df_device_fail(ld, p, "'%s' %s", kname, problem);
        df_field_path_pop(p);
        df_field_path_pop(p);
        df_field_path_pop(p);
        lua_pop(P, 4);
        return -1;
      }
      lua_pop(P, 1);
    }
    lua_pop(P, 3);
  }
  if (held) {
    char names[128] = "";
    size_t k = 0;
    for (int b = 0; KEY_NAMES[b]; b++)
      if (held & (1u << b)) {
        int w = snprintf(names + k, sizeof(names) - k, "%s%s", k ? ", " : "", KEY_NAMES[b]);
        if (w > 0 && (size_t)w < sizeof(names) - k)
          k += (size_t)w;
      }
    return df_device_fail(ld, p, "the steps end with %s still held; add a step "
                                 "{ action = \"release\", keys = { ... } }", names);
  }
  return 0;
}

/* ---- the schema ---- */

#define TYPE static const struct df_value_type

TYPE t_name = {.kind = DF_VALUE_STRING, .what = "a string", .max = 127};
TYPE t_text = {.kind = DF_VALUE_STRING, .what = "a string", .max = 1024};
TYPE t_bool = {.kind = DF_VALUE_BOOL, .what = "true or false"};
TYPE t_names = {.kind = DF_VALUE_LIST, .what = "this field", .max = 64, .item = &t_name};
TYPE t_extends = {.kind = DF_VALUE_STRING, .what = "a device id such as \"xiaomi/common\"",
                  .max = DF_DEVICE_ID_MAX - 1, .check = check_extends};
TYPE t_vendor = {.kind = DF_VALUE_STRING, .what = "a vendor name such as \"xiaomi\"", .max = 63,
                 .check = check_vendor};

#define SOC_NEEDS "soc has name, model and platform"
static const struct df_field soc_fields[] = {
  {.key = "name", .type = &t_name, .model_needs = SOC_NEEDS},
  {.key = "model", .type = &t_name, .model_needs = SOC_NEEDS},
  {.key = "platform", .type = &t_name, .model_needs = SOC_NEEDS},
  {0},
};
const struct df_value_type df_schema_soc = {
  .kind = DF_VALUE_RECORD, .what = "{ name = ..., model = ..., platform = ... }", .name = "soc",
  .fields = soc_fields};

/* ---- match ---- */

TYPE t_usb_id = {.kind = DF_VALUE_INTEGER, .what = "a 16-bit USB id such as 0x2717", .min = 0,
                 .max = 0xffff};
TYPE t_usb_mode = {.kind = DF_VALUE_ENUM, .what = "USB mode", .names = USB_MODES};
static const struct df_field usb_fields[] = {
  {.key = "vid", .type = &t_usb_id, .missing = "a USB entry needs vid"},
  {.key = "pid", .type = &t_usb_id, .missing = "a USB entry needs pid"},
  {.key = "mode", .type = &t_usb_mode, .missing = "a USB entry needs mode"},
  {0},
};
TYPE t_usb = {.kind = DF_VALUE_RECORD, .what = "{ vid = 0x..., pid = 0x..., mode = \"adb\" }",
              .name = "a USB entry", .fields = usb_fields, .missing_first = true};
TYPE t_usb_list = {.kind = DF_VALUE_LIST, .what = "usb", .max = 32, .item = &t_usb};
TYPE t_match_values = {.kind = DF_VALUE_LIST, .what = "this match rule", .min = 1, .max = 64,
                       .item = &t_name};
static const struct df_field match_fields[] = {
  {.key = "ro.product.device", .type = &t_match_values},
  {.key = "ro.product.model", .type = &t_match_values},
  {.key = "usb", .type = &t_usb_list},
  {0},
};
TYPE t_match = {.kind = DF_VALUE_RECORD, .what = "of match rules", .name = "match",
                .fields = match_fields};

/* ---- properties and packages ---- */

TYPE t_property_value = {.kind = DF_VALUE_CUSTOM, .check = check_property_value};
TYPE t_properties = {.kind = DF_VALUE_MAP, .what = "of system properties", .name = "properties",
                     .key = check_property_name, .item = &t_property_value};
TYPE t_package = {.kind = DF_VALUE_CUSTOM, .check = check_package_name};
TYPE t_packages = {.kind = DF_VALUE_MAP, .what = "{ role = \"package.name\" }", .name = "packages",
                   .key = check_package_role, .item = &t_package};

/* ---- modes: button paths ---- */

TYPE t_key = {.kind = DF_VALUE_ENUM, .what = "key name", .names = KEY_NAMES};
TYPE t_keys = {.kind = DF_VALUE_LIST, .what = "keys", .min = 1, .max = 5, .item = &t_key,
               .check = check_keys_unique};
TYPE t_action = {.kind = DF_VALUE_ENUM, .what = "step action", .names = STEP_ACTIONS};
TYPE t_until = {.kind = DF_VALUE_STRING, .what = "a string saying what the user waits for",
                .max = 256};
TYPE t_seconds = {.kind = DF_VALUE_CUSTOM, .check = check_seconds};
static const struct df_field step_fields[] = {
  {.key = "action", .type = &t_action,
   .missing = "a step needs an action (one of: hold, release, press, plug_usb, unplug_usb, "
              "wait)"},
  {.key = "keys", .type = &t_keys, .presence = step_keys_presence},
  {.key = "until", .type = &t_until},
  {.key = "seconds", .type = &t_seconds},
  {0},
};
TYPE t_step = {.kind = DF_VALUE_RECORD, .what = "{ action = \"hold\", keys = { ... } }",
               .name = "a step", .fields = step_fields, .check = check_wait_step};
TYPE t_steps = {.kind = DF_VALUE_LIST, .what = "steps", .min = 1, .max = 16, .item = &t_step,
                .check = check_step_sequence};
TYPE t_from = {.kind = DF_VALUE_ENUM, .what = "starting state", .names = MODE_FROM};
static const struct df_field mode_fields[] = {
  {.key = "from", .type = &t_from, .model_needs = "a mode says where it starts: from = \"off\""},
  {.key = "steps", .type = &t_steps, .model_needs = "a mode needs steps = { ... }"},
  {.key = "notes", .type = &t_text},
  {.key = "verified", .type = &t_bool,
   .model_needs = "say verified = true (a source documents it) or false"},
  {0},
};
TYPE t_mode = {.kind = DF_VALUE_RECORD, .what = "{ from = ..., steps = { ... }, verified = ... }",
               .name = "a mode", .fields = mode_fields};
static const struct df_field modes_fields[] = {
  {.key = "fastboot", .type = &t_mode},  {.key = "recovery", .type = &t_mode},
  {.key = "download", .type = &t_mode},  {.key = "safe-mode", .type = &t_mode},
  {.key = "edl", .type = &t_mode},       {0},
};
const struct df_value_type df_schema_modes = {.kind = DF_VALUE_RECORD,
                                              .what = "of button paths by mode", .name = "modes",
                                              .fields = modes_fields};

/* ---- flashing ---- */

TYPE t_partition_name = {.kind = DF_VALUE_STRING, .what = "a partition name such as \"boot\"",
                         .max = 63, .check = check_partition_name};
TYPE t_partition_size = {.kind = DF_VALUE_INTEGER, .what = "a size in bytes", .min = 4096,
                         .max = 1LL << 40, .check = check_block_multiple};
static const struct df_field partition_fields[] = {
  {.key = "name", .type = &t_partition_name, .missing = "a partition needs name"},
  {.key = "size", .type = &t_partition_size, .missing = "a partition needs size"},
  {.key = "slot", .type = &t_bool},
  {.key = "logical", .type = &t_bool},
  {0},
};
TYPE t_partition = {.kind = DF_VALUE_RECORD, .what = "{ name = \"boot\", size = N, slot = true }",
                    .name = "a partition", .fields = partition_fields, .missing_first = true};
TYPE t_partitions = {.kind = DF_VALUE_LIST, .what = "partitions", .max = 128,
                     .item = &t_partition, .check = check_partitions_unique};
TYPE t_anti_rollback = {.kind = DF_VALUE_INTEGER, .what = "an anti-rollback index", .min = 0,
                        .max = 65535};
TYPE t_download_size = {.kind = DF_VALUE_INTEGER, .what = "a size in bytes", .min = 4096,
                        .max = 1LL << 40};
TYPE t_rom_format = {.kind = DF_VALUE_ENUM, .what = "ROM format", .names = ROM_FORMATS};
#define FLASHING_NEEDS "every model says how it is flashed"
static const struct df_field flashing_fields[] = {
  {.key = "ab", .type = &t_bool, .model_needs = FLASHING_NEEDS},
  {.key = "dynamic_partitions", .type = &t_bool, .model_needs = FLASHING_NEEDS},
  {.key = "super_partition", .type = &t_partition_name},
  {.key = "anti_rollback", .type = &t_anti_rollback},
  {.key = "max_download_size", .type = &t_download_size},
  {.key = "fastbootd_max_download_size", .type = &t_download_size},
  {.key = "partitions", .type = &t_partitions, .model_needs = FLASHING_NEEDS},
  {.key = "rom_format", .type = &t_rom_format},
  {0},
};
const struct df_value_type df_schema_flashing = {.kind = DF_VALUE_RECORD,
                                                 .what = "of flashing facts", .name = "flashing",
                                                 .fields = flashing_fields};

/* ---- notes, and the file ---- */

#define NOTE_NEEDS(key) \
  "a note needs " key " (source: where the fact comes from, or \"unverified\")"
static const struct df_field note_fields[] = {
  {.key = "text", .type = &t_text, .missing = NOTE_NEEDS("text")},
  {.key = "source", .type = &t_text, .missing = NOTE_NEEDS("source")},
  {0},
};
TYPE t_note = {.kind = DF_VALUE_RECORD, .what = "{ text = \"...\", source = \"...\" }",
               .name = "a note", .fields = note_fields};
TYPE t_notes = {.kind = DF_VALUE_LIST, .what = "notes", .max = 64, .item = &t_note};

#define MODEL_NEEDS "every model has it (write it, or inherit it with extends)"
static const struct df_field file_fields[] = {
  {.key = "extends", .type = &t_extends},
  {.key = "abstract", .type = &t_bool},
  {.key = "vendor", .type = &t_vendor, .model_needs = MODEL_NEEDS},
  {.key = "name", .type = &t_name, .model_needs = MODEL_NEEDS},
  {.key = "marketing_names", .type = &t_names, .model_needs = MODEL_NEEDS},
  {.key = "codenames", .type = &t_names, .model_needs = MODEL_NEEDS},
  {.key = "model_numbers", .type = &t_names, .model_needs = MODEL_NEEDS},
  {.key = "soc", .type = &df_schema_soc, .model_needs = MODEL_NEEDS},
  {.key = "match", .type = &t_match, .model_needs = MODEL_NEEDS},
  {.key = "properties", .type = &t_properties, .model_needs = MODEL_NEEDS},
  {.key = "modes", .type = &df_schema_modes, .model_needs = MODEL_NEEDS},
  {.key = "packages", .type = &t_packages, .model_needs = MODEL_NEEDS},
  {.key = "flashing", .type = &df_schema_flashing, .model_needs = MODEL_NEEDS},
  {.key = "notes", .type = &t_notes, .model_needs = MODEL_NEEDS},
  {0},
};
/* Its shape is never shown: a file that returns no table is refused
 * before the schema. */
const struct df_value_type df_schema_file = {.kind = DF_VALUE_RECORD, .what = "{ ... }",
                                             .name = "a device file", .fields = file_fields};
