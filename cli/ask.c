/* The terminal's question queue: a uv_tty on stdin read only while a
 * question is shown, lines gathered from its reads, one answer per line.
 * Input typed before a question shows stays in the terminal (or in our
 * line buffer) and answers it, as a blocking fgets would have. */
#include "cli/ask.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/output.h"
#include "core/error.h"

#define DF_CLI_ASK_LINE_MAX 1024

struct df_cli_question {
  struct df_cli_question *next;
  enum df_question_kind kind;
  char who[280];
  char *text;
  char *typed; /* NULL: a plain question */
  char **options;
  size_t noptions;
  df_answer_fn answer;
  void *answer_ctx;
};

struct df_cli_asker {
  struct df_loop *loop;
  FILE *out;
  uv_tty_t tty;
  uv_timer_t kick; /* pumps the queue from the loop after an ask */
  int open_handles;
  bool reading;
  bool eof;
  bool closing;
  struct df_cli_question *active; /* on the terminal now */
  struct df_cli_question *head, *tail;
  char line[DF_CLI_ASK_LINE_MAX]; /* input not yet used */
  size_t line_len;
  char read_buf[256];
};

static void
df_cli_question_free(struct df_cli_question *q)
{
  if (q == NULL) return;
  free(q->text);
  free(q->typed);
  for (size_t i = 0; i < q->noptions; i++) free(q->options[i]);
  free(q->options);
  free(q);
}

/* Prints q: "[serial] text", and how to answer it. */
static void
df_cli_asker_show(struct df_cli_asker *a, const struct df_cli_question *q)
{
  char safe[4200], who[600], prefix[610] = "";

  if (q->who[0] != '\0') {
    df_cli_safe_text(q->who, who, sizeof(who));
    snprintf(prefix, sizeof(prefix), "[%s] ", who);
  }
  df_cli_safe_text(q->text, safe, sizeof(safe));
  if (q->kind == DF_QUESTION_CONFIRM && q->typed != NULL) {
    char code[128];
    df_cli_safe_text(q->typed, code, sizeof(code));
    fprintf(a->out, "%s%s\n%sType %s to go on (anything else stops): ", prefix, safe, prefix,
            code);
  } else if (q->kind == DF_QUESTION_CONFIRM) {
    fprintf(a->out, "%s%s [y/N] ", prefix, safe);
  } else {
    fprintf(a->out, "%s%s\n", prefix, safe);
    for (size_t i = 0; i < q->noptions; i++) {
      df_cli_safe_text(q->options[i], safe, sizeof(safe));
      fprintf(a->out, "%s  %zu) %s\n", prefix, i + 1, safe);
    }
    fprintf(a->out, "%sWhich one (1-%zu)? ", prefix, q->noptions);
  }
  fflush(a->out);
}

/* The answer a line gives to q. */
static int
df_cli_asker_parse(const struct df_cli_question *q, const char *line)
{
  if (q->kind == DF_QUESTION_CONFIRM && q->typed != NULL) return strcmp(line, q->typed) == 0;
  if (q->kind == DF_QUESTION_CONFIRM) return line[0] == 'y' || line[0] == 'Y';
  return atoi(line);
}

/* Takes one whole line from the buffer into out (without its end of
 * line); false when no whole line is there yet. */
static bool
df_cli_asker_take_line(struct df_cli_asker *a, char *out, size_t outlen)
{
  char *nl = memchr(a->line, '\n', a->line_len);
  size_t n, used;

  if (nl == NULL) return false;
  used = (size_t)(nl - a->line) + 1;
  n = (size_t)(nl - a->line);
  if (n > 0 && a->line[n - 1] == '\r') n--;
  if (n >= outlen) n = outlen - 1;
  memcpy(out, a->line, n);
  out[n] = '\0';
  memmove(a->line, a->line + used, a->line_len - used);
  a->line_len -= used;
  return true;
}

static void df_cli_asker_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void
df_cli_asker_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct df_cli_asker *a = h->data;

  (void)suggested;
  buf->base = a->read_buf;
  buf->len = sizeof(a->read_buf);
}

/* Answers what can be answered now and shows the next question; reads the
 * terminal only while a question waits for a line. */
