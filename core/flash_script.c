/* Parser for Xiaomi fastboot ROM flash scripts: text in, steps out, nothing
 * run. Every line is either matched whole by a template for the shapes real
 * scripts use, or split into at most a few segments around `|`, `||` and
 * `&&` whose every word is checked against a strict character set; anything
 * else becomes an UNKNOWN step with the reason. Being strict is the point:
 * a line is only ever described as a fastboot step when it could not be
 * anything more. */
#include "core/flash_script.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"

#define DF_FS_MAX_TEXT (4u * 1024 * 1024)
#define DF_FS_MAX_LINE 4096
#define DF_FS_MAX_STEPS 100000
#define DF_FS_MAX_KEPT_TEXT 512
#define DF_FS_MAX_WORDS 16
#define DF_FS_MAX_SEGMENTS 8
#define DF_FS_MAX_DEPTH 8
#define DF_FS_MAX_NAME 64

/* ---- Templates -----------------------------------------------------------
 * A template is matched against a whole trimmed line. In a template:
 *   ' '  one or more blanks        Z (\x01)  zero or more blanks
 *   {M}  a quoted message: "..." or '...' holding no $ ` \ or control byte
 *   {W}  unquoted message words (letters, digits, blanks and . , : ! _ -)
 *   {N}  a decimal number (captured)
 *   {D}  the package folder as scripts name it: $(dirname $0), `dirname $0`,
 *        `pwd`, $(pwd) or "."
 * Everything else matches itself. */
#define Z "\x01"

struct df_fs_capture {
  long number;
  bool has_number;
};

static bool
df_fs_is_blank(char c)
{
  return c == ' ' || c == '\t';
}

static const char *
df_fs_match_message(const char *s)
{
  char quote = *s;

  if (quote != '"' && quote != '\'') return NULL;
  for (s++; *s != quote; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '\0' || c < 0x20 || c == 0x7f || c == '$' || c == '`' || c == '\\') return NULL;
  }
  return s + 1;
}

static bool
df_fs_is_message_char(char c)
{
  return isalnum((unsigned char)c) || df_fs_is_blank(c) || (c != '\0' && strchr(".,:!_-", c) != NULL);
}

static const char *const df_fs_folder_names[] = {
  "$(dirname $0)", "`dirname $0`", "`pwd`", "$(pwd)", ".",
};

static const char *
df_fs_match_folder(const char *s)
{
  for (size_t i = 0; i < sizeof(df_fs_folder_names) / sizeof(*df_fs_folder_names); i++) {
    size_t n = strlen(df_fs_folder_names[i]);
    if (strncmp(s, df_fs_folder_names[i], n) == 0) return s + n;
  }
  return NULL;
}

static bool
df_fs_template(const char *s, const char *t, struct df_fs_capture *cap)
{
  while (*t != '\0') {
    if (*t == ' ') {
      if (!df_fs_is_blank(*s)) return false;
      while (df_fs_is_blank(*s)) s++;
      t++;
    } else if (*t == '\x01') {
      while (df_fs_is_blank(*s)) s++;
      t++;
    } else if (strncmp(t, "{M}", 3) == 0) {
      s = df_fs_match_message(s);
      if (s == NULL) return false;
      t += 3;
    } else if (strncmp(t, "{W}", 3) == 0) {
      if (*s == '\0') return false;
      while (*s != '\0' && df_fs_is_message_char(*s)) s++;
      t += 3;
    } else if (strncmp(t, "{N}", 3) == 0) {
      long value = 0;
      int digits = 0;
      while (isdigit((unsigned char)*s) && digits < 9) value = value * 10 + (*s++ - '0'), digits++;
      if (digits == 0 || isdigit((unsigned char)*s)) return false;
      if (cap != NULL) cap->number = value, cap->has_number = true;
      t += 3;
    } else if (strncmp(t, "{D}", 3) == 0) {
      s = df_fs_match_folder(s);
      if (s == NULL) return false;
      t += 3;
    } else {
      if (*s != *t) return false;
      s++, t++;
    }
  }
  return *s == '\0';
}

