/*
 * cmd_ls: looking inside the store without a mail client: the accounts,
 * an account's mailboxes, or a mailbox's messages (`show` prints one,
 * cmd_show.c). Paths are ACCOUNT/MAILBOX: the account name is everything
 * before the first '/'.
 *
 * Listings are for people; --json gives the same for programs. Columns
 * line up on a terminal whatever the script: text is cut and padded by
 * display width (utf8_fit(): never inside a character, wide characters
 * two columns), and on a terminal each message line is cut to its width
 * rather than wrapped. Header fields are decoded (RFC 2047) and control
 * characters replaced, so a message cannot drive the terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "store/store.h"

#define NAME_COLS	40	/* mailbox names */
#define FROM_COLS	28	/* the From column of a message list */

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

/* The columns of the terminal on stdout, or 0 when it is no terminal
 * (then lines are not cut: a pipe gets everything). */
static size_t
out_cols(void)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/*
 * Print s in at most cols terminal columns, cut by display width, then
 * spaces up to cols when pad is set. Returns the columns printed.
 */
static size_t
put_cols(const char *s, size_t cols, int pad)
{
	size_t w, n = utf8_fit(s, strlen(s), cols, &w);

	fwrite(s, 1, n, stdout);
	for (; pad && w < cols; w++)
		putchar(' ');
	return w;
}

static int
list_mailboxes(struct store *st, const struct cli_opts *o, const char *name)
{
	struct store_mailbox *mb;
	int64_t acct;
	size_t n, i, w;

	if (store_account_find(st, name, &acct) < 0)
		return cli_error("there is no account '%s': 'mailvault ls' "
		    "lists them", name);
	if (store_mailbox_list(st, acct, 1, &mb, &n) < 0)
		return cli_error("%s", store_errmsg(st));
	if (o->json)
		printf("[");
	else
		printf("%-*s %8s %8s\n", NAME_COLS, "MAILBOX", "MESSAGES",
		    "UNSEEN");
	for (i = 0; i < n; i++) {
		if (o->json) {
			printf("%s{\"name\":", i ? "," : "");
			cli_json_string(mb[i].name);
			printf(",\"messages\":%u,\"unseen\":%u,\"bytes\":%llu,"
			    "\"uidvalidity\":%u,\"uidnext\":%u}",
			    mb[i].messages, mb[i].unseen,
			    (unsigned long long)mb[i].bytes, mb[i].uidvalidity,
			    mb[i].uidnext);
			continue;
		}
		/* A long name is kept whole: its counts move right. */
		for (w = put_cols(mb[i].name, SIZE_MAX, 0); w < NAME_COLS; w++)
			putchar(' ');
		printf(" %8u %8u\n", mb[i].messages, mb[i].unseen);
	}
	if (o->json)
		printf("]\n");
	store_mailbox_list_free(&mb, n);
	return CLI_OK;
}

/* The flag letters of `ls` and what they mean (the legend). */
static const struct {
	uint32_t	 bit;
	char		 letter;
	const char	*name;
} letters[] = {
	{ STORE_F_SEEN, 'S', "seen" },
	{ STORE_F_ANSWERED, 'A', "answered" },
	{ STORE_F_FLAGGED, 'F', "flagged" },
	{ STORE_F_DELETED, 'D', "deleted" },
	{ STORE_F_DRAFT, 'd', "draft" },
};

static void
flag_letters(uint32_t f, char *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(letters); i++)
		out[i] = (f & letters[i].bit) ? letters[i].letter : '-';
	out[i] = '\0';
}

/* A header field of a message decoded to UTF-8 for one line of display;
 * "" if absent. The caller frees the result. */
static char *
header_text(const struct mime_part *root, const char *field)
{
	char *s = cli_header_text(root, field);

	cli_printable(s, 0);
	return s;
}

static void
message_line(const struct store_msg *m, const char *from, const char *subj,
    size_t cols)
{
	char flags[ARRAY_SIZE(letters) + 1], date[32];
	time_t t = (time_t)m->internaldate;
	struct tm tm;
	size_t used;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(date, sizeof(date), "?");
	flag_letters(m->flags, flags);
	used = (size_t)printf("%6u %s %-16s %9llu  ", m->uid, flags, date,
	    (unsigned long long)m->size);
	used += put_cols(from, FROM_COLS, 1);
	putchar(' ');
	used++;
	/* On a terminal the subject ends at its edge (no wrapped lines). */
	put_cols(subj, cols == 0 ? SIZE_MAX : cols > used ? cols - used : 0,
	    0);
	putchar('\n');
}

static void
message_json(const struct store_msg *m, size_t i, const char *from,
    const char *subj)
{
	char flags[ARRAY_SIZE(letters) + 1];

	flag_letters(m->flags, flags);
	printf("%s{\"uid\":%u,\"flags\":\"%s\",\"date\":%lld,\"size\":%llu,"
	    "\"from\":", i ? "," : "", m->uid, flags,
	    (long long)m->internaldate, (unsigned long long)m->size);
	cli_json_string(from);
	printf(",\"subject\":");
	cli_json_string(subj);
	printf("}");
}

static void
legend(void)
{
	size_t i;

	printf("Flags:");
	for (i = 0; i < ARRAY_SIZE(letters); i++)
		printf(" %c %s%s", letters[i].letter, letters[i].name,
		    i + 1 < ARRAY_SIZE(letters) ? "," : "\n");
}

static int
list_messages(struct store *st, const struct cli_opts *o, const char *path)
{
	struct store_mailbox mb;
	struct store_msg *m;
	struct mime_part *root;
	int64_t acct;
	size_t n, i, cols = out_cols();
	char *from, *subj;

	if (cli_find_mailbox(st, path, &acct, &mb) < 0)
		return CLI_FAIL;
	if (store_msg_list(st, mb.id, 0, &m, &n) < 0) {
		store_mailbox_clear(&mb);
		return cli_error("%s", store_errmsg(st));
	}
	if (o->json)
		printf("[");
	else
		printf("%6s %-5s %-16s %9s  %-*s %s\n", "UID", "FLAGS", "DATE",
		    "SIZE", FROM_COLS, "FROM", "SUBJECT");
	store_snapshot_begin(st);
	for (i = 0; i < n; i++) {
		root = NULL;
		/* The root part is enough (and far cheaper): From, Subject. */
		store_content_envelope(st, m[i].content, &root);
		from = header_text(root, "From");
		subj = header_text(root, "Subject");
		if (o->json)
			message_json(&m[i], i, from, subj);
		else
			message_line(&m[i], from, subj, cols);
		free(from);
		free(subj);
		mime_part_free(&root);
	}
	store_snapshot_end(st);
	if (o->json)
		printf("]\n");
	else if (n > 0)
		legend();
	else
		printf("%s has no messages.\n", path);
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
