/*
 * cmd_export: write an account's mail out as mboxrd files (one per
 * mailbox, or one file with --mailbox) or as a Maildir++ tree with the
 * flags in the file names. Files on disk get LF line ends; the internal
 * date becomes the From_ line's date or the file's mtime, so importing the
 * export gives the same store contents back.
 *
 * Output is written to a temporary name and renamed into place when
 * complete, so an interrupted export never leaves a half file that looks
 * whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/maildir.h"
#include "lib/mbox.h"
#include "lib/util.h"
#include "store/store.h"

#define CHUNK	65536

struct export {
	const struct cli_opts *o;
	struct store	*st;
	int64_t		 acct;
	struct cli_progress *progress;
	uint64_t	 bytes, messages;
	unsigned long	 counter;	/* for unique Maildir names */
	uint32_t	 forwarded;	/* keyword id of $Forwarded, or 0 */
	char		 host[64];
};

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* mkdir -p for the folders of path (not path itself when file is set). */
static int
make_dirs(const char *path, int file)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!file && mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* ---- mbox ------------------------------------------------------------- */

static int
export_mbox_message(struct export *ex, int fd, const struct store_msg *m)
{
	struct mbox_writer *w = mbox_writer_new();
	struct store_reader *rd = NULL;
	struct mime_part *root = NULL;
	struct buf out;
	char buf[CHUNK], *sender;
	ssize_t n = 0;
	int rc = -1;

	buf_init(&out, 2 * CHUNK + 4096);
	if (store_content_mime(ex->st, m->content, &root) == 0 &&
	    root->header != NULL)
		sender = mbox_sender_from_header(root->header, root->hdr_len);
	else
		sender = xstrdup("MAILER-DAEMON");
	mime_part_free(&root);
	if (store_reader_open(ex->st, m->content, &rd) < 0)
		goto done;
	if (mbox_writer_begin(w, sender, (time_t)m->internaldate, &out) < 0)
		goto done;
	while ((n = store_reader_read(rd, buf, sizeof(buf))) > 0) {
		if (mbox_writer_write(w, buf, (size_t)n, &out) < 0 ||
		    write_all(fd, out.data, out.len) < 0)
			goto done;
		buf_reset(&out);
		ex->bytes += (uint64_t)n;
	}
	if (n < 0 || mbox_writer_end(w, &out) < 0 ||
	    write_all(fd, out.data, out.len) < 0)
		goto done;
	rc = 0;
done:
	if (rc < 0 && n >= 0 && rd != NULL && errno != 0)
		cli_error("cannot write the export: %s", strerror(errno));
	else if (rc < 0)
		cli_error("%s", store_errmsg(ex->st));
	store_reader_close(&rd);
	mbox_writer_free(&w);
	buf_free(&out);
	free(sender);
	return rc;
}