/* sh: an error handler on one line, and the opening of a multi-line one. */
static const char *const df_fs_error_oneliners[] = {
  "if" Z "[ $? -ne 0" Z "]" Z "; then echo {M}" Z ";" Z "exit {N}" Z ";" Z "fi",
  "if" Z "[ $? -ne 0" Z "]" Z "; then echo {W}; exit {N}" Z ";" Z "fi",
};
static const char *const df_fs_error_openers[] = {
  "if" Z "[ $? -ne 0" Z "]" Z "; then",
  "if" Z "[ $? != 0" Z "]" Z "; then",
};
static const char *const df_fs_error_block_lines[] = {
  "echo {M}", "echo {W}", "@echo {M}", "exit {N}", "exit /B {N}", "exit /b {N}",
};
/* The block that runs when `getvar crc` said 1. */
static const char *const df_fs_cond_openers[] = {
  "if" Z "[ $? -eq 0" Z "]" Z "; then",
  "if %errorlevel% equ 0" Z "(",
  "if %ERRORLEVEL% EQU 0" Z "(",
};
/* The anti-rollback block, sh then bat, line by line. */
static const char *const df_fs_anti_file_openers[] = {
  "if" Z "[ -e {D}/images/anti_version.txt" Z "]" Z "; then",
};
static const char *const df_fs_anti_file_reads[] = {
  "CURRENT_ANTI_VER=`cat {D}/images/anti_version.txt`",
  "CURRENT_ANTI_VER=$(cat {D}/images/anti_version.txt)",
  ("if exist \"%~dp0images\\anti_version.txt\" (for /f \"usebackq\" %%a in"
   " (\"%~dp0images\\anti_version.txt\") do (set CURRENT_ANTI_VER=%%a))"),
};
static const char *const df_fs_anti_literals[] = {
  "CURRENT_ANTI_VER={N}",
  "set CURRENT_ANTI_VER={N}",
};
static const char *const df_fs_anti_plumbing[] = {
  "if" Z "[ -z \"$CURRENT_ANTI_VER\"" Z "]" Z "; then CURRENT_ANTI_VER=0" Z ";" Z "fi",
  "ver=`fastboot $* getvar anti 2>&1 | grep -oP \"anti: \\K[0-9]+\"`",
  "ver=$(fastboot $* getvar anti 2>&1 | grep -oP \"anti: \\K[0-9]+\")",
  "if" Z "[ -z \"$ver\"" Z "]" Z "; then ver=0" Z ";" Z "fi",
  "if [%CURRENT_ANTI_VER%] EQU [] set CURRENT_ANTI_VER=0",
  ("for /f \"tokens=2 delims=: \" %%i in ('fastboot %* getvar anti 2^>^&1 ^| findstr /r"
   " /c:\"anti:\"') do (set version=%%i)"),
  "if [%version%] EQU [] set version=0",
  "set anticheck=\"antirollback check pass\"",
  "if %version% GTR %CURRENT_ANTI_VER% set anticheck={M}",
};
static const char *const df_fs_anti_checks[] = {
  "if" Z "[ $ver -gt $CURRENT_ANTI_VER" Z "]" Z "; then echo {M}" Z ";" Z "exit {N}" Z ";" Z "fi",
  "if" Z "[ \"$ver\" -gt \"$CURRENT_ANTI_VER\"" Z "]" Z "; then echo {M}" Z ";" Z "exit {N}"
  Z ";" Z "fi",
  "echo %anticheck% | findstr /r /c:\"pass\" || @echo {M} && exit /B {N}",
  "echo %anticheck% | findstr /r /c:\"pass\" || @echo {M} && exit /b {N}",
};

static bool
df_fs_match_any(const char *line, const char *const *templates, size_t n,
                struct df_fs_capture *cap)
{
  for (size_t i = 0; i < n; i++)
    if (df_fs_template(line, templates[i], cap)) return true;
  return false;
}

#define DF_FS_MATCH(line, list, cap) \
  df_fs_match_any((line), (list), sizeof(list) / sizeof(*(list)), (cap))

/* ---- Splitting a command line into words and segments --------------------
 * Quotes (' " `) and $( ... ) hide operators; an operator outside them ends
 * a segment. "2>&1" and bat's "2^>^&1" are words (redirections the templates
 * expect), not an '&'. */

enum df_fs_op { DF_FS_OP_NONE, DF_FS_OP_PIPE, DF_FS_OP_OR, DF_FS_OP_AND, DF_FS_OP_OTHER };

struct df_fs_word {
  char value[DF_FS_MAX_LINE]; /* quotes removed */
  bool quoted;
};

struct df_fs_segment {
  enum df_fs_op op_before;
  size_t word_count;
  struct df_fs_word *words[DF_FS_MAX_WORDS];
};

struct df_fs_split {
  size_t segment_count;
  struct df_fs_segment segments[DF_FS_MAX_SEGMENTS];
  struct df_fs_word pool[DF_FS_MAX_WORDS * 2];
  size_t pool_used;
  const char *error;
};

static bool
df_fs_is_operator_char(char c)
{
  return c == '|' || c == '&' || c == ';';
}

