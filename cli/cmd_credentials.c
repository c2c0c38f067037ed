/*
 * cmd_credentials: what a mail client needs to log in to the local
 * server: the user names (one per account) and the store's local password.
 */
#include <stdio.h>

#include "cli/cli.h"
#include "store/store.h"

int
cli_cmd_credentials(const struct cli_opts *o, int argc, char **argv)
{
	struct store_account *accts;
	struct store *st;
	size_t n, i;
	char *pw;

	if (argc > 1)
		return cli_usage("credentials", "unexpected '%s'", argv[1]);
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (store_local_password(st, &pw) < 0 ||
	    store_account_list(st, &accts, &n) < 0) {
		cli_error("%s", store_errmsg(st));
		store_close(&st);
		return CLI_FAIL;
	}
	if (o->json) {
		printf("{\"users\":[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				putchar(',');
			cli_json_string(accts[i].name);
		}
		printf("],\"password\":");
		cli_json_string(pw);
		printf("}\n");
	} else {
		printf("Users (one per account):");
		for (i = 0; i < n; i++)
			printf(" %s", accts[i].name);
		printf("%s\nPassword: %s\n", n == 0 ? " (none yet)" : "", pw);
	}
	store_secret_free(&pw);
	store_account_list_free(&accts, n);
	store_close(&st);
	return CLI_OK;
}
