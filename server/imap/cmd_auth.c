/*
 * cmd_auth: the commands of the authenticated state (RFC 3501 6.3) that
 * work on mailboxes as a whole: SELECT and EXAMINE (with CONDSTORE and
 * QRESYNC parameters, RFC 7162), CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, STATUS, NAMESPACE (RFC 2342), ENABLE (RFC 5161), and at
 * the end LIST and LSUB with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC
 * 5819) and SPECIAL-USE (RFC 6154).
 *
 * Mailbox names are UTF-8 inside and modified UTF-7 on the wire; the
 * hierarchy delimiter is '/', and there is one personal namespace "".
 */
#include "server/imap/imapd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imap_seqset.h"
#include "lib/utf7.h"
#include "lib/util.h"

#define LIST_MAX_PATTERNS	32
#define VANISHED_LINE_MAX	(16 * 1024 * 1024)

/* Find a mailbox by name; NO [NONEXISTENT] (c set) when there is none. */
static int
find_mailbox(struct imapd_session *s, struct imapd_cmdctx *c,
    const char *name, struct store_mailbox *mb)
{
	int rc = store_mailbox_find(s->st, s->acct, name, mb);

	if (rc == STORE_ENOENT)
		return imapd_no(c, "NONEXISTENT", "Mailbox doesn't exist: "
		    "%.200s", name);
	if (rc != 0)
		return imapd_no_store(s, c, rc);
	return 0;
}

/* ---- SELECT / EXAMINE ------------------------------------------------------ */

struct qresync_arg {
	int		 given;
	uint32_t	 uidvalidity;
	uint64_t	 modseq;
	char		*known;		/* known-uids, or NULL */
};

/* Read a number atom into *v (at most max). 0 or IMAPD_BAD. */
static int
read_number(struct imapd_session *s, struct imapd_cmdctx *c, uint64_t max,
    uint64_t *v)
{
	struct imap_tok tok;

	if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_ATOM ||
	    parse_u64(tok.s, max, v) < 0)
		return imapd_bad(c, "Expected a number.");
	return 0;
}

/* "(uidvalidity modseq [known-uids [(seqs uids)]])" after QRESYNC. */
static int
read_qresync(struct imapd_session *s, struct imapd_cmdctx *c,
    struct qresync_arg *q)
{
	struct imap_tok tok;
	uint64_t v;
	int depth;

	if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_LPAREN)
		return imapd_bad(c, "QRESYNC needs a parenthesized list.");
	if (read_number(s, c, UINT32_MAX, &v) != 0 || v == 0)
		return imapd_bad(c, "QRESYNC needs a UIDVALIDITY.");
	q->uidvalidity = (uint32_t)v;
	if (read_number(s, c, INT64_MAX, &q->modseq) != 0 || q->modseq == 0)
		return imapd_bad(c, "QRESYNC needs a MODSEQ.");
	q->given = 1;
	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad QRESYNC parameter.");
	if (tok.kind == IMAP_TOK_RPAREN)
		return 0;
	if (tok.kind == IMAP_TOK_ATOM) {
		q->known = xstrdup(tok.s);
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad QRESYNC parameter.");
	}
	/* The sequence match data only helps a server without
	 * tombstones; ours has them, so it is read and ignored. */
	for (depth = 0; tok.kind == IMAP_TOK_LPAREN || depth > 0;) {
		if (tok.kind == IMAP_TOK_LPAREN)
			depth++;
		else if (tok.kind == IMAP_TOK_RPAREN)
			depth--;
		else if (tok.kind != IMAP_TOK_ATOM)
			return imapd_bad(c, "Bad QRESYNC parameter.");
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad QRESYNC parameter.");
	}
	if (tok.kind != IMAP_TOK_RPAREN)
		return imapd_bad(c, "Bad QRESYNC parameter.");
	return 0;
}

static int
read_select_params(struct imapd_session *s, struct imapd_cmdctx *c,
    int *condstore, struct qresync_arg *q)
{
	struct imap_tok tok;
	int rc;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad SELECT parameters.");
	if (tok.kind == IMAP_TOK_CRLF)
		return 0;
	if (tok.kind != IMAP_TOK_LPAREN || tok.sp == 0)
		return imapd_bad(c, "Bad SELECT parameters.");
	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad SELECT parameters.");
		if (tok.kind == IMAP_TOK_RPAREN)
			break;
		if (imap_tok_atom_is(&tok, "CONDSTORE"))
			*condstore = 1;
		else if (imap_tok_atom_is(&tok, "QRESYNC")) {
			if (!s->qresync)
				return imapd_bad(c, "QRESYNC is not enabled "
				    "(ENABLE QRESYNC first).");
			if ((rc = read_qresync(s, c, q)) != 0)
				return rc;
		} else
			return imapd_bad(c, "Unknown SELECT parameter.");
	}
	return imapd_arg_end(s, c);
}