static bool
df_fs_split_line(const char *s, struct df_fs_split *sp)
{
  struct df_fs_segment *seg;

  memset(sp, 0, sizeof(*sp));
  sp->segment_count = 1;
  seg = &sp->segments[0];
  while (*s != '\0') {
    struct df_fs_word *w;
    size_t n = 0;
    char quote = 0;
    int paren = 0;

    while (df_fs_is_blank(*s)) s++;
    if (*s == '\0') break;
    if (df_fs_is_operator_char(*s)) {
      enum df_fs_op op;
      if (strncmp(s, "||", 2) == 0) op = DF_FS_OP_OR, s += 2;
      else if (strncmp(s, "&&", 2) == 0) op = DF_FS_OP_AND, s += 2;
      else if (*s == '|') op = DF_FS_OP_PIPE, s++;
      else op = DF_FS_OP_OTHER, s++;
      if (op == DF_FS_OP_OTHER) {
        sp->error = *(s - 1) == ';' ? "a second command after ';'" : "a background command ('&')";
        return false;
      }
      if (sp->segment_count == DF_FS_MAX_SEGMENTS) {
        sp->error = "too many commands on one line";
        return false;
      }
      seg = &sp->segments[sp->segment_count++];
      seg->op_before = op;
      continue;
    }
    if (seg->word_count == DF_FS_MAX_WORDS ||
        sp->pool_used == sizeof(sp->pool) / sizeof(*sp->pool)) {
      sp->error = "too many words on one line";
      return false;
    }
    w = &sp->pool[sp->pool_used++];
    seg->words[seg->word_count++] = w;
    while (*s != '\0') {
      char c = *s;
      if (quote == 0 && paren == 0 && (df_fs_is_blank(c) || df_fs_is_operator_char(c))) {
        /* The redirections the templates know keep their '&'. */
        if (c == '&' && n >= 2 && (strncmp(w->value + n - 2, "2>", 2) == 0 ||
                                   (n >= 4 && strncmp(w->value + n - 4, "2^>^", 4) == 0))) {
          w->value[n++] = *s++;
          continue;
        }
        break;
      }
      if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c, w->quoted = true, s++;
        continue;
      }
      if (quote != 0 && c == quote) {
        quote = 0, s++;
        continue;
      }
      if (quote != '\'' && c == '$' && s[1] == '(') paren++;
      else if (quote != '\'' && c == ')' && paren > 0) paren--;
      else if (quote == 0 && c == '`') {
        /* A backtick section is one piece of the word, operators and all. */
        const char *end = strchr(s + 1, '`');
        size_t len = end != NULL ? (size_t)(end - s) + 1 : strlen(s);
        if (n + len >= sizeof(w->value)) break;
        memcpy(w->value + n, s, len);
        n += len, s += len;
        continue;
      }
      if (n + 1 >= sizeof(w->value)) break;
      w->value[n++] = *s++;
    }
    w->value[n] = '\0';
    if (quote != 0 || paren != 0) {
      sp->error = "an unbalanced quote or $(";
      return false;
    }
  }
  return true;
}

static bool
df_fs_word_is(const struct df_fs_segment *seg, size_t i, const char *text)
{
  return i < seg->word_count && strcmp(seg->words[i]->value, text) == 0;
}

/* ---- Checking words ------------------------------------------------------ */

static bool
df_fs_valid_name(const char *s, const char *extra)
{
  size_t n = 0;

  for (; *s != '\0'; s++, n++) {
    if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL) return false;
  }
  return n > 0 && n <= DF_FS_MAX_NAME;
}

static bool
df_fs_valid_partition(const char *s)
{
  return df_fs_valid_name(s, "_-") && s[0] != '-';
}

static bool
df_fs_valid_codename(const char *s)
{
  return df_fs_valid_name(s, "_-") && s[0] != '-';
}

/* The ways scripts name their own folder in front of an image path. */
static const char *const df_fs_path_prefixes[] = {
  "$(dirname $0)/", "`dirname $0`/", "`pwd`/", "$(pwd)/", "%~dp0\\", "%~dp0/", "%~dp0", "./",
};

/* Turns a script's image argument into a path inside the package
 * ("images/boot.img"), or NULL with *why set. */
static char *
df_fs_image_path(const char *value, const char **why)
{
  const char *rest = value;
  char *path, *p;
  size_t len;

  for (size_t i = 0; i < sizeof(df_fs_path_prefixes) / sizeof(*df_fs_path_prefixes); i++) {
    size_t n = strlen(df_fs_path_prefixes[i]);
    if (strncmp(value, df_fs_path_prefixes[i], n) == 0) {
      rest = value + n;
      break;
    }
  }
  len = strlen(rest);
  if (len == 0 || len > 255) {
    *why = "an image path droidfix cannot read";
    return NULL;
  }
  for (const char *c = rest; *c != '\0'; c++) {
    if (*c == '$' || *c == '`' || *c == '%' || *c == '^') {
      *why = "a substitution in the image path";
      return NULL;
    }
    if (!isalnum((unsigned char)*c) && strchr("._+-/\\", *c) == NULL) {
      *why = "an image path with characters droidfix does not accept";
      return NULL;
    }
  }
  path = strdup(rest);
  if (path == NULL) return NULL;
  for (p = path; *p != '\0'; p++)
    if (*p == '\\') *p = '/';
  /* Every component must be a plain name: no "", ".", ".." and no leading
   * '/' (an absolute path would leave the package). */
  p = path;
  for (;;) {
    char *slash = strchr(p, '/');
    size_t n = slash != NULL ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
      *why = "an image path outside the package";
      free(path);
      return NULL;
    }
    if (slash == NULL) break;
    p = slash + 1;
  }
  return path;
}