static void
df_cli_asker_pump(struct df_cli_asker *a)
{
  char line[DF_CLI_ASK_LINE_MAX];

  while (!a->closing) {
    struct df_cli_question *q = a->active;
    int answer;
    if (q == NULL) {
      q = a->head;
      if (q == NULL) break;
      a->head = q->next;
      if (a->head == NULL) a->tail = NULL;
      a->active = q;
      df_cli_asker_show(a, q);
    }
    if (df_cli_asker_take_line(a, line, sizeof(line))) {
      answer = df_cli_asker_parse(q, line);
    } else if (a->eof) {
      fputc('\n', a->out);
      answer = DF_ECANCELED;
    } else {
      if (!a->reading &&
          uv_read_start((uv_stream_t *)&a->tty, df_cli_asker_alloc, df_cli_asker_on_read) == 0)
        a->reading = true;
      if (!a->reading) a->eof = true; /* the terminal cannot be read: no answer comes */
      else return;
      continue;
    }
    a->active = NULL;
    q->answer(q->answer_ctx, answer); /* may queue another question */
    df_cli_question_free(q);
  }
  if (a->reading && a->active == NULL) {
    uv_read_stop((uv_stream_t *)&a->tty);
    a->reading = false;
  }
}

static void
df_cli_asker_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
  struct df_cli_asker *a = s->data;

  if (nread < 0) {
    a->eof = true;
  } else if (nread > 0) {
    size_t room = sizeof(a->line) - a->line_len;
    size_t n = (size_t)nread < room ? (size_t)nread : room;
    memcpy(a->line + a->line_len, buf->base, n);
    a->line_len += n;
    /* A line longer than the buffer: keep its start and end it here. */
    if (a->line_len == sizeof(a->line) && memchr(a->line, '\n', a->line_len) == NULL)
      a->line[a->line_len - 1] = '\n';
  }
  df_cli_asker_pump(a);
}

static void
df_cli_asker_on_kick(uv_timer_t *t)
{
  df_cli_asker_pump(t->data);
}

int
df_cli_asker_new(struct df_loop *loop, FILE *out, struct df_cli_asker **res)
{
  struct df_cli_asker *a;
  int rc;

  *res = NULL;
  a = calloc(1, sizeof(*a));
  if (a == NULL) return DF_ENOMEM;
  a->loop = loop;
  a->out = out;
  rc = uv_tty_init(&loop->uv, &a->tty, STDIN_FILENO, 1);
  if (rc != 0) {
    free(a);
    return df_error_from_uv(rc);
  }
  a->tty.data = a;
  uv_timer_init(&loop->uv, &a->kick);
  a->kick.data = a;
  a->open_handles = 2;
  *res = a;
  return 0;
}

static char *
df_cli_asker_strdup(const char *s, bool *failed)
{
  char *copy;

  if (s == NULL) return NULL;
  copy = strdup(s);
  if (copy == NULL) *failed = true;
  return copy;
}

int
df_cli_asker_ask(struct df_cli_asker *a, const char *who, const struct df_question *q,
                 df_answer_fn answer, void *answer_ctx)
{
  struct df_cli_question *e = calloc(1, sizeof(*e));
  bool failed = false;

  if (e == NULL) return DF_ENOMEM;
  e->kind = q->kind;
  snprintf(e->who, sizeof(e->who), "%s", who != NULL ? who : "");
  e->text = df_cli_asker_strdup(q->text != NULL ? q->text : "", &failed);
  e->typed = df_cli_asker_strdup(q->typed, &failed);
  if (q->noptions > 0) {
    e->options = calloc(q->noptions, sizeof(*e->options));
    if (e->options == NULL) failed = true;
    for (size_t i = 0; !failed && i < q->noptions; i++) {
      e->options[i] = df_cli_asker_strdup(q->options[i], &failed);
      e->noptions = i + 1;
    }
  }
  if (failed) {
    df_cli_question_free(e);
    return DF_ENOMEM;
  }
  e->answer = answer;
  e->answer_ctx = answer_ctx;
  if (a->tail != NULL)
    a->tail->next = e;
  else
    a->head = e;
  a->tail = e;
  uv_timer_start(&a->kick, df_cli_asker_on_kick, 0, 0);
  return 0;
}

static void
df_cli_asker_on_close(uv_handle_t *h)
{
  struct df_cli_asker *a = h->data;

  if (--a->open_handles == 0) free(a);
}

void
df_cli_asker_close(struct df_cli_asker *a)
{
  if (a == NULL || a->closing) return;
  /* Answered first, while the asker is whole: an answer may ask again. */
  a->eof = true;
  while (a->active != NULL || a->head != NULL) {
    struct df_cli_question *q = a->active;
    if (q == NULL) {
      q = a->head;
      a->head = q->next;
      if (a->head == NULL) a->tail = NULL;
    }
    a->active = NULL;
    q->answer(q->answer_ctx, DF_ECANCELED);
    df_cli_question_free(q);
  }
  a->closing = true;
  if (a->reading) uv_read_stop((uv_stream_t *)&a->tty);
  uv_timer_stop(&a->kick);
  uv_close((uv_handle_t *)&a->tty, df_cli_asker_on_close);
  uv_close((uv_handle_t *)&a->kick, df_cli_asker_on_close);
}
