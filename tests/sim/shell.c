/* The phone's /system/bin/sh, as far as repairs need it: words with '...',
 * "..." and backslash quoting; ';', '&&', '||' and '|'; redirections '>',
 * '>>', '2>', '2>&1', '>&2'; `exit N`; `su -c` on a rooted phone; and the command
 * table. Messages follow mksh and toybox as Android ships them, e.g.
 * "/system/bin/sh: X: inaccessible or not found" with exit code 127 for an
 * unknown command (mksh's exec.c on Android). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

/* ---- tokens ---- */

enum tok_kind { T_WORD, T_SEMI, T_AND, T_OR, T_PIPE, T_GT, T_GTGT, T_ERR_GT, T_ERR_TO_OUT, T_OUT_TO_ERR, T_END };

struct tok {
  enum tok_kind kind;
  char *word;
};

struct toks {
  struct tok *v;
  size_t n, cap;
};

static void
toks_push(struct toks *t, enum tok_kind k, char *w)
{
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 16;
    t->v = df_sim_xrealloc(t->v, t->cap * sizeof(*t->v));
  }
  t->v[t->n].kind = k;
  t->v[t->n].word = w;
  t->n++;
}

static void
toks_free(struct toks *t)
{
  for (size_t i = 0; i < t->n; i++) {
    free(t->v[i].word);
  }
  free(t->v);
}

/* Returns NULL or a syntax error message. "$?" becomes byte 1, replaced
 * by the last exit code when the command runs. */
static const char *
tokenize(const char *s, struct toks *t)
{
  struct df_sim_buf w = {0};
  bool in_word = false;
  for (;;) {
    char c = *s;
    if (c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' ||
        c == '>' || (c == '2' && !in_word && s[1] == '>') ||
        (c == '1' && !in_word && strncmp(s, "1>&2", 4) == 0)) {
      if (in_word) {
        toks_push(t, T_WORD, df_sim_strndup(w.data ? w.data : "", w.len));
        w.len = 0;
        in_word = false;
      }
      if (c == '\0') {
        break;
      }
      if (c == ' ' || c == '\t') {
        s++;
      } else if (c == '\n' || c == ';') {
        toks_push(t, T_SEMI, NULL);
        s++;
      } else if (c == '&' && s[1] == '&') {
        toks_push(t, T_AND, NULL);
        s += 2;
      } else if (c == '&') {
        /* Background jobs: run in the foreground; the result is the same. */
        toks_push(t, T_SEMI, NULL);
        s++;
      } else if (c == '|' && s[1] == '|') {
        toks_push(t, T_OR, NULL);
        s += 2;
      } else if (c == '|') {
        toks_push(t, T_PIPE, NULL);
        s++;
      } else if (strncmp(s, ">&2", 3) == 0 || strncmp(s, "1>&2", 4) == 0) {
        toks_push(t, T_OUT_TO_ERR, NULL);
        s += c == '1' ? 4 : 3;
      } else if (c == '>' && s[1] == '>') {
        toks_push(t, T_GTGT, NULL);
        s += 2;
      } else if (c == '>') {
        toks_push(t, T_GT, NULL);
        s++;
      } else if (c == '2' && strncmp(s, "2>&1", 4) == 0) {
        toks_push(t, T_ERR_TO_OUT, NULL);
        s += 4;
      } else { /* "2>" */
        toks_push(t, T_ERR_GT, NULL);
        s += 2;
      }
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const char *end = strchr(s + 1, '\'');
      if (end == NULL) {
        df_sim_buf_free(&w);
        return "unterminated quoted string";
      }
      df_sim_buf_append(&w, s + 1, (size_t)(end - s - 1));
      s = end + 1;
    } else if (c == '"') {
      s++;
      while (*s && *s != '"') {
        if (*s == '\\' && (s[1] == '"' || s[1] == '\\' || s[1] == '$' || s[1] == '`')) {
          df_sim_buf_append(&w, s + 1, 1);
          s += 2;
        } else if (*s == '$' && s[1] == '?') {
          df_sim_buf_append(&w, "\x01", 1); /* "$?": filled in when the command runs */
          s += 2;
        } else {
          df_sim_buf_append(&w, s, 1);
          s++;
        }
      }
      if (*s != '"') {
        df_sim_buf_free(&w);
        return "unterminated quoted string";
      }
      s++;
    } else if (c == '\\' && s[1]) {
      df_sim_buf_append(&w, s + 1, 1);
      s += 2;
    } else if (c == '$' && s[1] == '?') {
      df_sim_buf_append(&w, "\x01", 1);
      s += 2;
    } else {
      df_sim_buf_append(&w, s, 1);
      s++;
    }
  }
  df_sim_buf_free(&w);
  toks_push(t, T_END, NULL);
  return NULL;
}