/* ---- The parse ------------------------------------------------------------ */

enum df_fs_block { DF_FS_BLOCK_ERROR, DF_FS_BLOCK_COND, DF_FS_BLOCK_ANTI_FILE };

struct df_fs_parser {
  struct df_flash_script *script;
  size_t capacity;
  enum df_fs_block stack[DF_FS_MAX_DEPTH];
  size_t depth;
  unsigned line;
  /* The step made by the previous meaningful line, for error handlers that
   * follow it; SIZE_MAX when that line made none. */
  size_t previous_step;
  bool previous_was_crc;
  struct df_fs_split *split; /* scratch for one line; large, so on the heap */
  int err;
};

static bool
df_fs_in_block(const struct df_fs_parser *ps, enum df_fs_block block)
{
  for (size_t i = 0; i < ps->depth; i++)
    if (ps->stack[i] == block) return true;
  return false;
}

static struct df_flash_step *
df_fs_add_step(struct df_fs_parser *ps, enum df_flash_step_type type)
{
  struct df_flash_script *s = ps->script;
  struct df_flash_step *step;

  if (ps->err != 0) return NULL;
  if (s->step_count == DF_FS_MAX_STEPS) {
    ps->err = DF_ETOOBIG;
    return NULL;
  }
  if (s->step_count == ps->capacity) {
    size_t capacity = ps->capacity ? ps->capacity * 2 : 32;
    struct df_flash_step *grown = realloc(s->steps, capacity * sizeof(*grown));
    if (grown == NULL) {
      ps->err = DF_ENOMEM;
      return NULL;
    }
    s->steps = grown;
    ps->capacity = capacity;
  }
  step = &s->steps[s->step_count++];
  memset(step, 0, sizeof(*step));
  step->type = type;
  step->line = ps->line;
  step->conditional = df_fs_in_block(ps, DF_FS_BLOCK_COND);
  return step;
}

static char *
df_fs_strdup(struct df_fs_parser *ps, const char *text)
{
  char *copy = strdup(text);

  if (copy == NULL) ps->err = DF_ENOMEM;
  return copy;
}

static void
df_fs_unknown(struct df_fs_parser *ps, const char *line, size_t len, const char *reason)
{
  struct df_flash_step *step = df_fs_add_step(ps, DF_FLASH_STEP_UNKNOWN);
  size_t keep = len < DF_FS_MAX_KEPT_TEXT ? len : DF_FS_MAX_KEPT_TEXT;

  ps->previous_step = SIZE_MAX;
  ps->previous_was_crc = false;
  if (step == NULL) return;
  step->reason = reason;
  step->text = malloc(keep + 1);
  if (step->text == NULL) {
    ps->err = DF_ENOMEM;
    return;
  }
  /* Kept as written but for NUL bytes, which would cut the string short. */
  for (size_t i = 0; i < keep; i++) step->text[i] = line[i] == '\0' ? '?' : line[i];
  step->text[keep] = '\0';
  ps->script->unknown_count++;
}

static bool
df_fs_add_codename(struct df_fs_parser *ps, char ***list, size_t *count, const char *name)
{
  char **grown;

  for (size_t i = 0; i < *count; i++)
    if (strcmp((*list)[i], name) == 0) return true;
  grown = realloc(*list, (*count + 1) * sizeof(*grown));
  if (grown == NULL) {
    ps->err = DF_ENOMEM;
    return false;
  }
  *list = grown;
  grown[*count] = df_fs_strdup(ps, name);
  if (grown[*count] == NULL) return false;
  (*count)++;
  return true;
}

/* "^product: *vermeer", "^product: *a$|^product: *b$" -> codenames; false if
 * any alternative has another shape. */
static bool
df_fs_parse_product_pattern(struct df_fs_parser *ps, const char *pattern, bool alternatives,
                            struct df_flash_step *step)
{
  const char *p = pattern;

  for (;;) {
    char name[DF_FS_MAX_NAME + 1];
    size_t n = 0;
    static const char head[] = "^product: *";

    if (strncmp(p, head, sizeof(head) - 1) != 0) return false;
    p += sizeof(head) - 1;
    while (*p != '\0' && *p != '$' && *p != '|') {
      if (n == DF_FS_MAX_NAME) return false;
      name[n++] = *p++;
    }
    name[n] = '\0';
    if (!df_fs_valid_codename(name)) return false;
    if (*p == '$') p++;
    if (!df_fs_add_codename(ps, &step->codenames, &step->codename_count, name)) return false;
    if (*p == '\0') return true;
    if (*p != '|' || !alternatives) return false;
    p++;
  }
}

/* The filter after `getvar X 2>&1 |`: grep [-E] "PATTERN" or findstr /r
 * /c:"PATTERN". Returns the pattern or NULL. */
