/*
 * cmd_import: bring mail in from an mbox file, a Maildir (with its
 * Maildir++ folders), or message files (--format eml: one message per
 * file). Files on disk may have LF line ends: like Maildir files they are
 * brought to the CRLF wire form (a CRLF stays, a lone CR stays), which is
 * also how Dovecot serves them.
 *
 * Where messages go: --mailbox, else INBOX for a Maildir's top folder and
 * for message files, the Maildir++ folder's name for its subfolders, and
 * for an mbox file the name of the file (Archive.mbox goes to Archive;
 * inbox, mbox and INBOX.mbox go to INBOX, as mail programs name it). The
 * summary says how many went where. A single file is taken for an mbox
 * when it begins with "From ", for one message when it is called *.eml
 * or begins with a header field.
 *
 * Messages stream into the store in pieces, so a 100 MB message costs a
 * chunk of memory, not 100 MB. Appends are grouped into transactions of a
 * few hundred messages for speed; a kill loses at most the open batch, and
 * because a message whose content is already in the target mailbox is
 * skipped, running the import again finishes the job without duplicates.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/maildir.h"
#include "lib/mbox.h"
#include "lib/util.h"
#include "store/store.h"

#define BATCH_MESSAGES	500
#define BATCH_BYTES	(32u << 20)
#define READ_SIZE	65536

enum import_format { FMT_AUTO, FMT_MBOXRD, FMT_MBOXO, FMT_MAILDIR, FMT_EML };

/* A mailbox messages went to, for the summary. */
struct dest {
	char		*name;
	uint64_t	 imported, skipped;
};

struct import {
	const struct cli_opts *o;
	struct store	*st;
	int64_t		 acct;
	const char	*mailbox;	/* --mailbox, or NULL */
	enum import_format fmt;
	struct cli_progress *progress;
	uint64_t	 done_bytes;	/* of the input, for progress */
	uint64_t	 imported, skipped;
	struct dest	*dests;		/* in the order first used */
	size_t		 ndests;
	size_t		 cur;		/* index of the one written to now */
	uint32_t	 batch_msgs;
	uint64_t	 batch_bytes;
	int		 in_txn;
};

/* ---- batching ------------------------------------------------------------ */

static int
batch_flush(struct import *im)
{
	if (!im->in_txn)
		return 0;
	im->in_txn = 0;
	im->batch_msgs = 0;
	im->batch_bytes = 0;
	if (store_txn_commit(im->st) < 0)
		return cli_error("%s", store_errmsg(im->st)), -1;
	return 0;
}

static int
batch_begin(struct import *im)
{
	if (im->in_txn)
		return 0;
	if (store_txn_begin(im->st) < 0)
		return cli_error("%s", store_errmsg(im->st)), -1;
	im->in_txn = 1;
	return 0;
}

/* Count one finished append; commit the batch when it is big enough. */
static int
batch_count(struct import *im, int rc, uint64_t size)
{
	if (rc == STORE_EEXIST) {
		im->skipped++;
		im->dests[im->cur].skipped++;
	} else if (rc < 0)
		return cli_error("%s", store_errmsg(im->st)), -1;
	else {
		im->imported++;
		im->dests[im->cur].imported++;
	}
	im->batch_msgs++;
	im->batch_bytes += size;
	cli_progress_update(im->progress, im->done_bytes,
	    im->imported + im->skipped);
	if (im->batch_msgs >= BATCH_MESSAGES || im->batch_bytes >= BATCH_BYTES)
		return batch_flush(im);
	return 0;
}

/* Count what follows for the mailbox name (its name as the store has
 * it, so "inbox" and "INBOX" are one line of the summary). */
static void
dest_use(struct import *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->ndests; i++)
		if (strcmp(im->dests[i].name, name) == 0)
			break;
	if (i == im->ndests) {
		im->dests = xreallocarray(im->dests, i + 1,
		    sizeof(*im->dests));
		im->dests[i].name = xstrdup(name);
		im->dests[i].imported = im->dests[i].skipped = 0;
		im->ndests++;
	}
	im->cur = i;
}

/* The mailbox to import into, made if missing. */
static int
target_mailbox(struct import *im, const char *name, int64_t *id_r)
{
	struct store_mailbox mb;
	int rc;

	if (store_mailbox_find(im->st, im->acct, name, &mb) == 0) {
		*id_r = mb.id;
		dest_use(im, mb.name);
		store_mailbox_clear(&mb);
		return 0;
	}
	rc = store_mailbox_create(im->st, im->acct, name, 0, id_r);
	if (rc < 0)
		return cli_error("cannot create the mailbox '%s': %s", name,
		    store_errmsg(im->st)), -1;
	dest_use(im, name);
	return 0;
}