/* QRESYNC: what vanished and what changed since the client's state. */
static int
qresync_report(struct imapd_session *s, const struct qresync_arg *q)
{
	struct imapd_view *v = s->view;
	struct imap_seqset *known = NULL;
	uint32_t *uids = NULL;
	size_t n = 0, i, k = 0;
	struct buf b;
	int rc;

	if (q->uidvalidity != v->uidvalidity)
		return 0;
	if (q->known != NULL && imap_seqset_parse(q->known, v->uidnext,
	    &known, NULL, 0) != 0)
		known = NULL;
	rc = store_msg_vanished(s->st, v->mbox, q->modseq, &uids, &n);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (known == NULL || imap_seqset_contains(known, uids[i]))
			uids[k++] = uids[i];
	imap_seqset_free(&known);
	if (k > 0) {
		buf_init(&b, VANISHED_LINE_MAX);
		buf_adds(&b, "* VANISHED (EARLIER) ");
		if (imap_seqset_format(uids, k, &b) == 0) {
			buf_adds(&b, "\r\n");
			imapd_write(s, b.data, b.len);
		}
		buf_free(&b);
	}
	free(uids);
	for (i = 0; i < v->n; i++)
		if (v->msgs[i].modseq > q->modseq &&
		    imapd_view_fetch_flags(s, i,
		    IMAPD_FF_UID | IMAPD_FF_FLAGS_FIRST) < 0)
			return -1;
	return 0;
}

static int
write_select(struct imapd_session *s)
{
	struct imapd_view *v = s->view;
	size_t i;

	imapd_view_write_flags(s);
	imapd_printf(s, "* %zu EXISTS\r\n* %u RECENT\r\n", v->n, v->nrecent);
	for (i = 0; i < v->n; i++) {
		if (!(v->msgs[i].flags & STORE_F_SEEN)) {
			imapd_printf(s, "* OK [UNSEEN %zu] First unseen.\r\n",
			    i + 1);
			break;
		}
	}
	imapd_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n"
	    "* OK [UIDNEXT %u] Predicted next UID\r\n", v->uidvalidity,
	    v->uidnext);
	if (s->condstore)
		imapd_printf(s, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
		    (unsigned long long)v->modseq);
	return s->dead ? -1 : 0;
}

static int
select_common(struct imapd_session *s, struct imapd_cmdctx *c, int readonly)
{
	struct qresync_arg q = { 0, 0, 0, NULL };
	struct store_mailbox mb;
	int condstore = 0, rc;
	char *name = NULL;

	rc = imapd_arg_mailbox(s, c, &name);
	if (rc == 0)
		rc = read_select_params(s, c, &condstore, &q);
	if (rc != 0)
		goto out;
	/* Whatever happens next, the old mailbox is closed (RFC 3501).
	 * [CLOSED] is for QRESYNC clients (RFC 7162 3.2.11); like Dovecot
	 * we tell every client, since others ignore unknown codes. */
	if (s->view != NULL) {
		imapd_unselect(s);
		imapd_puts(s, "* OK [CLOSED] Previous mailbox closed.\r\n");
	}
	if ((rc = find_mailbox(s, c, name, &mb)) != 0)
		goto out;
	rc = imapd_view_open(s, &mb, readonly, &s->view);
	store_mailbox_clear(&mb);
	if (rc != 0) {
		rc = imapd_no_store(s, c, rc);
		goto out;
	}
	s->state = IMAPD_S_SELECTED;
	if (condstore)
		s->condstore = 1;
	if (write_select(s) < 0 || (q.given && qresync_report(s, &q) != 0)) {
		rc = s->dead ? IMAPD_CLOSE : imapd_no_store(s, c, STORE_ERR);
		goto out;
	}
	rc = imapd_ok(c, readonly ? "READ-ONLY" : "READ-WRITE", "%s "
	    "completed.", readonly ? "Examine" : "Select");
out:
	free(name);
	free(q.known);
	return rc;
}

int
imapd_cmd_select(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return select_common(s, c, 0);
}

int
imapd_cmd_examine(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return select_common(s, c, 1);
}

/* ---- CREATE, DELETE, RENAME, (UN)SUBSCRIBE -------------------------------- */

/* SPECIAL-USE attributes (RFC 6154) and their store bits. */
static const struct {
	unsigned	 bit;
	const char	*attr;
} special_uses[] = {
	{ STORE_SU_ALL, "\\All" },
	{ STORE_SU_ARCHIVE, "\\Archive" },
	{ STORE_SU_DRAFTS, "\\Drafts" },
	{ STORE_SU_FLAGGED, "\\Flagged" },
	{ STORE_SU_JUNK, "\\Junk" },
	{ STORE_SU_SENT, "\\Sent" },
	{ STORE_SU_TRASH, "\\Trash" },
};