static int
export_mbox_file(struct export *ex, int64_t mbox, const char *path)
{
	struct store_msg *m;
	size_t n, i;
	char *tmp;
	int fd, rc = 0;

	if (store_msg_list(ex->st, mbox, 0, &m, &n) < 0)
		return cli_error("%s", store_errmsg(ex->st)), -1;
	if (make_dirs(path, 1) < 0) {
		free(m);
		return cli_error("cannot create the folders for %s: %s", path,
		    strerror(errno)), -1;
	}
	tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = cli_error("cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		errno = 0;
		rc = export_mbox_message(ex, fd, &m[i]);
		ex->messages++;
		cli_progress_update(ex->progress, ex->bytes, ex->messages);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = cli_error("cannot write %s: %s", tmp, strerror(errno));
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = cli_error("cannot create %s: %s", path, strerror(errno));
	if (rc != 0)
		unlink(tmp);
out:
	free(tmp);
	free(m);
	return rc ? -1 : 0;
}

/* ---- Maildir -------------------------------------------------------------- */

/* Maildir letters for a message; $Forwarded becomes P (see cmd_import). */
static unsigned
maildir_flags(const struct export *ex, const struct store_msg *m)
{
	uint32_t f = m->flags, i;
	unsigned passed = 0;

	for (i = 0; i < m->nkw && ex->forwarded != 0; i++)
		if (m->kw[i] == ex->forwarded)
			passed = MAILDIR_PASSED;
	return passed | ((f & STORE_F_SEEN) ? MAILDIR_SEEN : 0) |
	    ((f & STORE_F_ANSWERED) ? MAILDIR_REPLIED : 0) |
	    ((f & STORE_F_FLAGGED) ? MAILDIR_FLAGGED : 0) |
	    ((f & STORE_F_DELETED) ? MAILDIR_TRASHED : 0) |
	    ((f & STORE_F_DRAFT) ? MAILDIR_DRAFT : 0);
}

static int
export_maildir_message(struct export *ex, const char *dir,
    const struct store_msg *m)
{
	struct store_reader *rd = NULL;
	struct maildir_eol eol = { 0 };
	struct timespec ts[2];
	struct buf out;
	char buf[CHUNK], *name, *tmp, *dst;
	ssize_t n;
	int fd, rc = -1;

	name = maildir_name_new((time_t)m->internaldate, 0, (long)getpid(),
	    ++ex->counter, ex->host, (uint64_t)-1, 1, maildir_flags(ex, m),
	    0);
	tmp = xasprintf("%s/tmp/%s", dir, name);
	dst = xasprintf("%s/cur/%s", dir, name);
	buf_init(&out, 2 * CHUNK + 16);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_error("cannot create %s: %s", tmp, strerror(errno));
		goto done;
	}
	if (store_reader_open(ex->st, m->content, &rd) < 0) {
		cli_error("%s", store_errmsg(ex->st));
		goto done;
	}
	while ((n = store_reader_read(rd, buf, sizeof(buf))) > 0) {
		buf_reset(&out);
		maildir_to_lf(&eol, buf, (size_t)n, &out);
		if (write_all(fd, out.data, out.len) < 0)
			break;
		ex->bytes += (uint64_t)n;
	}
	buf_reset(&out);
	maildir_to_lf_end(&eol, &out);
	if (n != 0 || write_all(fd, out.data, out.len) < 0) {
		cli_error(n < 0 ? "%s" : "cannot write %s", n < 0 ?
		    store_errmsg(ex->st) : tmp);
		goto done;
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)m->internaldate;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	futimens(fd, ts);
	if (rename(tmp, dst) < 0) {
		cli_error("cannot create %s: %s", dst, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	store_reader_close(&rd);
	buf_free(&out);
	free(name);
	free(tmp);
	free(dst);
	return rc;
}

static int
export_maildir_folder(struct export *ex, int64_t mbox, const char *dir)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	struct store_msg *m;
	size_t n, i;
	char *sub;
	int rc = 0;

	for (i = 0; i < ARRAY_SIZE(subs); i++) {
		sub = xasprintf("%s/%s", dir, subs[i]);
		if (make_dirs(sub, 0) < 0)
			rc = cli_error("cannot create %s: %s", sub,
			    strerror(errno));
		free(sub);
		if (rc != 0)
			return -1;
	}
	if (store_msg_list(ex->st, mbox, 0, &m, &n) < 0)
		return cli_error("%s", store_errmsg(ex->st)), -1;
	for (i = 0; i < n && rc == 0; i++) {
		rc = export_maildir_message(ex, dir, &m[i]);
		ex->messages++;
		cli_progress_update(ex->progress, ex->bytes, ex->messages);
	}
	free(m);
	return rc;
}

/* ---- the command ---------------------------------------------------------- */

static int
export_one(struct export *ex, const struct store_mailbox *mb,
    const char *path, int maildir, int single)
{
	char *target, *folder;
	int rc;

	if (single)
		return maildir ? export_maildir_folder(ex, mb->id, path) :
		    export_mbox_file(ex, mb->id, path);
	if (!maildir) {
		target = xasprintf("%s/%s.mbox", path, mb->name);
		rc = export_mbox_file(ex, mb->id, target);
		free(target);
		return rc;
	}
	if (strcmp(mb->name, "INBOX") == 0)
		return export_maildir_folder(ex, mb->id, path);
	if (maildir_mailbox_to_folder(mb->name, &folder) < 0) {
		fprintf(stderr, "mailvault: skipping the mailbox '%s': its "
		    "name cannot be a Maildir++ folder (it has a '.')\n",
		    mb->name);
		return 0;
	}
	target = xasprintf("%s/%s", path, folder);
	rc = export_maildir_folder(ex, mb->id, target);
	free(target);
	free(folder);
	return rc;
}

int
cli_cmd_export(const struct cli_opts *o, int argc, char **argv)
{
	struct export ex = { .o = o };
	struct store_mailbox *mbs = NULL, one;
	const char *pos[2], *v, *mailbox = NULL;
	size_t n = 0, i;
	int j, npos = 0, maildir = 0, rc = 0;
	char summary[128];

	for (j = 1; j < argc; j++) {
		if (cli_opt_value(argc, argv, &j, "--mailbox", &v))
			mailbox = v;
		else if (cli_opt_value(argc, argv, &j, "--format", &v)) {
			if (strcmp(v, "maildir") == 0)
				maildir = 1;
			else if (strcmp(v, "mbox") != 0 &&
			    strcmp(v, "mboxrd") != 0)
				return cli_usage("export", "--format takes mbox "
				    "or maildir, not '%s'", v);
		} else if (argv[j][0] == '-' && argv[j][1] != '\0')
			return cli_usage("export", "unknown option '%s'",
			    argv[j]);
		else if (npos < 2)
			pos[npos++] = argv[j];
		else
			return cli_usage("export", "unexpected '%s'", argv[j]);
	}
	if (npos != 2)
		return cli_usage("export", "give an ACCOUNT and a PATH");
	if (cli_open_store(o, &ex.st) < 0)
		return CLI_FAIL;
	if (gethostname(ex.host, sizeof(ex.host)) < 0)
		snprintf(ex.host, sizeof(ex.host), "localhost");
	ex.host[sizeof(ex.host) - 1] = '\0';
	if (store_account_find(ex.st, pos[0], &ex.acct) < 0) {
		store_close(&ex.st);
		return cli_error("there is no account '%s': 'mailvault ls' "
		    "lists them", pos[0]);
	}
	if (store_keyword_id(ex.st, ex.acct, "$Forwarded", 0,
	    &ex.forwarded) < 0)
		ex.forwarded = 0;
	ex.progress = cli_progress_new(o, "export", 0);
	if (mailbox != NULL) {
		if (store_mailbox_find(ex.st, ex.acct, mailbox, &one) < 0)
			rc = cli_error("account '%s' has no mailbox '%s'",
			    pos[0], mailbox);
		else {
			rc = export_one(&ex, &one, pos[1], maildir, 1);
			store_mailbox_clear(&one);
		}
	} else if (store_mailbox_list(ex.st, ex.acct, 0, &mbs, &n) < 0)
		rc = cli_error("%s", store_errmsg(ex.st));
	for (i = 0; i < n && rc == 0; i++)
		rc = export_one(&ex, &mbs[i], pos[1], maildir, 0);
	store_mailbox_list_free(&mbs, n);
	snprintf(summary, sizeof(summary), "%s: %llu messages exported",
	    rc == 0 ? "done" : "stopped", (unsigned long long)ex.messages);
	cli_progress_done(&ex.progress, o->quiet || o->json ? NULL : summary);
	store_close(&ex.st);
	return rc == 0 ? CLI_OK : CLI_FAIL;
}
