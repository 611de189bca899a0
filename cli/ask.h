/* Questions on the terminal (step confirmations, df.confirm, df.choose,
 * df.confirm_typed) asked from the loop without blocking it: stdin is read
 * with a uv_tty, so under --all the other phones' runs go on while one
 * phone waits for its answer. One question is on the terminal at a time;
 * the others wait in order, and each names its phone. */
#ifndef DF_CLI_ASK_H
#define DF_CLI_ASK_H

#include <stdio.h>

#include "core/loop.h"
#include "lua-api/df_module.h"

struct df_cli_asker;

/* Opens the terminal on stdin for questions written to out. Returns 0,
 * DF_ENOMEM, or a df error from uv_tty_init (stdin is not a terminal). */
int
df_cli_asker_new(struct df_loop *loop, FILE *out, struct df_cli_asker **res);

/* Queues a question from the phone named who (NULL: no name). The text,
 * code and options are copied. answer is always called later, from the
 * loop, exactly once: 1/0 or the option's number, DF_ECANCELED when stdin
 * ends or the asker is closed first. Returns 0 or DF_ENOMEM (answer never
 * called). */
int
df_cli_asker_ask(struct df_cli_asker *a, const char *who, const struct df_question *q,
                 df_answer_fn answer, void *answer_ctx);

/* Answers every question still waiting with DF_ECANCELED (now, before it
 * returns), stops reading and closes the terminal; the memory goes in the
 * close callbacks, so the loop must run (or be closed) after. NULL is
 * fine. */
void
df_cli_asker_close(struct df_cli_asker *a);

#endif
