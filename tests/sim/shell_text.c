/* toybox commands that report or filter text: df, date, grep, head, tail,
 * wc. Formats from toybox toys/posix/df.c (1K-blocks columns, Use% rounded
 * up), toys/posix/date.c (default "%a %b %e %H:%M:%S %Z %Y"). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/error.h"
#include "tests/sim/sim_internal.h"

struct mount_row {
  const char *fs;
  const char *mnt;
  uint64_t total, used;
};

static void
df_row(struct df_sim_sh *sh, const struct mount_row *m, bool human)
{
  uint64_t avail = m->total > m->used ? m->total - m->used : 0;
  unsigned pct = (unsigned)((m->used + avail) ? (m->used * 100 + (m->used + avail) - 1) / (m->used + avail) : 0);
  if (human) {
    char t[16], u[16], a[16];
    df_sim_human_size(m->total, t, sizeof(t));
    df_sim_human_size(m->used, u, sizeof(u));
    df_sim_human_size(avail, a, sizeof(a));
    df_sim_buf_printf(&sh->o->out, "%-16s %5s %5s %5s %3u%% %s\n", m->fs, t, u, a, pct, m->mnt);
  } else {
    df_sim_buf_printf(&sh->o->out, "%-16s %10llu %9llu %9llu %3u%% %s\n", m->fs,
                      (unsigned long long)(m->total / 1024), (unsigned long long)(m->used / 1024),
                      (unsigned long long)(avail / 1024), pct, m->mnt);
  }
}

int
df_sim_cmd_df(struct df_sim_sh *sh, int argc, char **argv)
{
  bool human = false;
  struct df_sim_phone *phone = sh->phone;
  uint64_t data_used = df_sim_data_used(phone);
  struct mount_row rows[] = {
    {"/dev/block/dm-7", "/", 1024ull * 1024 * 1024, 1022ull * 1024 * 1024},
    {"tmpfs", "/dev", 5600ull * 1024 * 1024, 3ull * 1024 * 1024},
    {"/dev/block/dm-48", "/data", phone->storage_total, data_used},
    {"/dev/fuse", "/storage/emulated", phone->storage_total, data_used},
  };
  const size_t nrows = sizeof(rows) / sizeof(rows[0]);
  int npaths = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-h") == 0) {
      human = true;
    } else if (argv[i][0] != '-') {
      npaths++;
    }
  }
  if (human) {
    df_sim_buf_printf(&sh->o->out, "%-16s %5s %5s %5s %4s %s\n", "Filesystem", "Size", "Used",
                      "Avail", "Use%", "Mounted on");
  } else {
    df_sim_buf_printf(&sh->o->out, "%-16s %10s %9s %9s %4s %s\n", "Filesystem", "1K-blocks",
                      "Used", "Available", "Use%", "Mounted on");
  }
  if (npaths == 0) {
    for (size_t k = 0; k < nrows; k++) {
      df_row(sh, &rows[k], human);
    }
    return 0;
  }
  int code = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') {
      continue;
    }
    char canon[PATH_MAX];
    df_sim_vfs_canon(argv[i], canon, sizeof(canon));
    if (!df_sim_vfs_exists(phone, canon)) {
      df_sim_buf_printf(&sh->o->err, "df: %s: No such file or directory\n", argv[i]);
      code = 1;
      continue;
    }
    /* The longest mount point that holds the path. */
    size_t best = 0, best_len = 0;
    for (size_t k = 0; k < nrows; k++) {
      size_t l = strlen(rows[k].mnt);
      bool under = strcmp(rows[k].mnt, "/") == 0 ||
                   (strncmp(canon, rows[k].mnt, l) == 0 && (canon[l] == '\0' || canon[l] == '/'));
      if (under && l >= best_len) {
        best = k;
        best_len = l;
      }
    }
    df_row(sh, &rows[best], human);
  }
  return code;
}