static const char *
df_fs_filter_pattern(const struct df_fs_segment *seg, bool *alternatives)
{
  *alternatives = false;
  if (df_fs_word_is(seg, 0, "grep")) {
    size_t i = 1;
    if (df_fs_word_is(seg, 1, "-E")) *alternatives = true, i = 2;
    if (seg->word_count != i + 1) return NULL;
    return seg->words[i]->value;
  }
  if (df_fs_word_is(seg, 0, "findstr") && df_fs_word_is(seg, 1, "/r") && seg->word_count == 3 &&
      strncmp(seg->words[2]->value, "/c:", 3) == 0)
    return seg->words[2]->value + 3;
  return NULL;
}

static bool
df_fs_is_exit(const struct df_fs_segment *seg)
{
  size_t i = 1;

  if (!df_fs_word_is(seg, 0, "exit")) return false;
  if (df_fs_word_is(seg, 1, "/B") || df_fs_word_is(seg, 1, "/b")) i = 2;
  if (seg->word_count != i + 1) return false;
  for (const char *c = seg->words[i]->value; *c != '\0'; c++)
    if (!isdigit((unsigned char)*c)) return false;
  return seg->words[i]->value[0] != '\0';
}

static bool
df_fs_is_echo(const struct df_fs_segment *seg)
{
  if (!df_fs_word_is(seg, 0, "echo") && !df_fs_word_is(seg, 0, "@echo")) return false;
  for (size_t i = 1; i < seg->word_count; i++)
    for (const char *c = seg->words[i]->value; *c != '\0'; c++)
      if (!df_fs_is_message_char(*c)) return false;
  return true;
}

/* What may follow a command: `|| exit 1`, `|| echo msg`, `|| @echo "msg" &&
 * exit /B 1`. Returns false for anything else. */
static bool
df_fs_valid_trailer(const struct df_fs_split *sp, size_t first, bool *stops)
{
  *stops = false;
  for (size_t i = first; i < sp->segment_count; i++) {
    const struct df_fs_segment *seg = &sp->segments[i];
    if (i == first && seg->op_before != DF_FS_OP_OR) return false;
    if (i > first && seg->op_before != DF_FS_OP_AND) return false;
    if (df_fs_is_exit(seg)) {
      if (i + 1 != sp->segment_count) return false;
      *stops = true;
    } else if (!df_fs_is_echo(seg)) {
      return false;
    }
  }
  return true;
}