/* ---- commands that live here ---- */

static int
cmd_true(struct df_sim_sh *sh, int argc, char **argv)
{
  return 0;
}

static int
cmd_false(struct df_sim_sh *sh, int argc, char **argv)
{
  return 1;
}

static int
cmd_echo(struct df_sim_sh *sh, int argc, char **argv)
{
  int i = 1;
  bool newline = true;
  if (i < argc && strcmp(argv[i], "-n") == 0) {
    newline = false;
    i++;
  }
  for (; i < argc; i++) {
    df_sim_buf_printf(&sh->o->out, "%s%s", argv[i], i + 1 < argc ? " " : "");
  }
  if (newline) {
    df_sim_buf_append(&sh->o->out, "\n", 1);
  }
  return 0;
}

static int
cmd_id(struct df_sim_sh *sh, int argc, char **argv)
{
  /* toybox id; groups as adbd gives the shell user. */
  static const char *groups =
    "1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),"
    "1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),"
    "3009(readproc),3011(uhid),3012(readtracefs)";
  if (argc > 1 && strcmp(argv[1], "-u") == 0) {
    df_sim_buf_printf(&sh->o->out, "%d\n", sh->root ? 0 : 2000);
    return 0;
  }
  if (sh->root) {
    df_sim_buf_printf(&sh->o->out, "uid=0(root) gid=0(root) groups=0(root),%s context=u:r:su:s0\n",
                      groups);
  } else {
    df_sim_buf_printf(&sh->o->out,
                      "uid=2000(shell) gid=2000(shell) groups=2000(shell),%s context=u:r:shell:s0\n",
                      groups);
  }
  return 0;
}

static int
cmd_whoami(struct df_sim_sh *sh, int argc, char **argv)
{
  df_sim_buf_printf(&sh->o->out, "%s\n", sh->root ? "root" : "shell");
  return 0;
}

static int
cmd_reboot(struct df_sim_sh *sh, int argc, char **argv)
{
  /* system/core/reboot/reboot.c: reboot [-p] [target]. */
  const char *target = "";
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-p") == 0) {
      df_sim_buf_printf(&sh->o->err, "reboot: power off is not simulated\n");
      return 1;
    }
    if (argv[i][0] != '-') {
      target = argv[i];
    }
  }
  if (df_sim_phone_reboot(sh->phone, target) < 0) {
    df_sim_buf_printf(&sh->o->err, "reboot: unknown target '%s'\n", target);
    return 1;
  }
  return 0;
}

static int
cmd_svc(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc >= 3 && strcmp(argv[1], "power") == 0 && strcmp(argv[2], "reboot") == 0) {
    return df_sim_phone_reboot(sh->phone, argc > 3 ? argv[3] : "") < 0 ? 1 : 0;
  }
  df_sim_buf_printf(&sh->o->out, "Available commands:\n    help\n    power\n");
  return 0;
}

static int run_line(struct df_sim_sh *sh, const char *line, int *exit_now);

static int
cmd_sh(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
    int exit_now = 0;
    return run_line(sh, argv[2], &exit_now);
  }
  df_sim_buf_printf(&sh->o->err, "/system/bin/sh: interactive shells are not simulated\n");
  return 1;
}

static int
cmd_su(struct df_sim_sh *sh, int argc, char **argv)
{
  if (!sh->phone->rooted) {
    /* Production phones have no su binary at all. */
    df_sim_buf_printf(&sh->o->err, "/system/bin/sh: su: inaccessible or not found\n");
    return 127;
  }
  /* Magisk's su: su -c CMD, su 0 CMD..., su root CMD... */
  int i = 1;
  if (i < argc && (strcmp(argv[i], "0") == 0 || strcmp(argv[i], "root") == 0)) {
    i++;
  }
  struct df_sim_sh sub = *sh;
  sub.root = true;
  int exit_now = 0;
  if (i < argc && strcmp(argv[i], "-c") == 0) {
    if (i + 1 >= argc) {
      df_sim_buf_printf(&sh->o->err, "su: option requires an argument -- c\n");
      return 2;
    }
    return run_line(&sub, argv[i + 1], &exit_now);
  }
  if (i >= argc) {
    df_sim_buf_printf(&sh->o->err, "su: an interactive shell is not simulated; use su -c CMD\n");
    return 1;
  }
  struct df_sim_buf line = {0};
  for (; i < argc; i++) {
    /* Re-quote each word so the inner shell sees the same words. */
    df_sim_buf_append(&line, "'", 1);
    for (const char *p = argv[i]; *p; p++) {
      if (*p == '\'') {
        df_sim_buf_append(&line, "'\\''", 4);
      } else {
        df_sim_buf_append(&line, p, 1);
      }
    }
    df_sim_buf_append(&line, "' ", 2);
  }
  int r = run_line(&sub, line.data, &exit_now);
  df_sim_buf_free(&line);
  return r;
}