/* Read one mailbox name and the end of the line. */
static int
one_mailbox(struct imapd_session *s, struct imapd_cmdctx *c, char **name_r)
{
	int rc = imapd_arg_mailbox(s, c, name_r);

	if (rc != 0)
		return rc;
	if ((rc = imapd_arg_end(s, c)) != 0) {
		free(*name_r);
		*name_r = NULL;
	}
	return rc;
}

/*
 * CREATE's optional "(USE (\\Sent ...))" (RFC 6154 CREATE-SPECIAL-USE),
 * then the end of the line. 0, IMAPD_BAD, or IMAPD_NO [USEATTR].
 */
static int
read_create_params(struct imapd_session *s, struct imapd_cmdctx *c,
    unsigned *use)
{
	struct imap_tok tok;
	size_t i;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad CREATE parameters.");
	if (tok.kind == IMAP_TOK_CRLF)
		return 0;
	if (tok.kind != IMAP_TOK_LPAREN || tok.sp == 0 ||
	    imapd_tok(s, &tok) < 0 || !imap_tok_atom_is(&tok, "USE") ||
	    imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_LPAREN)
		return imapd_bad(c, "Bad CREATE parameters.");
	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad USE list.");
		if (tok.kind == IMAP_TOK_RPAREN)
			break;
		for (i = 0; i < ARRAY_SIZE(special_uses); i++)
			if (imap_tok_atom_is(&tok, special_uses[i].attr))
				break;
		if (i == ARRAY_SIZE(special_uses))
			return imapd_no(c, "USEATTR", "Unknown special-use "
			    "attribute.");
		*use |= special_uses[i].bit;
	}
	if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_RPAREN)
		return imapd_bad(c, "Bad CREATE parameters.");
	return imapd_arg_end(s, c);
}

int
imapd_cmd_create(struct imapd_session *s, struct imapd_cmdctx *c)
{
	unsigned use = 0;
	char *name;
	size_t len;
	int rc;

	if ((rc = imapd_arg_mailbox(s, c, &name)) != 0)
		return rc;
	if ((rc = read_create_params(s, c, &use)) != 0) {
		free(name);
		return rc;
	}
	/* "foo/" means the client plans children under foo. */
	len = strlen(name);
	if (len > 1 && name[len - 1] == '/')
		name[len - 1] = '\0';
	if (strcmp(name, "INBOX") == 0)
		rc = imapd_no(c, "ALREADYEXISTS", "Mailbox already exists");
	else if ((rc = store_mailbox_create(s->st, s->acct, name, use,
	    NULL)) == STORE_EEXIST)
		rc = imapd_no(c, "ALREADYEXISTS", "Mailbox already exists");
	else if (rc != 0)
		rc = imapd_no_store(s, c, rc);
	else
		rc = imapd_ok(c, NULL, "Create completed.");
	free(name);
	return rc;
}

int
imapd_cmd_delete(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct store_mailbox mb;
	char *name;
	int rc;

	if ((rc = one_mailbox(s, c, &name)) != 0)
		return rc;
	if (strcmp(name, "INBOX") == 0) {
		rc = imapd_no(c, "CANNOT", "INBOX can't be deleted.");
		goto out;
	}
	if ((rc = find_mailbox(s, c, name, &mb)) != 0)
		goto out;
	/* Children stay (RFC 3501 6.3.4): the name then lists as
	 * \Noselect while it has any (see add_implied). */
	if ((rc = store_mailbox_delete(s->st, mb.id)) != 0)
		rc = imapd_no_store(s, c, rc);
	else {
		if (s->view != NULL && s->view->mbox == mb.id)
			imapd_unselect(s);
		rc = imapd_ok(c, NULL, "Delete completed.");
	}
	store_mailbox_clear(&mb);
out:
	free(name);
	return rc;
}

/* RFC 3501 6.3.5: renaming INBOX moves its messages to a new mailbox
 * and leaves INBOX empty. */
static int
rename_inbox(struct imapd_session *s, struct imapd_cmdctx *c, const char *to)
{
	struct store_mailbox inbox;
	struct store_msg *msgs = NULL;
	uint32_t *uids = NULL, *newuids = NULL;
	size_t n = 0, i;
	int64_t dest;
	int rc;

	if ((rc = find_mailbox(s, c, "INBOX", &inbox)) != 0)
		return rc;
	rc = store_mailbox_create(s->st, s->acct, to, 0, &dest);
	if (rc == STORE_EEXIST) {
		store_mailbox_clear(&inbox);
		return imapd_no(c, "ALREADYEXISTS", "Target mailbox already "
		    "exists");
	}
	if (rc == 0)
		rc = store_msg_list(s->st, inbox.id, 0, &msgs, &n);
	if (rc == 0 && n > 0) {
		uids = xreallocarray(NULL, n, sizeof(*uids));
		newuids = xreallocarray(NULL, n, sizeof(*newuids));
		for (i = 0; i < n; i++)
			uids[i] = msgs[i].uid;
		rc = store_msg_move(s->st, inbox.id, uids, n, dest, newuids);
	}
	free(msgs);
	free(uids);
	free(newuids);
	store_mailbox_clear(&inbox);
	if (rc != 0)
		return imapd_no_store(s, c, rc);
	return imapd_ok(c, NULL, "Rename completed.");
}