/*
 * The mailbox an mbox file goes to without --mailbox: the file's name
 * without ".mbox" or ".mbx"; INBOX for the names mail programs give the
 * inbox (inbox, mbox, INBOX.mbox, any case). The caller frees it.
 */
static char *
mbox_mailbox_name(const char *path)
{
	static const char *const inbox[] = { "inbox", "mbox", "" };
	static const char *const exts[] = { ".mbox", ".mbx" };
	const char *base = strrchr(path, '/');
	char *name;
	size_t n, i;

	name = xstrdup(base != NULL ? base + 1 : path);
	n = strlen(name);
	for (i = 0; i < ARRAY_SIZE(exts); i++) {
		size_t e = strlen(exts[i]);

		if (n >= e && ascii_strcasecmp(name + n - e, exts[i]) == 0) {
			name[n - e] = '\0';
			break;
		}
	}
	for (i = 0; i < ARRAY_SIZE(inbox); i++) {
		if (ascii_strcasecmp(name, inbox[i]) == 0) {
			free(name);
			return xstrdup("INBOX");
		}
	}
	return name;
}

/* ---- one file, one message (eml) ------------------------------------------ */

/* Stream the file at path into mbox; convert LF to CRLF when lf is set. */
static int
append_file(struct import *im, int64_t mbox, const char *path,
    const struct store_append_opts *opts, int lf)
{
	struct store_append *ap;
	struct maildir_eol eol = { 0 };
	struct buf out;
	char buf[READ_SIZE];
	uint64_t size = 0;
	uint32_t uid;
	ssize_t n;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_error("cannot read %s: %s", path, strerror(errno)),
		    -1;
	if (batch_begin(im) < 0) {
		close(fd);
		return -1;
	}
	if (store_append_begin(im->st, mbox, opts, &ap) < 0) {
		close(fd);
		return cli_error("%s", store_errmsg(im->st)), -1;
	}
	rc = 0;
	buf_init(&out, 2 * READ_SIZE);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		im->done_bytes += (uint64_t)n;
		if (lf) {
			buf_reset(&out);
			maildir_to_crlf(&eol, buf, (size_t)n, &out);
			rc = store_append_write(ap, out.data, out.len);
			size += out.len;
		} else {
			rc = store_append_write(ap, buf, (size_t)n);
			size += (uint64_t)n;
		}
		if (rc < 0)
			break;
	}
	buf_free(&out);
	if (n < 0 || rc < 0) {
		store_append_abort(&ap);
		close(fd);
		if (n < 0)
			return cli_error("cannot read %s: %s", path,
			    strerror(errno)), -1;
		return cli_error("%s", store_errmsg(im->st)), -1;
	}
	close(fd);
	rc = store_append_commit(&ap, &uid);
	return batch_count(im, rc, size);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files in dir, sorted by name; the caller frees them. */
static int
list_files(const char *dir, char ***names_r, size_t *n_r)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	*names_r = names;
	*n_r = n;
	return 0;
}

static void
free_names(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/*
 * In a folder of message files, which names are messages: "*.eml", and
 * names of digits only (an MH folder). A README or notes beside them are
 * not mail.
 */
static int
message_file_name(const char *path)
{
	const char *base = strrchr(path, '/'), *p;
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && ascii_strcasecmp(base + n - 4, ".eml") == 0)
		return 1;
	for (p = base; *p >= '0' && *p <= '9'; p++)
		;
	return p != base && *p == '\0';
}

static int
import_eml(struct import *im, const char *path)
{
	struct store_append_opts opts = { .skip_duplicate = 1 };
	struct stat sb;
	char **names;
	size_t n, i;
	int64_t mbox;
	int rc = 0;

	if (target_mailbox(im, im->mailbox ? im->mailbox : "INBOX", &mbox) < 0)
		return -1;
	if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
		opts.internaldate = sb.st_mtime;
		return append_file(im, mbox, path, &opts, 1);
	}
	if (list_files(path, &names, &n) < 0)
		return cli_error("cannot read the folder %s: %s", path,
		    strerror(errno)), -1;
	for (i = 0; i < n && rc == 0; i++) {
		if (!message_file_name(names[i]) || stat(names[i], &sb) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		opts.internaldate = sb.st_mtime;
		rc = append_file(im, mbox, names[i], &opts, 1);
	}
	free_names(names, n);
	return rc;
}