int
df_sim_cmd_date(struct df_sim_sh *sh, int argc, char **argv)
{
  const char *fmt = "%a %b %e %H:%M:%S %Z %Y";
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '+') {
      fmt = argv[i] + 1;
    } else if (strcmp(argv[i], "-u") != 0) {
      if (!sh->root) {
        df_sim_buf_printf(&sh->o->err, "date: cannot set date: Operation not permitted\n");
        return 1;
      }
      df_sim_buf_printf(&sh->o->err, "date: setting the date is not simulated\n");
      return 1;
    }
  }
  int64_t ms = df_sim_phone_now_ms(sh->phone);
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  /* The sim's phones keep UTC (persist.sys.timezone=UTC). */
  gmtime_r(&t, &tm);
  char out[256];
  struct df_sim_buf f = {0};
  /* %Z of gmtime is "GMT"; Android prints the zone's short name, "UTC". */
  for (const char *p = fmt; *p; p++) {
    if (p[0] == '%' && p[1] == 'Z') {
      df_sim_buf_append(&f, "UTC", 3);
      p++;
    } else if (p[0] == '%' && p[1] == 's') {
      df_sim_buf_printf(&f, "%lld", (long long)t);
      p++;
    } else {
      df_sim_buf_append(&f, p, 1);
    }
  }
  size_t n = strftime(out, sizeof(out), f.data ? f.data : "", &tm);
  df_sim_buf_free(&f);
  df_sim_buf_append(&sh->o->out, out, n);
  df_sim_buf_append(&sh->o->out, "\n", 1);
  return 0;
}

/* Input of a filter: named files, else the pipe. */
static int
filter_input(struct df_sim_sh *sh, const char *tool, int argc, char **argv, int first,
             struct df_sim_buf *in)
{
  bool any = false;
  for (int i = first; i < argc; i++) {
    if (argv[i] == NULL) {
      continue;
    }
    any = true;
    int fd;
    int r = df_sim_vfs_open_read(sh->phone, argv[i], sh->root, &fd);
    if (r < 0) {
      df_sim_buf_printf(&sh->o->err, "%s: %s: %s\n", tool, argv[i],
                        r == DF_EACCES ? "Permission denied" : "No such file or directory");
      return 2;
    }
    FILE *f = fdopen(fd, "rb");
    char buf[8192];
    size_t n;
    while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
      df_sim_buf_append(in, buf, n);
    }
    if (f) {
      fclose(f);
    }
  }
  if (!any && sh->in) {
    df_sim_buf_append(in, sh->in, sh->inlen);
  }
  df_sim_buf_append(in, "", 0);
  return 0;
}

int
df_sim_cmd_grep(struct df_sim_sh *sh, int argc, char **argv)
{
  bool inv = false, icase = false, count = false, quiet = false, ext = false, fixed = false;
  const char *pattern = NULL;
  char **files = calloc((size_t)argc + 1, sizeof(char *));
  int nf = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1] && pattern == NULL) {
      if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
        pattern = argv[++i];
        continue;
      }
      for (const char *f = argv[i] + 1; *f; f++) {
        inv |= *f == 'v';
        icase |= *f == 'i';
        count |= *f == 'c';
        quiet |= *f == 'q';
        ext |= *f == 'E';
        fixed |= *f == 'F';
      }
    } else if (pattern == NULL) {
      pattern = argv[i];
    } else {
      files[nf++] = argv[i];
    }
  }
  if (pattern == NULL) {
    free(files);
    df_sim_buf_printf(&sh->o->err, "usage: grep [-EFciqv] PATTERN [FILE...]\n");
    return 2;
  }
  struct df_sim_buf in = {0};
  int r = filter_input(sh, "grep", nf, files, 0, &in);
  free(files);
  if (r) {
    df_sim_buf_free(&in);
    return r;
  }
  regex_t re;
  if (!fixed && regcomp(&re, pattern, (ext ? REG_EXTENDED : 0) | (icase ? REG_ICASE : 0) | REG_NOSUB) != 0) {
    df_sim_buf_free(&in);
    df_sim_buf_printf(&sh->o->err, "grep: bad regex '%s'\n", pattern);
    return 2;
  }
  int matches = 0;
  char *save = NULL;
  for (char *line = strtok_r(in.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    bool m = fixed ? (icase ? strcasestr(line, pattern) != NULL : strstr(line, pattern) != NULL)
                   : regexec(&re, line, 0, NULL, 0) == 0;
    if (m != inv) {
      matches++;
      if (!count && !quiet) {
        df_sim_buf_printf(&sh->o->out, "%s\n", line);
      }
    }
  }
  if (!fixed) {
    regfree(&re);
  }
  if (count) {
    df_sim_buf_printf(&sh->o->out, "%d\n", matches);
  }
  df_sim_buf_free(&in);
  return matches ? 0 : 1;
}