int
imapd_cmd_rename(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct store_mailbox mb;
	char *from = NULL, *to = NULL;
	int rc;

	rc = imapd_arg_mailbox(s, c, &from);
	if (rc == 0)
		rc = imapd_arg_mailbox(s, c, &to);
	if (rc == 0)
		rc = imapd_arg_end(s, c);
	if (rc != 0)
		goto out;
	if (strcmp(from, "INBOX") == 0) {
		rc = rename_inbox(s, c, to);
		goto out;
	}
	if ((rc = find_mailbox(s, c, from, &mb)) != 0)
		goto out;
	rc = store_mailbox_rename(s->st, s->acct, from, to);
	if (rc == STORE_EEXIST)
		rc = imapd_no(c, "ALREADYEXISTS", "Target mailbox already "
		    "exists");
	else if (rc != 0)
		rc = imapd_no_store(s, c, rc);
	else {
		/* The selected mailbox may be one of those renamed. */
		if (s->view != NULL && s->view->mbox == mb.id) {
			free(s->view->name);
			s->view->name = xstrdup(to);
		}
		rc = imapd_ok(c, NULL, "Rename completed.");
	}
	store_mailbox_clear(&mb);
out:
	free(from);
	free(to);
	return rc;
}

static int
subscribe(struct imapd_session *s, struct imapd_cmdctx *c, int on)
{
	struct store_mailbox mb;
	char *name;
	int rc;

	if ((rc = one_mailbox(s, c, &name)) != 0)
		return rc;
	if ((rc = find_mailbox(s, c, name, &mb)) == 0) {
		rc = store_mailbox_subscribe(s->st, mb.id, on);
		rc = rc != 0 ? imapd_no_store(s, c, rc) : imapd_ok(c, NULL,
		    "%s completed.", on ? "Subscribe" : "Unsubscribe");
		store_mailbox_clear(&mb);
	}
	free(name);
	return rc;
}

int
imapd_cmd_subscribe(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return subscribe(s, c, 1);
}

int
imapd_cmd_unsubscribe(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return subscribe(s, c, 0);
}

/* ---- STATUS ------------------------------------------------------------------- */

enum {
	ST_MESSAGES = 1 << 0,
	ST_RECENT = 1 << 1,
	ST_UIDNEXT = 1 << 2,
	ST_UIDVALIDITY = 1 << 3,
	ST_UNSEEN = 1 << 4,
	ST_HIGHESTMODSEQ = 1 << 5,
};

static const struct {
	const char	*name;
	unsigned	 bit;
} status_items[] = {
	{ "MESSAGES", ST_MESSAGES },
	{ "RECENT", ST_RECENT },
	{ "UIDNEXT", ST_UIDNEXT },
	{ "UIDVALIDITY", ST_UIDVALIDITY },
	{ "UNSEEN", ST_UNSEEN },
	{ "HIGHESTMODSEQ", ST_HIGHESTMODSEQ },
};

/* Read "(item ...)" into an ordered list of bits. The '(' may have been
 * read already (have_paren). */
static int
read_status_items(struct imapd_session *s, struct imapd_cmdctx *c,
    int have_paren, unsigned *order, size_t *n_r)
{
	struct imap_tok tok;
	size_t n = 0, i;

	if (!have_paren && (imapd_tok(s, &tok) < 0 ||
	    tok.kind != IMAP_TOK_LPAREN || tok.sp == 0))
		return imapd_bad(c, "STATUS needs a list of items.");
	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad STATUS item.");
		if (tok.kind == IMAP_TOK_RPAREN)
			break;
		for (i = 0; i < ARRAY_SIZE(status_items); i++)
			if (imap_tok_atom_is(&tok, status_items[i].name))
				break;
		if (i == ARRAY_SIZE(status_items))
			return imapd_bad(c, "Unknown STATUS item.");
		if (n < 16)
			order[n++] = status_items[i].bit;
	}
	if (n == 0)
		return imapd_bad(c, "STATUS needs at least one item.");
	*n_r = n;
	return 0;
}