/* ---- Maildir and Maildir++ -------------------------------------------------- */

/*
 * The store's flags for a Maildir file name (a path is fine). Maildir's P
 * (passed) has no IMAP system flag: like mbsync, we keep it as the keyword
 * $Forwarded, and *forwarded_r says whether it is set.
 */
static uint32_t
maildir_store_flags(const char *path, size_t *forwarded_r)
{
	const char *base = strrchr(path, '/');
	unsigned f = 0;
	uint32_t flags = 0;

	*forwarded_r = 0;
	if (maildir_name_parse(base ? base + 1 : path, &f, NULL, NULL) < 0)
		return 0;
	*forwarded_r = (f & MAILDIR_PASSED) != 0;
	if (f & MAILDIR_SEEN)
		flags |= STORE_F_SEEN;
	if (f & MAILDIR_REPLIED)
		flags |= STORE_F_ANSWERED;
	if (f & MAILDIR_FLAGGED)
		flags |= STORE_F_FLAGGED;
	if (f & MAILDIR_TRASHED)
		flags |= STORE_F_DELETED;
	if (f & MAILDIR_DRAFT)
		flags |= STORE_F_DRAFT;
	return flags;
}

static int
is_maildir(const char *path)
{
	struct stat sb;
	char *cur = xasprintf("%s/cur", path);
	int yes = stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode);

	free(cur);
	return yes;
}

static int
import_maildir_folder(struct import *im, const char *dir, const char *name)
{
	static const char *const subs[] = { "cur", "new" };
	static const char *const forwarded[] = { "$Forwarded" };
	struct store_append_opts opts = { .skip_duplicate = 1 };
	struct stat sb;
	char **names, *sub;
	size_t n, i, s;
	int64_t mbox;
	int rc = 0;

	if (target_mailbox(im, name, &mbox) < 0)
		return -1;
	for (s = 0; s < ARRAY_SIZE(subs) && rc == 0; s++) {
		sub = xasprintf("%s/%s", dir, subs[s]);
		if (list_files(sub, &names, &n) < 0) {
			free(sub);
			continue;
		}
		for (i = 0; i < n && rc == 0; i++) {
			if (stat(names[i], &sb) < 0 || !S_ISREG(sb.st_mode))
				continue;
			opts.flags = maildir_store_flags(names[i],
			    &opts.nkeywords);
			opts.keywords = opts.nkeywords ? forwarded : NULL;
			opts.internaldate = sb.st_mtime;
			rc = append_file(im, mbox, names[i], &opts, 1);
		}
		free_names(names, n);
		free(sub);
	}
	return rc;
}

static int
import_maildir(struct import *im, const char *path)
{
	DIR *d;
	struct dirent *e;
	char *sub, *name;
	int rc;

	rc = import_maildir_folder(im, path,
	    im->mailbox ? im->mailbox : "INBOX");
	if (rc < 0 || im->mailbox != NULL)
		return rc;
	if ((d = opendir(path)) == NULL)
		return cli_error("cannot read %s: %s", path, strerror(errno)),
		    -1;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		sub = xasprintf("%s/%s", path, e->d_name);
		if (is_maildir(sub)) {
			name = NULL;
			if (maildir_folder_to_mailbox(e->d_name, &name) < 0)
				(void)cli_error("skipping the folder %s: its "
				    "name is not valid Maildir++", sub);
			else
				rc = import_maildir_folder(im, sub, name);
			free(name);
		}
		free(sub);
	}
	closedir(d);
	return rc;
}

/* ---- mbox ----------------------------------------------------------------------- */

/* 1 if the file starts like an mbox (or is empty), checked before the
 * account is made so a wrong file changes nothing. */
static int
looks_like_mbox(const char *path)
{
	char head[5];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	close(fd);
	return n == 0 || (n == 5 && memcmp(head, "From ", 5) == 0);
}

/* 1 if a file (not an mbox) holds one message: it is called *.eml (or
 * a number, as in an MH folder), or its first line is a header field
 * ("Name: value"). */