/* A line that starts with the word fastboot. */
static void
df_fs_parse_fastboot(struct df_fs_parser *ps, const char *line, size_t len)
{
  struct df_fs_split *sp = ps->split;
  const struct df_fs_segment *cmd;
  struct df_flash_step *step = NULL;
  size_t i = 1, trailer = 1;
  const char *why = NULL;
  bool stops = false;

  if (!df_fs_split_line(line, sp)) {
    df_fs_unknown(ps, line, len, sp->error);
    return;
  }
  cmd = &sp->segments[0];
  if (df_fs_word_is(cmd, 1, "$*") || df_fs_word_is(cmd, 1, "%*") ||
      df_fs_word_is(cmd, 1, "$@"))
    i = 2;
  if (i >= cmd->word_count) {
    df_fs_unknown(ps, line, len, "fastboot without a command");
    return;
  }

  if (df_fs_word_is(cmd, i, "getvar") && cmd->word_count == i + 3 &&
      df_fs_word_is(cmd, i + 2, "2>&1") && sp->segment_count >= 2 &&
      sp->segments[1].op_before == DF_FS_OP_PIPE) {
    bool alternatives;
    const char *pattern = df_fs_filter_pattern(&sp->segments[1], &alternatives);
    trailer = 2;
    if (pattern == NULL) {
      why = "a getvar filter droidfix does not know";
    } else if (df_fs_word_is(cmd, i + 1, "product")) {
      step = df_fs_add_step(ps, DF_FLASH_STEP_PRODUCT_CHECK);
      if (step != NULL && !df_fs_parse_product_pattern(ps, pattern, alternatives, step)) {
        /* Not a shape we know: drop the half-built step. */
        for (size_t k = 0; k < step->codename_count; k++) free(step->codenames[k]);
        free(step->codenames);
        ps->script->step_count--;
        step = NULL;
        if (ps->err == 0) why = "a product check droidfix cannot read";
      }
    } else if (df_fs_word_is(cmd, i + 1, "crc") && strcmp(pattern, "^crc: 1") == 0) {
      step = df_fs_add_step(ps, DF_FLASH_STEP_CRC_CHECK);
    } else {
      why = "a getvar droidfix does not know";
    }
  } else if (sp->segment_count >= 2 && sp->segments[1].op_before == DF_FS_OP_PIPE) {
    why = "a pipe droidfix does not know";
  } else if (df_fs_word_is(cmd, i, "erase") && cmd->word_count == i + 2) {
    if (!df_fs_valid_partition(cmd->words[i + 1]->value)) why = "a partition name droidfix does not accept";
    else step = df_fs_add_step(ps, DF_FLASH_STEP_ERASE);
  } else if (df_fs_word_is(cmd, i, "flash") && cmd->word_count == i + 3) {
    char *file = NULL;
    if (!df_fs_valid_partition(cmd->words[i + 1]->value)) {
      why = "a partition name droidfix does not accept";
    } else if ((file = df_fs_image_path(cmd->words[i + 2]->value, &why)) != NULL) {
      step = df_fs_add_step(ps, DF_FLASH_STEP_FLASH);
      if (step != NULL) step->file = file;
      else free(file);
    } else if (why == NULL) {
      ps->err = DF_ENOMEM;
    }
  } else if (df_fs_word_is(cmd, i, "set_active") && cmd->word_count == i + 2 &&
             (df_fs_word_is(cmd, i + 1, "a") || df_fs_word_is(cmd, i + 1, "b"))) {
    step = df_fs_add_step(ps, DF_FLASH_STEP_SET_ACTIVE);
    if (step != NULL) step->argument = df_fs_strdup(ps, cmd->words[i + 1]->value);
  } else if (df_fs_word_is(cmd, i, "reboot") &&
             (cmd->word_count == i + 1 ||
              (cmd->word_count == i + 2 && (df_fs_word_is(cmd, i + 1, "bootloader") ||
                                            df_fs_word_is(cmd, i + 1, "recovery") ||
                                            df_fs_word_is(cmd, i + 1, "fastboot"))))) {
    step = df_fs_add_step(ps, DF_FLASH_STEP_REBOOT);
    if (step != NULL)
      step->argument = df_fs_strdup(ps, cmd->word_count == i + 2 ? cmd->words[i + 1]->value : "");
  } else if (df_fs_word_is(cmd, i, "reboot-bootloader") && cmd->word_count == i + 1) {
    step = df_fs_add_step(ps, DF_FLASH_STEP_REBOOT);
    if (step != NULL) step->argument = df_fs_strdup(ps, "bootloader");
  } else if ((df_fs_word_is(cmd, i, "oem") || df_fs_word_is(cmd, i, "flashing")) &&
             df_fs_word_is(cmd, i + 1, "lock") && cmd->word_count == i + 2) {
    step = df_fs_add_step(ps, DF_FLASH_STEP_LOCK);
  } else {
    why = "a fastboot command droidfix does not run from scripts";
  }

  if (ps->err != 0) return;
  if (step != NULL && !df_fs_valid_trailer(sp, trailer, &stops)) {
    /* The command was fine but something else rides on the line: the whole
     * line is refused. */
    if (step->type == DF_FLASH_STEP_PRODUCT_CHECK) {
      for (size_t k = 0; k < step->codename_count; k++) free(step->codenames[k]);
      free(step->codenames);
    }
    free(step->file);
    free(step->argument);
    ps->script->step_count--;
    step = NULL;
    why = "more than one command on the line";
  }
  if (step == NULL) {
    df_fs_unknown(ps, line, len, why != NULL ? why : "not understood");
    return;
  }

  step->stops_on_error = stops;
  if (step->type == DF_FLASH_STEP_ERASE || step->type == DF_FLASH_STEP_FLASH) {
    const char *part = cmd->words[i + 1]->value;
    size_t n = strlen(part);
    step->partition = df_fs_strdup(ps, part);
    step->both_slots = n > 3 && strcmp(part + n - 3, "_ab") == 0;
    step->base_partition = step->both_slots ? strndup(part, n - 3) : strdup(part);
    if (step->base_partition == NULL) ps->err = DF_ENOMEM;
  }
  if (step->type == DF_FLASH_STEP_PRODUCT_CHECK) {
    struct df_flash_script *s = ps->script;
    /* The .bat scripts run the same check twice (once to print, once to
     * exit): one step. */
    if (s->step_count >= 2) {
      struct df_flash_step *before = &s->steps[s->step_count - 2];
      bool same = before->type == DF_FLASH_STEP_PRODUCT_CHECK &&
                  before->codename_count == step->codename_count;
      for (size_t k = 0; same && k < step->codename_count; k++)
        same = strcmp(before->codenames[k], step->codenames[k]) == 0;
      if (same) {
        before->stops_on_error |= step->stops_on_error;
        for (size_t k = 0; k < step->codename_count; k++) free(step->codenames[k]);
        free(step->codenames);
        s->step_count--;
        ps->previous_step = s->step_count - 1;
        ps->previous_was_crc = false;
        return;
      }
    }
    for (size_t k = 0; k < step->codename_count; k++)
      df_fs_add_codename(ps, &s->codenames, &s->codename_count, step->codenames[k]);
  }
  ps->previous_step = ps->script->step_count - 1;
  ps->previous_was_crc = step->type == DF_FLASH_STEP_CRC_CHECK;
}