/* Write "* STATUS name (...)" for mailbox id. */
static int
write_status(struct imapd_session *s, int64_t id, const char *name,
    const unsigned *order, size_t n)
{
	struct store_mailbox mb;
	struct buf b;
	size_t i;
	int rc;

	if ((rc = store_mailbox_status(s->st, id, &mb)) != 0)
		return rc;
	buf_init(&b, 64 * 1024);
	buf_adds(&b, "* STATUS ");
	imapd_add_mailbox(&b, name);
	buf_adds(&b, " (");
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(&b, ' ');
		switch (order[i]) {
		case ST_MESSAGES:
			buf_printf(&b, "MESSAGES %u", mb.messages);
			break;
		case ST_RECENT:
			buf_printf(&b, "RECENT %u", mb.recent);
			break;
		case ST_UIDNEXT:
			buf_printf(&b, "UIDNEXT %u", mb.uidnext);
			break;
		case ST_UIDVALIDITY:
			buf_printf(&b, "UIDVALIDITY %u", mb.uidvalidity);
			break;
		case ST_UNSEEN:
			buf_printf(&b, "UNSEEN %u", mb.unseen);
			break;
		case ST_HIGHESTMODSEQ:
			buf_printf(&b, "HIGHESTMODSEQ %llu",
			    (unsigned long long)mb.highestmodseq);
			break;
		}
	}
	buf_adds(&b, ")\r\n");
	imapd_write(s, b.data, b.len);
	buf_free(&b);
	store_mailbox_clear(&mb);
	return 0;
}

int
imapd_cmd_status(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct store_mailbox mb;
	unsigned order[16];
	char *name = NULL;
	size_t n = 0, i;
	int rc;

	rc = imapd_arg_mailbox(s, c, &name);
	if (rc == 0)
		rc = read_status_items(s, c, 0, order, &n);
	if (rc == 0)
		rc = imapd_arg_end(s, c);
	if (rc == 0 && (rc = find_mailbox(s, c, name, &mb)) == 0) {
		for (i = 0; i < n; i++)
			if (order[i] == ST_HIGHESTMODSEQ)
				imapd_enable_condstore(s);
		rc = write_status(s, mb.id, mb.name, order, n);
		rc = rc != 0 ? imapd_no_store(s, c, rc) :
		    imapd_ok(c, NULL, "Status completed.");
		store_mailbox_clear(&mb);
	}
	free(name);
	return rc;
}

/* ---- NAMESPACE, ENABLE --------------------------------------------------------- */

int
imapd_cmd_namespace(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	imapd_puts(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	return imapd_ok(c, NULL, "Namespace completed.");
}

int
imapd_cmd_enable(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct imap_tok tok;
	int condstore = 0, qresync = 0, any = 0, was_condstore, was_qresync;

	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad ENABLE argument.");
		if (tok.kind == IMAP_TOK_CRLF)
			break;
		if (tok.kind != IMAP_TOK_ATOM || tok.sp == 0)
			return imapd_bad(c, "Bad ENABLE argument.");
		any = 1;
		if (imap_tok_atom_is(&tok, "CONDSTORE"))
			condstore = 1;
		else if (imap_tok_atom_is(&tok, "QRESYNC"))
			qresync = 1;
	}
	if (!any)
		return imapd_bad(c, "ENABLE needs at least one capability.");
	/* Dovecot tells HIGHESTMODSEQ (when a mailbox is selected) before
	 * ENABLED; so do we. */
	was_condstore = s->condstore;
	was_qresync = s->qresync;
	if (condstore || qresync)
		imapd_enable_condstore(s);
	if (qresync)
		s->qresync = 1;
	imapd_puts(s, "* ENABLED");
	if (condstore && !was_condstore)
		imapd_puts(s, " CONDSTORE");
	if (qresync && !was_qresync)
		imapd_puts(s, " QRESYNC");
	imapd_puts(s, "\r\n");
	return imapd_ok(c, NULL, "Enabled.");
}

/* ---- LIST and LSUB ------------------------------------------------------------ */

enum {
	SEL_SUBSCRIBED = 1 << 0,
	SEL_RECURSIVE = 1 << 1,
	SEL_SPECIAL = 1 << 2,
	RET_SUBSCRIBED = 1 << 3,
	RET_CHILDREN = 1 << 4,
	RET_SPECIAL = 1 << 5,
	RET_STATUS = 1 << 6,
	RET_GIVEN = 1 << 7,
	LIST_LSUB = 1 << 8,
};

struct list_req {
	unsigned	 opts;
	char		*pat[LIST_MAX_PATTERNS];	/* UTF-8, ref joined */
	size_t		 npat;
	unsigned	 status[16];
	size_t		 nstatus;
};

/*
 * Does name match the list pattern? '*' matches anything, '%' anything
 * but the delimiter. Dynamic programming over the pattern, so no
 * pattern can make it slow: O(|pattern| * |name|).
 */