static int
cmd_uname(struct df_sim_sh *sh, int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "-a") == 0) {
    df_sim_buf_printf(&sh->o->out, "Linux localhost 5.15.123-android14-11 #1 SMP PREEMPT aarch64 Toybox\n");
  } else if (argc > 1 && strcmp(argv[1], "-r") == 0) {
    df_sim_buf_printf(&sh->o->out, "5.15.123-android14-11\n");
  } else {
    df_sim_buf_printf(&sh->o->out, "Linux\n");
  }
  return 0;
}

static int
cmd_getenforce(struct df_sim_sh *sh, int argc, char **argv)
{
  df_sim_buf_printf(&sh->o->out, "Enforcing\n");
  return 0;
}

static int
cmd_sleep(struct df_sim_sh *sh, int argc, char **argv)
{
  /* The sim does not block its loop: time passes at once. */
  return 0;
}

struct cmd_entry {
  const char *name;
  df_sim_cmd_fn fn;
  bool needs_android; /* not in recovery */
};

static const struct cmd_entry commands[] = {
  {"true", cmd_true, false},
  {"false", cmd_false, false},
  {"echo", cmd_echo, false},
  {"id", cmd_id, false},
  {"whoami", cmd_whoami, false},
  {"reboot", cmd_reboot, false},
  {"svc", cmd_svc, true},
  {"sh", cmd_sh, false},
  {"su", cmd_su, false},
  {"uname", cmd_uname, false},
  {"getenforce", cmd_getenforce, false},
  {"sleep", cmd_sleep, false},
  {"pm", df_sim_cmd_pm, true},
  {"cmd", df_sim_cmd_cmd, true},
  {"am", df_sim_cmd_am, true},
  {"settings", df_sim_cmd_settings, true},
  {"getprop", df_sim_cmd_getprop, false},
  {"setprop", df_sim_cmd_setprop, false},
  {"dumpsys", df_sim_cmd_dumpsys, true},
  {"logcat", df_sim_cmd_logcat, false},
  {"ls", df_sim_cmd_ls, false},
  {"cat", df_sim_cmd_cat, false},
  {"rm", df_sim_cmd_rm, false},
  {"mkdir", df_sim_cmd_mkdir, false},
  {"chmod", df_sim_cmd_chmod, false},
  {"chown", df_sim_cmd_chown, false},
  {"touch", df_sim_cmd_touch, false},
  {"sha256sum", df_sim_cmd_hashsum, false},
  {"md5sum", df_sim_cmd_hashsum, false},
  {"df", df_sim_cmd_df, false},
  {"date", df_sim_cmd_date, false},
  {"grep", df_sim_cmd_grep, false},
  {"head", df_sim_cmd_head, false},
  {"tail", df_sim_cmd_head, false},
  {"wc", df_sim_cmd_wc, false},
  {"tar", df_sim_cmd_tar, false},
  {"restorecon", df_sim_cmd_restorecon, false},
};

static const struct cmd_entry *
find_cmd(const char *name)
{
  const char *base = strrchr(name, '/');
  /* /system/bin/X runs X. */
  if (base && (strncmp(name, "/system/bin/", 12) == 0 || strncmp(name, "/system/xbin/", 13) == 0)) {
    name = base + 1;
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    if (strcmp(commands[i].name, name) == 0) {
      return &commands[i];
    }
  }
  return NULL;
}

/* ---- redirection ---- */

