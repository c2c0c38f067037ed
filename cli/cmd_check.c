/*
 * cmd_check: the integrity check. It runs SQLite's own check and then
 * opens every sealed value, so a damaged or tampered store is found before
 * a mail client trips over it.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"

static void
check_progress(void *arg, uint64_t done)
{
	struct cli_progress *p = arg;

	cli_progress_update(p, 0, done);
}

int
cli_cmd_check(const struct cli_opts *o, int argc, char **argv)
{
	struct cli_progress *p;
	struct store *st;
	uint64_t bad = 0;
	int rc;

	if (argc > 1)
		return cli_usage("check", "unexpected '%s'", argv[1]);
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	p = cli_progress_new(o, "check", 0);
	rc = store_check(st, &bad, check_progress, p);
	cli_progress_done(&p, NULL);
	if (rc < 0) {
		cli_error("the store is damaged: %llu problem(s) found; the "
		    "first: %s. Restore it from a backup, or export what "
		    "still reads and import it into a new store",
		    (unsigned long long)bad, store_errmsg(st));
		store_close(&st);
		return CLI_FAIL;
	}
	store_close(&st);
	if (o->json)
		printf("{\"ok\":true}\n");
	else if (!o->quiet)
		printf("The store is sound: every sealed value opens.\n");
	return CLI_OK;
}