static int
list_match(const char *pat, const char *name)
{
	size_t plen = strlen(pat), j;
	unsigned char cur[1024 + 1], next[1024 + 1];
	const char *c;

	if (plen > 1024)
		return 0;
	memset(cur, 0, plen + 1);
	cur[0] = 1;
	for (j = 0; j < plen; j++)
		if (cur[j] && (pat[j] == '*' || pat[j] == '%'))
			cur[j + 1] = 1;
	for (c = name; *c != '\0'; c++) {
		memset(next, 0, plen + 1);
		for (j = 0; j < plen; j++) {
			if (!cur[j])
				continue;
			if (pat[j] == '*' || (pat[j] == '%' && *c != '/'))
				next[j] = 1;
			else if (pat[j] == *c)
				next[j + 1] = 1;
		}
		for (j = 0; j < plen; j++)
			if (next[j] && (pat[j] == '*' || pat[j] == '%'))
				next[j + 1] = 1;
		memcpy(cur, next, plen + 1);
	}
	return cur[plen];
}

static int
list_matches(const struct list_req *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->npat; i++)
		if (list_match(r->pat[i], name))
			return 1;
	return 0;
}


static void
add_attr(struct buf *b, const char *attr)
{
	if (b->data[b->len - 1] != '(')
		buf_addc(b, ' ');
	buf_adds(b, attr);
}