int
df_sim_sh_redirect(struct df_sim_sh *sh, const char *path, const char *data, size_t len,
                   bool append)
{
  if (strcmp(path, "/dev/null") == 0) {
    return 0;
  }
  char canon[PATH_MAX], parent[PATH_MAX];
  df_sim_vfs_canon(path, canon, sizeof(canon));
  df_sim_vfs_parent(canon, parent, sizeof(parent));
  int r;
  if (df_sim_vfs_exists(sh->phone, canon)) {
    r = df_sim_vfs_access(sh->phone, canon, sh->root, 2);
  } else {
    r = df_sim_vfs_access(sh->phone, parent, sh->root, 2 | 1);
  }
  if (r == 0 && !df_sim_vfs_exists(sh->phone, parent)) {
    r = DF_ENOENT;
  }
  if (r < 0) {
    df_sim_buf_printf(&sh->o->err, "/system/bin/sh: can't create %s: %s\n", path,
                      r == DF_EACCES ? "Permission denied" : "No such file or directory");
    return 1;
  }
  uint32_t uid = sh->root ? 0 : 2000;
  r = df_sim_vfs_write_file(sh->phone, canon, data, len, uid, uid, sh->root ? 0644 : 0666, append);
  if (r < 0) {
    df_sim_buf_printf(&sh->o->err, "/system/bin/sh: can't create %s: %s\n", path, df_strerror(r));
    return 1;
  }
  df_sim_phone_changed(sh->phone);
  return 0;
}

/* ---- execution ---- */

struct simple {
  char **argv;
  int argc;
  const char *out_path;
  bool out_append;
  const char *err_path;
  bool err_to_out;
  bool out_to_err; /* ">&2": stdout goes to stderr */
};

static int
run_simple(struct df_sim_sh *sh, struct simple *c, const char *in, size_t inlen,
           struct df_sim_output *o, int *exit_now)
{
  if (c->argc == 0) {
    return 0;
  }
  const char *name = c->argv[0];
  if (strcmp(name, "exit") == 0) {
    *exit_now = 1;
    return c->argc > 1 ? (atoi(c->argv[1]) & 0xff) : 0;
  }
  struct df_sim_output mine = {0};
  struct df_sim_sh sub = *sh;
  sub.o = &mine;
  sub.in = in;
  sub.inlen = inlen;
  int code;
  const struct cmd_entry *e = find_cmd(name);
  bool android = sh->phone->mode != DF_SIM_MODE_RECOVERY && sh->phone->mode != DF_SIM_MODE_SIDELOAD;
  if (e == NULL || (e->needs_android && !android)) {
    df_sim_buf_printf(&mine.err, "/system/bin/sh: %s: inaccessible or not found\n", name);
    code = 127;
  } else {
    code = e->fn(&sub, c->argc, c->argv);
  }
  if (c->err_to_out) {
    df_sim_buf_append(&mine.out, mine.err.data, mine.err.len);
    mine.err.len = 0;
  }
  if (c->out_to_err) {
    df_sim_buf_append(&mine.err, mine.out.data, mine.out.len);
    mine.out.len = 0;
  }
  if (c->err_path) {
    if (strcmp(c->err_path, "/dev/null") != 0) {
      struct df_sim_sh rs = *sh;
      rs.o = o;
      df_sim_sh_redirect(&rs, c->err_path, mine.err.data ? mine.err.data : "", mine.err.len, false);
    }
    mine.err.len = 0;
  }
  if (c->out_path) {
    struct df_sim_sh rs = *sh;
    rs.o = o;
    int r = df_sim_sh_redirect(&rs, c->out_path, mine.out.data ? mine.out.data : "", mine.out.len,
                               c->out_append);
    mine.out.len = 0;
    if (r != 0) {
      code = r;
    }
  }
  df_sim_buf_append(&o->out, mine.out.data, mine.out.len);
  df_sim_buf_append(&o->err, mine.err.data, mine.err.len);
  df_sim_output_free(&mine);
  return code;
}

/* Parses one simple command from t[*i]; returns an error message or NULL. */
static const char *
parse_simple(struct toks *t, size_t *i, struct simple *c)
{
  memset(c, 0, sizeof(*c));
  c->argv = calloc(t->n + 1, sizeof(char *));
  for (;;) {
    struct tok *k = &t->v[*i];
    if (k->kind == T_WORD) {
      c->argv[c->argc++] = k->word;
      (*i)++;
    } else if (k->kind == T_GT || k->kind == T_GTGT || k->kind == T_ERR_GT) {
      struct tok *target = &t->v[*i + 1];
      if (target->kind != T_WORD) {
        return "unexpected redirection target";
      }
      if (k->kind == T_ERR_GT) {
        c->err_path = target->word;
      } else {
        c->out_path = target->word;
        c->out_append = k->kind == T_GTGT;
      }
      *i += 2;
    } else if (k->kind == T_ERR_TO_OUT) {
      c->err_to_out = true;
      (*i)++;
    } else if (k->kind == T_OUT_TO_ERR) {
      c->out_to_err = true;
      (*i)++;
    } else {
      break;
    }
  }
  return NULL;
}

