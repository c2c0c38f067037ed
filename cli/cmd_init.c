/*
 * cmd_init: the commands that make a store and manage its secrets: init
 * (a new store, the passphrase asked twice) and passwd (rewrap the master
 * key under a new passphrase).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"

static int
parse_kdf(const char *v, enum store_kdf *kdf_r)
{
	if (strcmp(v, "moderate") == 0)
		*kdf_r = STORE_KDF_MODERATE;
	else if (strcmp(v, "interactive") == 0)
		*kdf_r = STORE_KDF_INTERACTIVE;
	else if (strcmp(v, "min") == 0)
		*kdf_r = STORE_KDF_MIN;
	else
		return -1;
	return 0;
}

int
cli_cmd_init(const struct cli_opts *o, int argc, char **argv)
{
	enum store_kdf kdf = STORE_KDF_MODERATE;
	char err[STORE_ERRMSG_MAX], fp[128], *path, *pass;
	struct store *st;
	const char *v;
	size_t plen;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--kdf", &v)) {
			if (parse_kdf(v, &kdf) < 0)
				return cli_usage("init", "--kdf takes moderate, "
				    "interactive or min, not '%s'", v);
		} else
			return cli_usage("init", "unexpected '%s'", argv[i]);
	}
	path = cli_store_path(o);
	if (access(path, F_OK) == 0) {
		cli_error("a store exists already at %s; to start over, move "
		    "it away first", path);
		free(path);
		return CLI_FAIL;
	}
	if (cli_read_passphrase(o, "New passphrase: ", 1, &pass, &plen) < 0) {
		free(path);
		return CLI_FAIL;
	}
	rc = store_create(path, pass, plen, kdf, err, sizeof(err));
	/* The server's certificate is made now, so its fingerprint can be
	 * pinned in a mail client before the server first runs. */
	if (rc == 0 && (rc = store_open(path, pass, plen, &st, err,
	    sizeof(err))) == 0) {
		rc = server_cert_ensure(st, NULL, fp, sizeof(fp), err,
		    sizeof(err));
		store_close(&st);
	}
	cli_passphrase_free(&pass, plen);
	if (rc < 0) {
		free(path);
		return err[0] != '\0' ? cli_error("%s", err) : CLI_FAIL;
	}
	if (!o->quiet)
		printf("Created the store at %s.\n"
		    "Keep the passphrase safe: without it nobody, including "
		    "you, can read this mail.\n"
		    "Server certificate SHA-256 fingerprint: %s\n", path, fp);
	free(path);
	return CLI_OK;
}

int
cli_cmd_passwd(const struct cli_opts *o, int argc, char **argv)
{
	enum store_kdf kdf = STORE_KDF_MODERATE;
	struct cli_opts newo = { .pass_fd = -1 };
	struct store *st;
	const char *v;
	char *pass;
	size_t plen;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--kdf", &v)) {
			if (parse_kdf(v, &kdf) < 0)
				return cli_usage("passwd", "--kdf takes "
				    "moderate, interactive or min, not '%s'", v);
		} else if (cli_opt_value(argc, argv, &i,
		    "--new-passphrase-file", &v))
			newo.pass_file = v;
		else
			return cli_usage("passwd", "unexpected '%s'", argv[i]);
	}
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (cli_read_passphrase(&newo, "New passphrase: ", 1, &pass,
	    &plen) < 0) {
		store_close(&st);
		return CLI_FAIL;
	}
	rc = store_change_passphrase(st, pass, plen, kdf);
	cli_passphrase_free(&pass, plen);
	if (rc < 0) {
		cli_error("%s", store_errmsg(st));
		store_close(&st);
		return CLI_FAIL;
	}
	store_close(&st);
	if (!o->quiet)
		printf("The passphrase is changed.\n");
	return CLI_OK;
}