/* One LIST / LSUB line (and its STATUS). */
static int
list_line(struct imapd_session *s, const struct list_req *r,
    const struct store_mailbox *mb, const char *name, int kids, int subkids,
    int noselect)
{
	unsigned o = r->opts;
	struct buf b;
	size_t i;
	int rc;

	buf_init(&b, 64 * 1024);
	buf_printf(&b, "* %s (", (o & LIST_LSUB) ? "LSUB" : "LIST");
	if (noselect)
		add_attr(&b, "\\Noselect");
	/* LSUB says only \Noselect, as RFC 3501 and Dovecot do. */
	if (!(o & LIST_LSUB) && (!(o & RET_GIVEN) || (o & RET_CHILDREN)))
		add_attr(&b, kids ? "\\HasChildren" : "\\HasNoChildren");
	if (!(o & LIST_LSUB) && mb != NULL && mb->subscribed &&
	    (o & (SEL_SUBSCRIBED | RET_SUBSCRIBED)))
		add_attr(&b, "\\Subscribed");
	if (!(o & LIST_LSUB) && mb != NULL && (!(o & RET_GIVEN) ||
	    (o & (RET_SPECIAL | SEL_SPECIAL))))
		for (i = 0; i < ARRAY_SIZE(special_uses); i++)
			if (mb->special_use & special_uses[i].bit)
				add_attr(&b, special_uses[i].attr);
	buf_adds(&b, ") \"/\" ");
	imapd_add_mailbox(&b, name);
	if ((o & SEL_RECURSIVE) && subkids && (mb == NULL || !mb->subscribed))
		buf_adds(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	buf_adds(&b, "\r\n");
	rc = imapd_write(s, b.data, b.len);
	buf_free(&b);
	if (rc == 0 && (o & RET_STATUS) && mb != NULL && !noselect)
		rc = write_status(s, mb->id, name, r->status, r->nstatus);
	return rc;
}

/* children[i]: some mailbox is below i; subkids[i]: a subscribed one. */
static void
list_children(const struct store_mailbox *v, size_t n, unsigned char *kids,
    unsigned char *subkids)
{
	size_t i, j, len;

	for (i = 0; i < n; i++) {
		len = strlen(v[i].name);
		for (j = 0; j < n; j++) {
			if (j == i || strncmp(v[j].name, v[i].name, len) != 0 ||
			    v[j].name[len] != '/')
				continue;
			kids[i] = 1;
			if (v[j].subscribed)
				subkids[i] = 1;
		}
	}
}

/*
 * LSUB: a parent that is not subscribed but matches, of a subscribed
 * mailbox that the pattern does not reach (as "%" stops at a level),
 * shows as \Noselect (RFC 3501 6.3.9).
 */
static int
lsub_parents(struct imapd_session *s, const struct list_req *r,
    const struct store_mailbox *v, size_t n, const unsigned char *subkids)
{
	size_t i, j, len;
	int hidden;

	for (i = 0; i < n; i++) {
		if (v[i].subscribed || !subkids[i] ||
		    !list_matches(r, v[i].name))
			continue;
		len = strlen(v[i].name);
		hidden = 0;
		for (j = 0; j < n && !hidden; j++)
			if (v[j].subscribed && strncmp(v[j].name, v[i].name,
			    len) == 0 && v[j].name[len] == '/' &&
			    !list_matches(r, v[j].name))
				hidden = 1;
		if (hidden && list_line(s, r, NULL, v[i].name, 1, 1, 1) < 0)
			return -1;
	}
	return 0;
}

static int
cmp_mailbox_name(const void *a, const void *b)
{
	return strcmp(((const struct store_mailbox *)a)->name,
	    ((const struct store_mailbox *)b)->name);
}

/*
 * Names implied by others ("a" of "a/b") that are no mailbox, left by a
 * DELETE of a parent: added with id 0, listed \Noselect \HasChildren.
 * They go away with their last child. *vp is sorted by name on entry
 * (store_mailbox_list) and on return.
 */
static void
add_implied(struct store_mailbox **vp, size_t *np)
{
	struct store_mailbox *v = *vp, key;
	size_t n = *np, orig = *np, i, j;
	const char *p;
	char *prefix;

	memset(&key, 0, sizeof(key));	/* only the name is compared */
	for (i = 0; i < orig; i++) {
		for (p = strchr(v[i].name, '/'); p != NULL;
		    p = strchr(p + 1, '/')) {
			prefix = xstrndup(v[i].name, (size_t)(p - v[i].name));
			key.name = prefix;
			for (j = orig; j < n; j++)
				if (strcmp(v[j].name, prefix) == 0)
					break;
			if (j < n || bsearch(&key, v, orig, sizeof(*v),
			    cmp_mailbox_name) != NULL) {
				free(prefix);
				continue;
			}
			v = xreallocarray(v, n + 1, sizeof(*v));
			memset(&v[n], 0, sizeof(v[n]));
			v[n++].name = prefix;
		}
	}
	if (n > orig)
		qsort(v, n, sizeof(*v), cmp_mailbox_name);
	*vp = v;
	*np = n;
}

static int
list_run(struct imapd_session *s, struct imapd_cmdctx *c,
    const struct list_req *r)
{
	unsigned char *kids, *subkids;
	struct store_mailbox *v;
	size_t n, i, k, order;
	int rc;

	if ((rc = store_mailbox_list(s->st, s->acct, 0, &v, &n)) != 0)
		return imapd_no_store(s, c, rc);
	add_implied(&v, &n);
	kids = xcalloc(n + 1, 1);
	subkids = xcalloc(n + 1, 1);
	list_children(v, n, kids, subkids);
	/* INBOX first, then the others in name order. */
	for (order = 0; order < 2 && rc == 0; order++) {
		for (i = 0; i < n && rc == 0; i++) {
			k = i;
			if ((strcmp(v[k].name, "INBOX") == 0) != (order == 0))
				continue;
			if (!list_matches(r, v[k].name))
				continue;
			if ((r->opts & SEL_SPECIAL) && v[k].special_use == 0)
				continue;
			if ((r->opts & SEL_SUBSCRIBED) && !v[k].subscribed &&
			    !((r->opts & SEL_RECURSIVE) && subkids[k]))
				continue;
			rc = list_line(s, r, v[k].id != 0 ? &v[k] : NULL,
			    v[k].name, kids[k], subkids[k], v[k].id == 0);
		}
	}
	if (rc == 0 && (r->opts & LIST_LSUB))
		rc = lsub_parents(s, r, v, n, subkids);
	free(kids);
	free(subkids);
	store_mailbox_list_free(&v, n);
	if (rc != 0)
		return IMAPD_CLOSE;
	return imapd_ok(c, NULL, "%s completed.",
	    (r->opts & LIST_LSUB) ? "Lsub" : "List");
}

static int
read_selection(struct imapd_session *s, struct imapd_cmdctx *c,
    struct list_req *r)
{
	struct imap_tok tok;

	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad LIST selection option.");
		if (tok.kind == IMAP_TOK_RPAREN)
			break;
		if (imap_tok_atom_is(&tok, "SUBSCRIBED"))
			r->opts |= SEL_SUBSCRIBED | RET_SUBSCRIBED;
		else if (imap_tok_atom_is(&tok, "RECURSIVEMATCH"))
			r->opts |= SEL_RECURSIVE;
		else if (imap_tok_atom_is(&tok, "SPECIAL-USE"))
			r->opts |= SEL_SPECIAL;
		else if (!imap_tok_atom_is(&tok, "REMOTE"))
			return imapd_bad(c, "Unknown LIST selection option.");
	}
	if ((r->opts & SEL_RECURSIVE) && !(r->opts & (SEL_SUBSCRIBED |
	    SEL_SPECIAL)))
		return imapd_bad(c, "RECURSIVEMATCH needs another selection "
		    "option.");
	return 0;
}

static int
read_return(struct imapd_session *s, struct imapd_cmdctx *c,
    struct list_req *r)
{
	struct imap_tok tok;
	int rc;