static int
run_tokens(struct df_sim_sh *sh, struct toks *t, int *exit_now)
{
  size_t i = 0;
  int last = 0;
  enum tok_kind joiner = T_SEMI;
  while (t->v[i].kind != T_END && !*exit_now) {
    /* One pipeline. */
    bool skip = (joiner == T_AND && last != 0) || (joiner == T_OR && last == 0);
    struct df_sim_buf pipe_in = {0};
    bool have_in = false;
    for (;;) {
      struct simple c;
      const char *err = parse_simple(t, &i, &c);
      if (err == NULL && c.argc == 0 && t->v[i].kind != T_END && t->v[i].kind != T_SEMI) {
        err = "unexpected operator";
      }
      if (err) {
        free(c.argv);
        df_sim_buf_free(&pipe_in);
        df_sim_buf_printf(&sh->o->err, "/system/bin/sh: syntax error: %s\n", err);
        return 1;
      }
      bool piped = t->v[i].kind == T_PIPE;
      char **owned = calloc((size_t)c.argc + 1, sizeof(char *));
      for (int a = 0; a < c.argc; a++) {
        if (strchr(c.argv[a], '\x01')) {
          struct df_sim_buf x = {0};
          for (const char *p = c.argv[a]; *p; p++) {
            if (*p == '\x01') {
              df_sim_buf_printf(&x, "%d", last);
            } else {
              df_sim_buf_append(&x, p, 1);
            }
          }
          owned[a] = x.data;
          c.argv[a] = x.data;
        }
      }
      if (!skip) {
        struct df_sim_output step = {0};
        struct df_sim_output *dst = piped ? &step : sh->o;
        last = run_simple(sh, &c, have_in ? (pipe_in.data ? pipe_in.data : "") : NULL,
                          have_in ? pipe_in.len : 0, dst, exit_now);
        if (piped) {
          df_sim_buf_free(&pipe_in);
          pipe_in = step.out;
          step.out = (struct df_sim_buf){0};
          have_in = true;
          df_sim_buf_append(&sh->o->err, step.err.data, step.err.len);
          df_sim_output_free(&step);
        }
      }
      for (int a = 0; a < c.argc; a++) {
        free(owned[a]);
      }
      free(owned);
      free(c.argv);
      if (!piped) {
        break;
      }
      i++;
    }
    df_sim_buf_free(&pipe_in);
    enum tok_kind k = t->v[i].kind;
    if (k == T_END) {
      break;
    }
    joiner = k;
    i++;
    if (k != T_SEMI && t->v[i].kind == T_END) {
      df_sim_buf_printf(&sh->o->err, "/system/bin/sh: syntax error: unexpected end of line\n");
      return 1;
    }
  }
  return last;
}

static int
run_line(struct df_sim_sh *sh, const char *line, int *exit_now)
{
  struct toks t = {0};
  const char *err = tokenize(line, &t);
  int code;
  if (err) {
    df_sim_buf_printf(&sh->o->err, "/system/bin/sh: syntax error: %s\n", err);
    code = 1;
  } else {
    code = run_tokens(sh, &t, exit_now);
  }
  toks_free(&t);
  return code;
}

int
df_sim_shell_run(struct df_sim_phone *phone, const char *command_line, bool as_root,
                 struct df_sim_output *out)
{
  struct df_sim_sh sh = {.phone = phone, .root = as_root, .o = out};
  int exit_now = 0;
  out->exit_code = run_line(&sh, command_line ? command_line : "", &exit_now);
  return 0;
}

/* ---- shared helpers ---- */

void
df_sim_human_size(uint64_t bytes, char *out, size_t outlen)
{
  /* toybox lib human_readable(): one decimal below 10, units K M G T. */
  static const char units[] = "KMGT";
  if (bytes < 1024) {
    snprintf(out, outlen, "%u", (unsigned)bytes);
    return;
  }
  double v = (double)bytes;
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    u++;
  }
  if (v < 10) {
    snprintf(out, outlen, "%.1f%c", v, units[u]);
  } else {
    snprintf(out, outlen, "%.0f%c", v, units[u]);
  }
}