static void
df_fs_push(struct df_fs_parser *ps, enum df_fs_block block, const char *line, size_t len)
{
  if (ps->depth == DF_FS_MAX_DEPTH) {
    df_fs_unknown(ps, line, len, "blocks nested too deep");
    return;
  }
  ps->stack[ps->depth++] = block;
}

static void
df_fs_mark_previous_stops(struct df_fs_parser *ps)
{
  if (ps->previous_step != SIZE_MAX) ps->script->steps[ps->previous_step].stops_on_error = true;
}

static bool
df_fs_is_comment(const char *line)
{
  if (line[0] == '#') return true;
  if (strncmp(line, "::", 2) == 0) return true;
  if ((strncasecmp(line, "rem", 3) == 0) && (line[3] == '\0' || df_fs_is_blank(line[3])))
    return true;
  return false;
}

/* One trimmed line, NUL-terminated, without line end. */
static void
df_fs_parse_line(struct df_fs_parser *ps, const char *line, size_t len)
{
  struct df_fs_capture cap = { 0 };
  bool in_error = ps->depth > 0 && ps->stack[ps->depth - 1] == DF_FS_BLOCK_ERROR;
  bool in_anti = ps->depth > 0 && ps->stack[ps->depth - 1] == DF_FS_BLOCK_ANTI_FILE;

  if (len == 0 || df_fs_is_comment(line)) return;
  if (strcasecmp(line, "@echo off") == 0) return;

  if (strcmp(line, "fi") == 0 || strcmp(line, ")") == 0) {
    bool sh = line[0] == 'f';
    enum df_fs_block top;
    if (ps->depth == 0) {
      df_fs_unknown(ps, line, len, "the end of a block that was never opened");
      return;
    }
    top = ps->stack[ps->depth - 1];
    /* bat closes only its conditional block with ')'. */
    if (!sh && top != DF_FS_BLOCK_COND) {
      df_fs_unknown(ps, line, len, "the end of a block that was never opened");
      return;
    }
    ps->depth--;
    if (top != DF_FS_BLOCK_ERROR) ps->previous_step = SIZE_MAX;
    return;
  }

  if (in_error) {
    if (!DF_FS_MATCH(line, df_fs_error_block_lines, NULL))
      df_fs_unknown(ps, line, len, "a command inside an error block");
    return;
  }
  if (in_anti) {
    if (DF_FS_MATCH(line, df_fs_anti_file_reads, NULL)) ps->script->anti_version_from_file = true;
    else df_fs_unknown(ps, line, len, "a command inside the anti-rollback block");
    return;
  }

  if (DF_FS_MATCH(line, df_fs_error_oneliners, NULL)) {
    df_fs_mark_previous_stops(ps);
    return;
  }
  if (DF_FS_MATCH(line, df_fs_error_openers, NULL)) {
    df_fs_mark_previous_stops(ps);
    df_fs_push(ps, DF_FS_BLOCK_ERROR, line, len);
    return;
  }
  if (DF_FS_MATCH(line, df_fs_cond_openers, NULL)) {
    if (!ps->previous_was_crc) {
      df_fs_unknown(ps, line, len, "a condition droidfix does not know");
      return;
    }
    ps->previous_was_crc = false;
    ps->previous_step = SIZE_MAX;
    df_fs_push(ps, DF_FS_BLOCK_COND, line, len);
    return;
  }
  if (DF_FS_MATCH(line, df_fs_anti_file_openers, NULL)) {
    ps->script->anti_version_from_file = true;
    ps->previous_step = SIZE_MAX;
    df_fs_push(ps, DF_FS_BLOCK_ANTI_FILE, line, len);
    return;
  }
  if (DF_FS_MATCH(line, df_fs_anti_file_reads, NULL)) {
    ps->script->anti_version_from_file = true;
    ps->previous_step = SIZE_MAX;
    return;
  }
  if (DF_FS_MATCH(line, df_fs_anti_literals, &cap)) {
    ps->script->anti_version_literal = cap.number;
    ps->previous_step = SIZE_MAX;
    return;
  }
  if (DF_FS_MATCH(line, df_fs_anti_plumbing, NULL)) {
    ps->previous_step = SIZE_MAX;
    return;
  }
  if (DF_FS_MATCH(line, df_fs_anti_checks, NULL)) {
    struct df_flash_step *step = df_fs_add_step(ps, DF_FLASH_STEP_ANTI_CHECK);
    if (step != NULL) {
      step->stops_on_error = true;
      ps->previous_step = ps->script->step_count - 1;
    }
    return;
  }
  if (strncmp(line, "fastboot", 8) == 0 && (line[8] == '\0' || df_fs_is_blank(line[8]))) {
    df_fs_parse_fastboot(ps, line, len);
    return;
  }
  df_fs_unknown(ps, line, len, "not a line droidfix understands");
}

