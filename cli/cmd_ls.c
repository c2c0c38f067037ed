/*
 * cmd_ls: looking inside the store without a mail client. ls lists
 * accounts, an account's mailboxes, or a mailbox's messages; show prints
 * one message's bytes exactly as stored. Both take ACCOUNT/MAILBOX paths:
 * the account name is everything before the first '/'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/mime.h"
#include "lib/rfc822.h"
#include "lib/util.h"
#include "store/store.h"

static int
list_accounts(struct store *st, const struct cli_opts *o)
{
	struct store_account *a;
	size_t n, i;

	if (store_account_list(st, &a, &n) < 0)
		return cli_error("%s", store_errmsg(st));
	if (o->json) {
		printf("[");
		for (i = 0; i < n; i++) {
			printf(i ? "," : "");
			cli_json_string(a[i].name);
		}
		printf("]\n");
	} else if (n == 0)
		printf("No accounts yet: 'mailvault import ACCOUNT PATH' "
		    "makes one.\n");
	for (i = 0; !o->json && i < n; i++)
		printf("%s\n", a[i].name);
	store_account_list_free(&a, n);
	return CLI_OK;
}

static int
list_mailboxes(struct store *st, const struct cli_opts *o, const char *name)
{
	struct store_mailbox *mb;
	int64_t acct;
	size_t n, i;

	if (store_account_find(st, name, &acct) < 0)
		return cli_error("there is no account '%s': 'mailvault ls' "
		    "lists them", name);
	if (store_mailbox_list(st, acct, 1, &mb, &n) < 0)
		return cli_error("%s", store_errmsg(st));
	if (o->json)
		printf("[");
	for (i = 0; i < n; i++) {
		if (o->json) {
			printf("%s{\"name\":", i ? "," : "");
			cli_json_string(mb[i].name);
			printf(",\"messages\":%u,\"unseen\":%u,\"bytes\":%llu,"
			    "\"uidvalidity\":%u,\"uidnext\":%u}",
			    mb[i].messages, mb[i].unseen,
			    (unsigned long long)mb[i].bytes, mb[i].uidvalidity,
			    mb[i].uidnext);
		} else
			printf("%-40s %7u messages %7u unseen\n", mb[i].name,
			    mb[i].messages, mb[i].unseen);
	}
	if (o->json)
		printf("]\n");
	store_mailbox_list_free(&mb, n);
	return CLI_OK;
}

static void
flag_letters(uint32_t f, char *out)
{
	out[0] = (f & STORE_F_SEEN) ? 'S' : '-';
	out[1] = (f & STORE_F_ANSWERED) ? 'A' : '-';
	out[2] = (f & STORE_F_FLAGGED) ? 'F' : '-';
	out[3] = (f & STORE_F_DELETED) ? 'D' : '-';
	out[4] = (f & STORE_F_DRAFT) ? 'd' : '-';
	out[5] = '\0';
}

/* A header field of a message decoded to UTF-8 for display; "" if absent.
 * The caller frees the result. */
static char *
header_text(const struct mime_part *root, const char *field)
{
	struct buf out;
	char *raw, *s;

	if (root == NULL || root->header == NULL)
		return xstrdup("");
	buf_init(&out, 64 * 1024);
	raw = rfc822_header_get(root->header, root->hdr_len, field);
	if (raw != NULL)
		mime_decode_header(raw, strlen(raw), &out);
	s = buf_steal(&out, NULL);
	free(raw);
	/* One line per message: no control characters on the terminal. */
	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static int
list_messages(struct store *st, const struct cli_opts *o, const char *path)
{
	struct store_mailbox mb;
	struct store_msg *m;
	struct mime_part *root;
	int64_t acct;
	size_t n, i;
	char flags[6], date[32], *from, *subj;
	struct tm tm;
	time_t t;

	if (cli_find_mailbox(st, path, &acct, &mb) < 0)
		return CLI_FAIL;
	if (store_msg_list(st, mb.id, 0, &m, &n) < 0) {
		store_mailbox_clear(&mb);
		return cli_error("%s", store_errmsg(st));
	}
	if (o->json)
		printf("[");
	for (i = 0; i < n; i++) {
		root = NULL;
		store_content_mime(st, m[i].content, &root);
		from = header_text(root, "From");
		subj = header_text(root, "Subject");
		t = (time_t)m[i].internaldate;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
		flag_letters(m[i].flags, flags);
		if (o->json) {
			printf("%s{\"uid\":%u,\"flags\":\"%s\",\"date\":%lld,"
			    "\"size\":%llu,\"from\":", i ? "," : "", m[i].uid,
			    flags, (long long)m[i].internaldate,
			    (unsigned long long)m[i].size);
			cli_json_string(from);
			printf(",\"subject\":");
			cli_json_string(subj);
			printf("}");
		} else
			printf("%6u %s %s %9llu  %-28.28s %s\n", m[i].uid, flags,
			    date, (unsigned long long)m[i].size, from, subj);
		free(from);
		free(subj);
		mime_part_free(&root);
	}
	if (o->json)
		printf("]\n");
	free(m);
	store_mailbox_clear(&mb);
	return CLI_OK;
}

int
cli_cmd_ls(const struct cli_opts *o, int argc, char **argv)
{
	struct store *st;
	int rc;

	if (argc > 2)
		return cli_usage("ls", "give at most one ACCOUNT[/MAILBOX]");
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (argc == 1)
		rc = list_accounts(st, o);
	else if (strchr(argv[1], '/') == NULL)
		rc = list_mailboxes(st, o, argv[1]);
	else
		rc = list_messages(st, o, argv[1]);
	store_close(&st);
	return rc;
}

int
cli_cmd_show(const struct cli_opts *o, int argc, char **argv)
{
	struct store_mailbox mb;
	struct store_msg msg;
	struct store_reader *rd;
	struct store *st;
	int64_t acct;
	uint64_t uid;
	char buf[65536];
	ssize_t n;
	int rc = CLI_OK;

	if (argc != 3)
		return cli_usage("show", "give ACCOUNT/MAILBOX and a UID");
	if (parse_u64(argv[2], UINT32_MAX, &uid) < 0 || uid == 0)
		return cli_usage("show", "'%s' is not a UID", argv[2]);
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (cli_find_mailbox(st, argv[1], &acct, &mb) < 0) {
		store_close(&st);
		return CLI_FAIL;
	}
	if (store_msg_get(st, mb.id, (uint32_t)uid, &msg) < 0) {
		rc = cli_error("%s has no message with UID %llu: 'mailvault "
		    "ls %s' lists them", argv[1], (unsigned long long)uid,
		    argv[1]);
	} else if (store_reader_open(st, msg.content, &rd) < 0) {
		rc = cli_error("%s", store_errmsg(st));
	} else {
		while ((n = store_reader_read(rd, buf, sizeof(buf))) > 0)
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				break;
		if (n < 0)
			rc = cli_error("%s", store_errmsg(st));
		store_reader_close(&rd);
	}
	store_mailbox_clear(&mb);
	store_close(&st);
	return rc;
}