static int
looks_like_message(const char *path)
{
	char head[256];
	ssize_t n;
	size_t i;
	int fd;

	if (message_file_name(path))
		return 1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, head, sizeof(head));
	close(fd);
	/* RFC 5322 2.2: a field name is printable ASCII but ':'. */
	for (i = 0; n > 0 && i < (size_t)n; i++)
		if (head[i] == ':' || head[i] <= ' ' || head[i] > '~')
			break;
	return n > 0 && i > 0 && i < (size_t)n && head[i] == ':';
}

static int
import_mbox(struct import *im, const char *path)
{
	struct store_append_opts opts = { .skip_duplicate = 1 };
	struct mbox_reader *rd;
	struct mbox_event ev;
	struct store_append *ap = NULL;
	char buf[READ_SIZE], *name;
	uint64_t size = 0;
	uint32_t uid;
	int64_t mbox;
	ssize_t n = 1;
	int fd, rc = 0, r, eof = 0;

	name = im->mailbox != NULL ? xstrdup(im->mailbox) :
	    mbox_mailbox_name(path);
	rc = target_mailbox(im, name, &mbox);
	free(name);
	if (rc < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cli_error("cannot read %s: %s", path, strerror(errno)),
		    -1;
	rd = mbox_reader_new(im->fmt == FMT_MBOXO ? MBOX_MBOXO : MBOX_MBOXRD);
	while (rc == 0) {
		r = mbox_read_next(rd, &ev);
		if (r == 0) {
			if (eof)
				break;
			n = read(fd, buf, sizeof(buf));
			if (n < 0) {
				cli_error("cannot read %s: %s", path,
				    strerror(errno));
				rc = -1;
				break;
			}
			if (n == 0) {
				mbox_reader_finish(rd);
				eof = 1;
			} else {
				mbox_reader_feed(rd, buf, (size_t)n);
				im->done_bytes += (uint64_t)n;
			}
			continue;
		}
		if (r < 0) {
			cli_error("%s is not an mbox file: %s", path,
			    mbox_reader_error(rd));
			rc = -1;
			break;
		}
		switch (ev.type) {
		case MBOX_MSG_BEGIN:
			opts.internaldate = ev.date == (time_t)-1 ? 0 : ev.date;
			size = 0;
			if (batch_begin(im) < 0 ||
			    store_append_begin(im->st, mbox, &opts, &ap) < 0)
				rc = -1;
			break;
		case MBOX_MSG_DATA:
			size += ev.len;
			if (store_append_write(ap, ev.data, ev.len) < 0)
				rc = -1;
			break;
		case MBOX_MSG_END:
			r = store_append_commit(&ap, &uid);
			rc = batch_count(im, r, size) < 0 ? -1 : 0;
			break;
		}
		if (rc < 0 && ap != NULL) {
			cli_error("%s", store_errmsg(im->st));
			store_append_abort(&ap);
		}
	}
	store_append_abort(&ap);
	mbox_reader_free(&rd);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* ---- the command ------------------------------------------------------------------- */

static uint64_t
input_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) ?
	    (uint64_t)sb.st_size : 0;
}

static int
parse_format(const char *v, enum import_format *f_r)
{
	if (strcmp(v, "mbox") == 0 || strcmp(v, "mboxrd") == 0)
		*f_r = FMT_MBOXRD;
	else if (strcmp(v, "mboxo") == 0)
		*f_r = FMT_MBOXO;
	else if (strcmp(v, "maildir") == 0)
		*f_r = FMT_MAILDIR;
	else if (strcmp(v, "eml") == 0)
		*f_r = FMT_EML;
	else
		return -1;
	return 0;
}

/* What a PATH holds when --format does not say; FMT_AUTO if unclear. */
static enum import_format
guess_format(const char *path, const struct stat *sb)
{
	if (S_ISDIR(sb->st_mode))
		return is_maildir(path) ? FMT_MAILDIR : FMT_EML;
	if (looks_like_mbox(path))
		return FMT_MBOXRD;
	if (looks_like_message(path))
		return FMT_EML;
	return FMT_AUTO;
}