int
df_sim_cmd_head(struct df_sim_sh *sh, int argc, char **argv)
{
  bool tail = strcmp(argv[0], "tail") == 0;
  long n = 10;
  int first = 1;
  for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
    if (strcmp(argv[first], "-n") == 0 && first + 1 < argc) {
      n = atol(argv[++first]);
    } else {
      n = atol(argv[first] + 1);
    }
  }
  struct df_sim_buf in = {0};
  int r = filter_input(sh, argv[0], argc, argv, first, &in);
  if (r) {
    df_sim_buf_free(&in);
    return r;
  }
  long total = 0;
  for (size_t i = 0; i < in.len; i++) {
    total += in.data[i] == '\n';
  }
  if (in.len && in.data[in.len - 1] != '\n') {
    total++;
  }
  long skip = tail ? (total > n ? total - n : 0) : 0;
  long keep = tail ? total : n;
  long line = 0;
  size_t start = 0;
  for (size_t i = 0; i <= in.len && line < keep; i++) {
    if (i == in.len || in.data[i] == '\n') {
      if (i > start || i < in.len) {
        if (line >= skip) {
          df_sim_buf_append(&sh->o->out, in.data + start, i - start);
          df_sim_buf_append(&sh->o->out, "\n", 1);
        }
        line++;
      }
      start = i + 1;
    }
  }
  df_sim_buf_free(&in);
  return 0;
}

int
df_sim_cmd_wc(struct df_sim_sh *sh, int argc, char **argv)
{
  bool lines = false, bytes = false, words = false;
  int first = 1;
  for (; first < argc && argv[first][0] == '-'; first++) {
    lines |= strchr(argv[first], 'l') != NULL;
    bytes |= strchr(argv[first], 'c') != NULL;
    words |= strchr(argv[first], 'w') != NULL;
  }
  if (!lines && !bytes && !words) {
    lines = bytes = words = true;
  }
  struct df_sim_buf in = {0};
  int r = filter_input(sh, "wc", argc, argv, first, &in);
  if (r) {
    df_sim_buf_free(&in);
    return r;
  }
  long nl = 0, nw = 0;
  bool inword = false;
  for (size_t i = 0; i < in.len; i++) {
    char c = in.data[i];
    nl += c == '\n';
    bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space && !inword) {
      nw++;
    }
    inword = !space;
  }
  bool first_col = true;
  if (lines) {
    df_sim_buf_printf(&sh->o->out, "%ld", nl);
    first_col = false;
  }
  if (words) {
    df_sim_buf_printf(&sh->o->out, first_col ? "%ld" : " %ld", nw);
    first_col = false;
  }
  if (bytes) {
    df_sim_buf_printf(&sh->o->out, first_col ? "%zu" : " %zu", in.len);
  }
  df_sim_buf_append(&sh->o->out, "\n", 1);
  df_sim_buf_free(&in);
  return 0;
}
