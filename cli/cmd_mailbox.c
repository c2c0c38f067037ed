/*
 * cmd_mailbox: `mailvault mailbox create|rename|delete`, an account's
 * mailboxes managed without a mail client.
 *
 * Mailboxes are named as `ls` and `show` name them, ACCOUNT/NAME, with
 * '/' between the levels of NAME. Each change goes through the same store
 * functions an IMAP CREATE, RENAME or DELETE uses, so connected clients
 * see it (LIST, and a selected mailbox that goes away) and the sync
 * engine repeats it upstream on its next run, as it does for a client's.
 * What IMAP refuses is refused here too: INBOX is neither deleted nor
 * renamed, a deleted mailbox's children stay. Deleting a mailbox that
 * holds messages asks for --yes, as `account remove` does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"

/* The account of "ACCOUNT/NAME" and NAME (a new string), printing what is
 * wrong; NAME must be there. 0 or -1. */
static int
account_and_name(struct store *st, const char *cmd, const char *path,
    int64_t *acct_r, char **name_r)
{
	char *acct, *name;
	int rc = 0;

	cli_split_path(path, &acct, &name);
	if (name == NULL)
		rc = cli_usage(cmd, "give the mailbox as ACCOUNT/NAME, not "
		    "'%s'", path);
	else if (store_account_find(st, acct, acct_r) != 0)
		rc = cli_error("there is no account '%s': 'mailvault ls' "
		    "lists them", acct);
	free(acct);
	if (rc != 0) {
		free(name);
		return -1;
	}
	*name_r = name;
	return 0;
}

static int
mailbox_create(const struct cli_opts *o, struct store *st, const char *path)
{
	int64_t acct, id;
	char *name;
	int rc;

	if (account_and_name(st, "mailbox", path, &acct, &name) < 0)
		return CLI_FAIL;
	rc = store_mailbox_create(st, acct, name, 0, &id);
	if (rc == STORE_EEXIST)
		cli_error("%s exists already", path);
	else if (rc != 0)
		cli_error("cannot create %s: %s", path, store_errmsg(st));
	else if (o->json) {
		fputs("{\"created\":", stdout);
		cli_json_string(path);
		fputs("}\n", stdout);
	} else if (!o->quiet)
		printf("Created %s.\n", path);
	free(name);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}

/* Rename within one account: NEW is ACCOUNT/NAME like the old one. */
static int
mailbox_rename(const struct cli_opts *o, struct store *st, const char *from,
    const char *to)
{
	struct store_mailbox mb = { 0 };
	int64_t acct, acct2;
	char *name = NULL, *newname = NULL;
	int rc = -1;

	if (account_and_name(st, "mailbox", from, &acct, &name) < 0 ||
	    account_and_name(st, "mailbox", to, &acct2, &newname) < 0)
		goto out;
	if (acct2 != acct) {
		cli_error("a mailbox stays in its account: give the new name "
		    "as %.*s/NAME, or move its messages with 'mailvault mv'",
		    (int)strcspn(from, "/"), from);
		goto out;
	}
	if (ascii_strcasecmp(name, "INBOX") == 0) {
		cli_error("INBOX cannot be renamed; to move its messages, "
		    "create a mailbox and 'mailvault mv %s 1:* ACCOUNT/NAME'",
		    from);
		goto out;
	}
	if (cli_find_mailbox(st, from, &acct, &mb) < 0)
		goto out;
	rc = store_mailbox_rename(st, acct, mb.name, newname);
	if (rc == STORE_EEXIST)
		cli_error("%s exists already", to);
	else if (rc != 0)
		cli_error("cannot rename %s: %s", from, store_errmsg(st));
	else if (o->json) {
		fputs("{\"renamed\":", stdout);
		cli_json_string(from);
		fputs(",\"to\":", stdout);
		cli_json_string(to);
		fputs("}\n", stdout);
	} else if (!o->quiet)
		printf("Renamed %s to %s.\n", from, to);
out:
	store_mailbox_clear(&mb);
	free(name);
	free(newname);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}

static int
mailbox_delete(const struct cli_opts *o, struct store *st, const char *path,
    int yes)
{
	struct store_mailbox mb = { 0 }, now = { 0 };
	int64_t acct;
	int rc;

	if (cli_find_mailbox(st, path, &acct, &mb) < 0)
		return CLI_FAIL;
	if (strcmp(mb.name, "INBOX") == 0) {
		store_mailbox_clear(&mb);
		return cli_error("INBOX cannot be deleted");
	}
	rc = store_mailbox_status(st, mb.id, &now);
	if (rc == 0 && now.messages > 0 && !yes) {
		cli_error("%s holds %u messages, which go with it (here and, "
		    "at the next sync, upstream); to delete it anyway: "
		    "'mailvault mailbox delete %s --yes'", path, now.messages,
		    path);
		store_mailbox_clear(&mb);
		store_mailbox_clear(&now);
		return CLI_FAIL;
	}
	if (rc == 0 && (rc = store_mailbox_delete(st, mb.id)) == 0) {
		if (o->json) {
			fputs("{\"deleted\":", stdout);
			cli_json_string(path);
			printf(",\"messages\":%u}\n", now.messages);
		} else if (!o->quiet)
			printf("Deleted %s and its %u messages.\n", path,
			    now.messages);
	}
	if (rc != 0)
		cli_error("cannot delete %s: %s", path, store_errmsg(st));
	store_mailbox_clear(&mb);
	store_mailbox_clear(&now);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}

int
cli_cmd_mailbox(const struct cli_opts *o, int argc, char **argv)
{
	const char *pos[3];
	struct store *st;
	int i, npos = 0, yes = 0, want, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0)
			yes = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage("mailbox", "unknown option '%s'",
			    argv[i]);
		else if (npos < 3)
			pos[npos++] = argv[i];
		else
			return cli_usage("mailbox", "unexpected '%s'", argv[i]);
	}
	if (npos == 0)
		return cli_usage("mailbox", "say create, rename or delete");
	want = strcmp(pos[0], "rename") == 0 ? 3 : 2;
	if (strcmp(pos[0], "create") != 0 && strcmp(pos[0], "delete") != 0 &&
	    want == 2)
		return cli_usage("mailbox", "'%s' is not create, rename or "
		    "delete", pos[0]);
	if (npos != want)
		return cli_usage("mailbox", want == 3 ? "give ACCOUNT/NAME and "
		    "the new ACCOUNT/NAME" : "give one ACCOUNT/NAME");
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (strcmp(pos[0], "create") == 0)
		rc = mailbox_create(o, st, pos[1]);
	else if (strcmp(pos[0], "rename") == 0)
		rc = mailbox_rename(o, st, pos[1], pos[2]);
	else
		rc = mailbox_delete(o, st, pos[1], yes);
	store_close(&st);
	return rc;
}