/* The totals, then where the messages went, one line per mailbox. */
static void
print_summary(const struct import *im, const char *acct, int rc)
{
	size_t i;

	if (im->o->json) {
		printf("{\"imported\":%llu,\"skipped\":%llu,\"ok\":%s,"
		    "\"mailboxes\":[", (unsigned long long)im->imported,
		    (unsigned long long)im->skipped, rc == 0 ? "true" :
		    "false");
		for (i = 0; i < im->ndests; i++) {
			printf("%s{\"mailbox\":", i > 0 ? "," : "");
			cli_json_string(im->dests[i].name);
			printf(",\"imported\":%llu,\"skipped\":%llu}",
			    (unsigned long long)im->dests[i].imported,
			    (unsigned long long)im->dests[i].skipped);
		}
		printf("]}\n");
		return;
	}
	if (im->o->quiet)
		return;
	printf("%s: %llu imported, %llu skipped (already there)\n",
	    rc == 0 ? "done" : "stopped", (unsigned long long)im->imported,
	    (unsigned long long)im->skipped);
	for (i = 0; i < im->ndests; i++)
		printf("  %s/%s: %llu imported, %llu skipped\n", acct,
		    im->dests[i].name,
		    (unsigned long long)im->dests[i].imported,
		    (unsigned long long)im->dests[i].skipped);
}

static int
open_account(struct import *im, const char *name)
{
	if (store_account_find(im->st, name, &im->acct) == 0)
		return 0;
	if (store_account_create(im->st, name, &im->acct) < 0)
		return cli_error("cannot create the account '%s': %s", name,
		    store_errmsg(im->st)), -1;
	if (!im->o->quiet && !im->o->json)
		printf("Created the local account '%s'.\n", name);
	return 0;
}

int
cli_cmd_import(const struct cli_opts *o, int argc, char **argv)
{
	struct import im = { .o = o, .fmt = FMT_AUTO };
	const char *pos[2], *v;
	struct stat sb;
	size_t j;
	int i, npos = 0, rc;

	for (i = 1; i < argc; i++) {
		if (cli_opt_value(argc, argv, &i, "--mailbox", &v)) {
			if (v[0] == '\0')
				return cli_usage("import", "--mailbox needs "
				    "a name");
			im.mailbox = v;
		} else if (cli_opt_value(argc, argv, &i, "--format", &v)) {
			if (parse_format(v, &im.fmt) < 0)
				return cli_usage("import", "--format takes "
				    "mboxrd, mboxo, maildir or eml, not '%s'",
				    v);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage("import", "unknown option '%s'",
			    argv[i]);
		else if (npos < 2)
			pos[npos++] = argv[i];
		else
			return cli_usage("import", "unexpected '%s'", argv[i]);
	}
	if (npos != 2)
		return cli_usage("import", "give an ACCOUNT and a PATH");
	if (strchr(pos[0], '/') != NULL || pos[0][0] == '\0')
		return cli_usage("import", "an account name cannot be empty "
		    "or contain '/'");
	if (stat(pos[1], &sb) < 0)
		return cli_error("cannot read %s: %s", pos[1], strerror(errno));
	if (im.fmt == FMT_AUTO && (im.fmt = guess_format(pos[1], &sb)) ==
	    FMT_AUTO)
		return cli_error("%s is neither an mbox file (it does not "
		    "begin with a \"From \" line) nor one message (a *.eml "
		    "file, or a header line first); say which with --format",
		    pos[1]);
	if (im.fmt == FMT_MAILDIR && !is_maildir(pos[1]))
		return cli_error("%s is not a Maildir (it has no cur/ "
		    "folder)", pos[1]);
	if ((im.fmt == FMT_MBOXRD || im.fmt == FMT_MBOXO) &&
	    !looks_like_mbox(pos[1]))
		return cli_error("%s is not an mbox file (it does not begin "
		    "with a \"From \" line); for a file holding one message "
		    "use --format eml", pos[1]);
	if (cli_open_store(o, &im.st) < 0)
		return CLI_FAIL;
	if (open_account(&im, pos[0]) < 0) {
		store_close(&im.st);
		return CLI_FAIL;
	}
	im.progress = cli_progress_new(o, "import", input_size(pos[1]));
	if (im.fmt == FMT_MAILDIR)
		rc = import_maildir(&im, pos[1]);
	else if (im.fmt == FMT_EML)
		rc = import_eml(&im, pos[1]);
	else
		rc = import_mbox(&im, pos[1]);
	if (rc == 0)
		rc = batch_flush(&im);
	else if (im.in_txn) {
		/* What failed is rolled back; earlier batches stay. */
		store_txn_rollback(im.st);
		im.in_txn = 0;
	}
	cli_progress_done(&im.progress, NULL);
	print_summary(&im, pos[0], rc);
	store_close(&im.st);
	for (j = 0; j < im.ndests; j++)
		free(im.dests[j].name);
	free(im.dests);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}