static enum df_flash_script_dialect
df_fs_guess_dialect(const char *text, size_t len)
{
  static const char *const marks[] = { "%*", "exit /B", "exit /b", "%~dp0", "\n::" };

  if (len >= 2 && text[0] == ':' && text[1] == ':') return DF_FLASH_SCRIPT_BAT;
  for (size_t i = 0; i < sizeof(marks) / sizeof(*marks); i++)
    if (memmem(text, len, marks[i], strlen(marks[i])) != NULL) return DF_FLASH_SCRIPT_BAT;
  return DF_FLASH_SCRIPT_SH;
}

static void
df_fs_summarise(struct df_flash_script *s)
{
  for (size_t i = 0; i < s->step_count; i++) {
    const struct df_flash_step *step = &s->steps[i];
    if (step->type == DF_FLASH_STEP_FLASH) s->flash_count++;
    if (step->type == DF_FLASH_STEP_ERASE) s->erase_count++;
    if (step->type == DF_FLASH_STEP_LOCK) s->locks_bootloader = true;
    if ((step->type == DF_FLASH_STEP_FLASH || step->type == DF_FLASH_STEP_ERASE) &&
        strcmp(step->base_partition, "userdata") == 0)
      s->touches_userdata = true;
  }
}

int
df_flash_script_parse(const char *text, size_t len, struct df_flash_script **out)
{
  struct df_fs_parser ps;
  char *line;
  size_t pos = 0;

  if (text == NULL || out == NULL) return DF_EINVAL;
  *out = NULL;
  if (len > DF_FS_MAX_TEXT) return DF_ETOOBIG;
  memset(&ps, 0, sizeof(ps));
  line = malloc(DF_FS_MAX_LINE + 1);
  ps.split = malloc(sizeof(*ps.split));
  if (line == NULL || ps.split == NULL) {
    free(line);
    free(ps.split);
    return DF_ENOMEM;
  }
  ps.previous_step = SIZE_MAX;
  ps.script = calloc(1, sizeof(*ps.script));
  if (ps.script == NULL) {
    free(line);
    free(ps.split);
    return DF_ENOMEM;
  }
  ps.script->anti_version_literal = -1;
  ps.script->dialect = df_fs_guess_dialect(text, len);

  while (pos < len && ps.err == 0) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;
    size_t b = 0, e = n;

    pos += n + (nl != NULL ? 1 : 0);
    ps.line++;
    while (e > 0 && (start[e - 1] == '\r' || df_fs_is_blank(start[e - 1]))) e--;
    while (b < e && df_fs_is_blank(start[b])) b++;
    if (b == e) continue;
    if (ps.line == 1 && e - b >= 3 && memcmp(start + b, "\xEF\xBB\xBF", 3) == 0) b += 3;
    if (memchr(start + b, '\0', e - b) != NULL) {
      df_fs_unknown(&ps, start + b, e - b, "a NUL byte in the line");
      continue;
    }
    if (e - b > DF_FS_MAX_LINE) {
      df_fs_unknown(&ps, start + b, e - b, "a line too long");
      continue;
    }
    memcpy(line, start + b, e - b);
    line[e - b] = '\0';
    df_fs_parse_line(&ps, line, e - b);
  }
  if (ps.err == 0 && ps.depth > 0) {
    static const char never_closed[] = "(end of script)";
    df_fs_unknown(&ps, never_closed, sizeof(never_closed) - 1, "a block that is never closed");
  }
  free(line);
  free(ps.split);
  if (ps.err != 0) {
    df_flash_script_free(ps.script);
    return ps.err;
  }
  df_fs_summarise(ps.script);
  *out = ps.script;
  return DF_OK;
}

void
df_flash_script_free(struct df_flash_script *script)
{
  if (script == NULL) return;
  for (size_t i = 0; i < script->step_count; i++) {
    struct df_flash_step *step = &script->steps[i];
    free(step->partition);
    free(step->base_partition);
    free(step->file);
    free(step->argument);
    free(step->text);
    for (size_t k = 0; k < step->codename_count; k++) free(step->codenames[k]);
    free(step->codenames);
  }
  for (size_t i = 0; i < script->codename_count; i++) free(script->codenames[i]);
  free(script->codenames);
  free(script->steps);
  free(script);
}

const char *
df_flash_step_type_name(enum df_flash_step_type type)
{
  switch (type) {
  case DF_FLASH_STEP_PRODUCT_CHECK: return "product-check";
  case DF_FLASH_STEP_ANTI_CHECK: return "anti-check";
  case DF_FLASH_STEP_CRC_CHECK: return "crc-check";
  case DF_FLASH_STEP_ERASE: return "erase";
  case DF_FLASH_STEP_FLASH: return "flash";
  case DF_FLASH_STEP_SET_ACTIVE: return "set-active";
  case DF_FLASH_STEP_REBOOT: return "reboot";
  case DF_FLASH_STEP_LOCK: return "lock";
  case DF_FLASH_STEP_UNKNOWN: return "unknown";
  }
  return "unknown";
}