	if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_LPAREN)
		return imapd_bad(c, "RETURN needs a list.");
	r->opts |= RET_GIVEN;
	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad LIST return option.");
		if (tok.kind == IMAP_TOK_RPAREN)
			break;
		if (imap_tok_atom_is(&tok, "SUBSCRIBED"))
			r->opts |= RET_SUBSCRIBED;
		else if (imap_tok_atom_is(&tok, "CHILDREN"))
			r->opts |= RET_CHILDREN;
		else if (imap_tok_atom_is(&tok, "SPECIAL-USE"))
			r->opts |= RET_SPECIAL;
		else if (imap_tok_atom_is(&tok, "STATUS")) {
			if ((rc = read_status_items(s, c, 0, r->status,
			    &r->nstatus)) != 0)
				return rc;
			r->opts |= RET_STATUS;
		} else
			return imapd_bad(c, "Unknown LIST return option.");
	}
	return imapd_arg_end(s, c);
}

/* Join reference and pattern, decode mUTF-7, uppercase an INBOX
 * prefix. */
static int
add_pattern(struct imapd_cmdctx *c, struct list_req *r, const char *ref,
    const char *pat)
{
	struct buf b;
	char *p;

	if (r->npat == LIST_MAX_PATTERNS)
		return imapd_bad(c, "Too many patterns.");
	p = xasprintf("%s%s", ref, pat);
	buf_init(&b, 4 * STORE_NAME_MAX);
	if (utf7_decode(p, strlen(p), &b) != 0) {
		free(p);
		buf_free(&b);
		return imapd_bad(c, "Pattern is not valid modified UTF-7.");
	}
	free(p);
	p = buf_steal(&b, NULL);
	if (ascii_strncasecmp(p, "INBOX", 5) == 0 &&
	    (p[5] == '\0' || p[5] == '/'))
		memcpy(p, "INBOX", 5);
	r->pat[r->npat++] = p;
	return 0;
}

/* The patterns: one list-mailbox, or LIST-EXTENDED's "(p1 p2 ...)". */
static int
read_patterns(struct imapd_session *s, struct imapd_cmdctx *c,
    struct list_req *r, const char *ref, int *empty)
{
	struct imap_tok tok;
	char *pat;
	int rc, list;

	if (imapd_tok_astring(s, &tok) < 0 || tok.sp == 0)
		return imapd_bad(c, "Bad LIST pattern.");
	list = tok.kind == IMAP_TOK_LPAREN;
	for (;;) {
		if (list && imapd_tok_astring(s, &tok) < 0)
			return imapd_bad(c, "Bad LIST pattern.");
		if (list && tok.kind == IMAP_TOK_RPAREN)
			break;
		if ((rc = imapd_tok_string(s, c, &tok, 1, &pat, NULL)) != 0)
			return rc;
		if (pat[0] == '\0')
			*empty = 1;
		else if ((rc = add_pattern(c, r, ref, pat)) != 0) {
			free(pat);
			return rc;
		}
		free(pat);
		if (!list)
			break;
	}
	return 0;
}

static int
list_common(struct imapd_session *s, struct imapd_cmdctx *c, int lsub)
{
	struct list_req r;
	struct imap_tok tok;
	char *ref = NULL;
	int rc, empty = 0;
	size_t i;

	memset(&r, 0, sizeof(r));
	if (lsub)
		r.opts |= LIST_LSUB | SEL_SUBSCRIBED;
	if (imapd_tok_astring(s, &tok) < 0 || tok.sp == 0)
		return imapd_bad(c, "Bad LIST arguments.");
	if (!lsub && tok.kind == IMAP_TOK_LPAREN) {
		if ((rc = read_selection(s, c, &r)) != 0)
			return rc;
		if (imapd_tok_astring(s, &tok) < 0 || tok.sp == 0)
			return imapd_bad(c, "Bad LIST arguments.");
	}
	if ((rc = imapd_tok_string(s, c, &tok, 1, &ref, NULL)) != 0)
		return rc;
	rc = read_patterns(s, c, &r, ref, &empty);
	if (rc == 0 && imapd_tok(s, &tok) < 0)
		rc = imapd_bad(c, "Bad LIST arguments.");
	if (rc == 0 && tok.kind != IMAP_TOK_CRLF) {
		if (!lsub && imap_tok_atom_is(&tok, "RETURN"))
			rc = read_return(s, c, &r);
		else
			rc = imapd_bad(c, "Unexpected LIST argument.");
	}
	if (rc == 0) {
		/* LIST "" "": the delimiter and the root. */
		if (empty && !lsub)
			imapd_puts(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
		if (r.npat > 0)
			rc = list_run(s, c, &r);
		else
			rc = imapd_ok(c, NULL, "%s completed.", lsub ? "Lsub" :
			    "List");
	}
	for (i = 0; i < r.npat; i++)
		free(r.pat[i]);
	free(ref);
	return rc;
}

int
imapd_cmd_list(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return list_common(s, c, 0);
}

int
imapd_cmd_lsub(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return list_common(s, c, 1);
}
