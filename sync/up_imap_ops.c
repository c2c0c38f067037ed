/*
 * up_imap_ops: the operations of the IMAP driver (sync/driver.h), on top
 * of the command machinery in sync/up_imap.c.
 *
 * Fetching is the part that matters for speed and memory. One UID FETCH
 * per group of ranges, all sent before any answer is read; the answer's
 * BODY[] literal goes from the TLS buffer through the parser to the
 * engine's body() callback without being gathered. msg() must come
 * before the body, and servers send the items in the order asked (UID
 * first, BODY.PEEK[] last), so the attributes are complete when the first
 * piece arrives; a server that sends the body first gets it held in
 * memory (bounded) until the rest of its FETCH line has come.
 *
 * Every set of UIDs sent is made of ascending ranges and split so that no
 * command line exceeds CMD_SET_MAX bytes. Sets the server sends back
 * (VANISHED, COPYUID, ESEARCH ALL) are expanded with a bound on their
 * size, so a broken server cannot make us allocate without limit.
 */
#include "sync/up_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/date.h"
#include "lib/imap_resp.h"
#include "lib/imap_seqset.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "store/store.h"

#define CMD_SET_MAX	4000		/* bytes of UID set per command */
#define HOLD_MAX	(64u << 20)	/* a body held back, see above */
#define MSGID_HDR_MAX	8192
#define EXPAND_MAX	10000000	/* UIDs in a set from the server */
#define VANISH_CHUNK	4096
#define IDLE_REISSUE_MS	(29 * 60 * 1000)
#define NOOP_POLL_MS	30000

static struct up_imap *
imap_of(struct sync_driver *drv)
{
	return (struct up_imap *)drv;
}

static int
not_connected(struct up_imap *d, struct sync_error *err)
{
	if (d->rp != NULL && d->conn.s != NULL)
		return 0;
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
	    SYNC_EK_NET, "not connected to %s", d->conn.where);
}

static int
need_selected(struct up_imap *d, struct sync_error *err)
{
	if (not_connected(d, err) < 0)
		return -1;
	if (d->selected != NULL)
		return 0;
	return sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NOW,
	    SYNC_EK_LOCAL, "no folder is selected on %s", d->conn.where);
}

/* Wait for tag; 0 for OK, else the NO/BAD as an error of scope. */
static int
wait_ok(struct up_imap *d, unsigned tag, up_imap_fn fn, void *arg,
    enum sync_scope scope, struct sync_error *err)
{
	struct imap_done done;
	int rc;

	if (up_imap_wait(d, tag, fn, arg, &done, NULL, err) < 0)
		return -1;
	rc = done.status == IMAP_RESP_OK ? 0 :
	    up_imap_done_err(d, &done, scope, err);
	up_imap_done_clear(&done);
	return rc;
}

/* Expand a sequence set the server sent into *v_r (ascending). */
static int
expand_set(struct up_imap *d, const char *set, uint32_t **v_r, size_t *n_r,
    struct sync_error *err)
{
	struct imap_seqset *ss = NULL;
	struct imap_seqset_iter it;
	uint32_t *v, u;
	size_t n = 0;

	*v_r = NULL;
	*n_r = 0;
	if (set[0] == '\0')
		return 0;
	if (imap_seqset_parse(set, UINT32_MAX, &ss, NULL, 0) != 0 ||
	    imap_seqset_count(ss) > EXPAND_MAX) {
		imap_seqset_free(&ss);
		return sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_LATER,
		    SYNC_EK_PROTOCOL, "%s sent a UID set mailvault cannot use "
		    "while %s", d->conn.where, d->doing);
	}
	v = xreallocarray(NULL, imap_seqset_count(ss) + 1, sizeof(*v));
	imap_seqset_iter_init(&it, ss);
	while (imap_seqset_iter_next(&it, &u))
		v[n++] = u;
	imap_seqset_free(&ss);
	*v_r = v;
	*n_r = n;
	return 0;
}

/* Append the UIDs v[*i..n) as a set to out until it is CMD_SET_MAX long;
 * v must be ascending. Advances *i. */
static void
uid_set(struct buf *out, const uint32_t *v, size_t n, size_t *i)
{
	size_t j, start = out->len;

	while (*i < n && out->len - start < CMD_SET_MAX) {
		j = *i;
		while (j + 1 < n && v[j + 1] <= v[j] + 1)
			j++;
		if (out->len > start)
			buf_addc(out, ',');
		if (v[j] == v[*i])
			buf_printf(out, "%u", v[*i]);
		else
			buf_printf(out, "%u:%u", v[*i], v[j]);
		*i = j + 1;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* A sorted, duplicate-free copy of uids. */
static uint32_t *
sorted_uids(const uint32_t *uids, size_t n, size_t *n_r)
{
	uint32_t *v = xreallocarray(NULL, n + 1, sizeof(*v));
	size_t i, k = 0;

	if (n > 0) {
		memcpy(v, uids, n * sizeof(*v));
		qsort(v, n, sizeof(*v), cmp_u32);
	}
	for (i = 0; i < n; i++)
		if (v[i] != 0 && (k == 0 || v[k - 1] != v[i]))
			v[k++] = v[i];
	*n_r = k;
	return v;
}

/* ---- folders ----------------------------------------------------------- */

struct list_ctx {
	struct sync_folder *v;
	size_t		 n, cap;
};

static const struct {
	const char	*name;
	unsigned	 su;
	unsigned	 attr;
} list_attrs[] = {
	{ "\\Noselect", 0, SYNC_FA_NOSELECT },
	{ "\\NonExistent", 0, SYNC_FA_NOSELECT },
	{ "\\Noinferiors", 0, SYNC_FA_NOINFERIORS },
	{ "\\HasChildren", 0, SYNC_FA_HASCHILDREN },
	{ "\\HasNoChildren", 0, SYNC_FA_HASNOCHILDREN },
	{ "\\Subscribed", 0, SYNC_FA_SUBSCRIBED },
	{ "\\All", STORE_SU_ALL, 0 },
	{ "\\Archive", STORE_SU_ARCHIVE, 0 },
	{ "\\Drafts", STORE_SU_DRAFTS, 0 },
	{ "\\Flagged", STORE_SU_FLAGGED, 0 },
	{ "\\Junk", STORE_SU_JUNK, 0 },
	{ "\\Sent", STORE_SU_SENT, 0 },
	{ "\\Trash", STORE_SU_TRASH, 0 },
};

/* A STATUS that LIST-STATUS sent with the listing (right after its LIST
 * line, so the last folder is tried first). */
static void
on_list_status(struct up_imap *d, const struct imap_resp *ev,
    struct list_ctx *lc)
{
	const unsigned need = IMAP_STATUS_UIDVALIDITY | IMAP_STATUS_UIDNEXT |
	    IMAP_STATUS_MESSAGES;
	char *name = up_imap_name_in(d, ev->mailbox);
	size_t i;

	if (name == NULL)
		return;
	for (i = lc->n; i-- > 0;) {
		struct sync_folder *f = &lc->v[i];

		if (strcmp(f->name, name) != 0)
			continue;
		if ((ev->st.have & need) == need && ev->st.uidvalidity != 0 &&
		    ev->st.uidvalidity <= UINT32_MAX &&
		    ev->st.uidnext <= UINT32_MAX &&
		    ev->st.messages <= UINT32_MAX) {
			f->status_ok = 1;
			f->uidvalidity = (uint32_t)ev->st.uidvalidity;
			f->uidnext = (uint32_t)ev->st.uidnext;
			f->messages = (uint32_t)ev->st.messages;
			if (ev->st.have & IMAP_STATUS_HIGHESTMODSEQ)
				f->highestmodseq = ev->st.highestmodseq;
		}
		break;
	}
	free(name);
}

static int
on_list(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	struct list_ctx *lc = arg;
	struct sync_folder *f;
	size_t i, j;
	char *name;

	if (ev->kind == IMAP_RESP_STATUS_DATA) {
		on_list_status(d, ev, lc);
		return 0;
	}
	if (ev->kind != IMAP_RESP_LIST || ev->lsub)
		return 0;
	if (ev->delim != '\0')
		d->delim = ev->delim;
	name = up_imap_name_in(d, ev->mailbox);
	if (name == NULL) {
		up_log(d->cfg, SYNC_LOG_WARN, "%s: the folder \"%s\" on %s "
		    "has no local name (%s); skipped", d->cfg->name,
		    ev->mailbox, d->conn.where, d->nsprefix[0] != '\0' ?
		    "outside the personal namespace, or a '/' in a component" :
		    "a '/' in a component?");
		return 0;
	}
	if (lc->n == lc->cap) {
		lc->cap = lc->cap ? 2 * lc->cap : 32;
		lc->v = xreallocarray(lc->v, lc->cap, sizeof(*lc->v));
	}
	f = &lc->v[lc->n++];
	memset(f, 0, sizeof(*f));
	f->name = name;
	for (i = 0; i < ev->nitems; i++)
		for (j = 0; j < ARRAY_SIZE(list_attrs); j++)
			if (ascii_strcasecmp(ev->items[i],
			    list_attrs[j].name) == 0) {
				f->special_use |= list_attrs[j].su;
				f->attrs |= list_attrs[j].attr;
			}
	return 0;
}

int
up_imap_list_folders(struct sync_driver *drv, struct sync_folder **list_r,
    size_t *n_r, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct list_ctx lc;
	unsigned tag;
	int rc;

	if (not_connected(d, err) < 0)
		return -1;
	memset(&lc, 0, sizeof(lc));
	up_imap_doing(d, "listing folders");
	/* With LIST-STATUS each folder's numbers come in the same round
	 * trip, so an unchanged folder need not be selected at all. */
	if (d->rcaps & (IC_LIST_EXTENDED | IC_LIST_STATUS))
		tag = up_imap_send(d, err, "LIST \"\" \"*\" RETURN "
		    "(SUBSCRIBED%s%s)", d->rcaps & IC_SPECIAL_USE ?
		    " SPECIAL-USE" : "", !(d->rcaps & IC_LIST_STATUS) ? "" :
		    d->rcaps & (IC_CONDSTORE | IC_QRESYNC) ?
		    " STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)" :
		    " STATUS (UIDVALIDITY UIDNEXT MESSAGES)");
	else
		tag = up_imap_send(d, err, "LIST \"\" \"*\"");
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0)
		return -1;
	rc = wait_ok(d, tag, on_list, &lc, SYNC_SCOPE_ACCOUNT, err);
	if (rc < 0) {
		sync_folder_list_free(&lc.v, lc.n);
		return -1;
	}
	*list_r = lc.v;
	*n_r = lc.n;
	return 0;
}

struct select_ctx {
	struct sync_folder_status st;
	int		 have_uidvalidity;
	int		 nomodseq;
};

static int
on_select(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	struct select_ctx *sc = arg;
	size_t i;

	if (ev->kind == IMAP_RESP_EXISTS)
		sc->st.exists = (uint32_t)ev->num;
	if (ev->kind != IMAP_RESP_STATUS || ev->status != IMAP_RESP_OK)
		return 0;
	switch (ev->code) {
	case IMAP_CODE_UIDVALIDITY:
		sc->st.uidvalidity = (uint32_t)ev->code_num;
		sc->have_uidvalidity = 1;
		break;
	case IMAP_CODE_UIDNEXT:
		sc->st.uidnext = (uint32_t)ev->code_num;
		break;
	case IMAP_CODE_HIGHESTMODSEQ:
		sc->st.highestmodseq = ev->code_num;
		break;
	case IMAP_CODE_NOMODSEQ:
		sc->nomodseq = 1;
		break;
	case IMAP_CODE_PERMANENTFLAGS:
		for (i = 0; i < ev->nitems; i++)
			if (strcmp(ev->items[i], "\\*") == 0)
				sc->st.keywords_ok = 1;
		break;
	default:
		break;
	}
	return 0;
}

int
up_imap_select(struct sync_driver *drv, const char *folder,
    struct sync_folder_status *st_r, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct select_ctx sc;
	struct imap_done done;
	struct buf name;
	unsigned tag;
	int rc;

	if (not_connected(d, err) < 0)
		return -1;
	up_imap_doing(d, "selecting %s", folder);
	buf_init(&name, 64 * 1024);
	if (up_imap_name_out(d, folder, &name, err) < 0) {
		buf_free(&name);
		return -1;
	}
	free(d->selected);
	d->selected = NULL;
	memset(&sc, 0, sizeof(sc));
	tag = up_imap_send(d, err, "SELECT %s%s", name.data,
	    d->rcaps & IC_CONDSTORE ? " (CONDSTORE)" : "");
	buf_free(&name);
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0)
		return -1;
	if (up_imap_wait(d, tag, on_select, &sc, &done, NULL, err) < 0)
		return -1;
	if (done.status != IMAP_RESP_OK) {
		if (done.status == IMAP_RESP_NO &&
		    done.code != IMAP_CODE_UNAVAILABLE &&
		    done.code != IMAP_CODE_INUSE)
			done.code = IMAP_CODE_NONEXISTENT;
		rc = up_imap_done_err(d, &done, SYNC_SCOPE_FOLDER, err);
		up_imap_done_clear(&done);
		return rc;
	}
	sc.st.readonly = done.code == IMAP_CODE_READ_ONLY;
	up_imap_done_clear(&done);
	if (!sc.have_uidvalidity)
		return sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_LATER,
		    SYNC_EK_PROTOCOL, "%s gave no UIDVALIDITY for %s",
		    d->conn.where, folder);
	if (sc.nomodseq || !(d->base.caps & SYNC_CAP_CONDSTORE))
		sc.st.highestmodseq = 0;
	d->selected = xstrdup(folder);
	d->keywords_ok = sc.st.keywords_ok;
	d->hms = sc.st.highestmodseq;
	*st_r = sc.st;
	return 0;
}

/* ---- fetching ----------------------------------------------------------- */

struct fetch_ctx {
	const struct sync_fetch_req *req;
	const struct sync_fetch_cb *cb;
	int		 stopped;	/* a callback said stop */
	/* the message being received */
	uint32_t	 seq;
	int		 started;	/* msg() was called */
	int		 skip;		/* not one we asked for */
	int		 holding;	/* body held back in `held` */
	struct buf	 held;
	struct buf	 hdr;		/* the Message-ID header section */
	int		 hdr_done;
	const char	**kw;
	size_t		 kw_cap;
	char		*msgid;
};

static int
in_ranges(const struct sync_fetch_req *req, uint32_t uid)
{
	size_t lo = 0, hi = req->nranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (uid < req->ranges[mid].lo)
			hi = mid;
		else if (uid > req->ranges[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* "<id@host>" from a Message-ID header section, unfolded, or NULL. */
static char *
parse_msgid(const char *h, size_t n)
{
	const char *end = h + n, *p = h, *lt, *gt;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));

		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > 11 &&
		    ascii_strncasecmp(p, "message-id:", 11) == 0) {
			/* the value may go on in folded lines; '<' and '>'
			 * never span a fold in practice, but be lenient */
			lt = memchr(p, '<', (size_t)(end - p));
			gt = lt != NULL ? memchr(lt, '>', (size_t)(end - lt)) :
			    NULL;
			if (gt == NULL || gt - lt > 998)
				return NULL;
			{
				char *s = xstrndup(lt, (size_t)(gt - lt + 1));
				char *w = s, *r;

				for (r = s; *r != '\0'; r++)
					if (*r != '\r' && *r != '\n' &&
					    *r != ' ' && *r != '\t')
						*w++ = *r;
				*w = '\0';
				return s;
			}
		}
		p = eol + 1;
	}
	return NULL;
}

static void
msg_reset(struct fetch_ctx *fc)
{
	fc->seq = 0;
	fc->started = fc->skip = fc->holding = fc->hdr_done = 0;
	buf_reset(&fc->held);
	buf_reset(&fc->hdr);
	free(fc->msgid);
	fc->msgid = NULL;
}

/* Does ev carry every attribute the request asked for? */
static int
complete(const struct fetch_ctx *fc, const struct imap_resp_fetch *f)
{
	unsigned w = fc->req->what;

	if (!(f->have & IMAP_FETCH_UID))
		return 0;
	if ((w & SYNC_FETCH_FLAGS) && !(f->have & IMAP_FETCH_FLAGS))
		return 0;
	if ((w & SYNC_FETCH_DATE) && !(f->have & IMAP_FETCH_DATE))
		return 0;
	if ((w & SYNC_FETCH_SIZE) && !(f->have & IMAP_FETCH_SIZE))
		return 0;
	if ((w & SYNC_FETCH_MSGID) && !fc->hdr_done)
		return 0;
	return 1;
}

/* Call msg() with what ev has. */
static int
call_msg(struct fetch_ctx *fc, const struct imap_resp *ev)
{
	const struct imap_resp_fetch *f = &ev->fetch;
	struct sync_msg_info mi;
	unsigned w = fc->req->what;

	fc->started = 1;
	if (fc->cb->msg == NULL)
		return 0;
	memset(&mi, 0, sizeof(mi));
	mi.uid = f->uid;
	if (w & SYNC_FETCH_FLAGS) {
		if (ev->nitems > fc->kw_cap) {
			fc->kw_cap = ev->nitems;
			fc->kw = xreallocarray(fc->kw, fc->kw_cap,
			    sizeof(*fc->kw));
		}
		mi.flags = up_imap_flags_in(ev->items, ev->nitems, fc->kw,
		    &mi.nkeywords);
		mi.keywords = fc->kw;
	}
	if (w & SYNC_FETCH_DATE) {
		mi.internaldate = f->internaldate;
		mi.tzoff = f->tzoff;
	}
	if (w & SYNC_FETCH_SIZE)
		mi.size = f->size;
	if (f->have & IMAP_FETCH_MODSEQ)
		mi.modseq = f->modseq;
	if (w & SYNC_FETCH_MSGID) {
		if (fc->msgid == NULL)
			fc->msgid = parse_msgid(fc->hdr.data ? fc->hdr.data :
			    "", fc->hdr.len);
		mi.message_id = fc->msgid;
	}
	return fc->cb->msg(fc->cb->arg, &mi);
}

static int
stop(struct up_imap *d, struct fetch_ctx *fc, struct sync_error *err)
{
	fc->stopped = 1;
	up_imap_drop(d);
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
	    SYNC_EK_STOPPED, "stopped while %s", d->doing);
}

static int
on_body(struct up_imap *d, struct fetch_ctx *fc, const struct imap_resp *ev,
    struct sync_error *err)
{
	const struct imap_resp_fetch *f = &ev->fetch;

	if (fc->seq != f->seq)
		msg_reset(fc);
	fc->seq = f->seq;
	if (f->section[0] != '\0') {
		/* BODY[HEADER.FIELDS (MESSAGE-ID)] */
		if (fc->hdr.len + f->len <= MSGID_HDR_MAX)
			buf_add(&fc->hdr, f->data, f->len);
		fc->hdr_done = f->body_left == 0;
		return 0;
	}
	if (fc->skip || !(fc->req->what & SYNC_FETCH_BODY))
		return 0;
	if (!fc->started && !fc->holding) {
		if ((f->have & IMAP_FETCH_UID) && !in_ranges(fc->req, f->uid)) {
			fc->skip = 1;
			return 0;
		}
		if (complete(fc, f)) {
			if (call_msg(fc, ev) < 0)
				return stop(d, fc, err);
		} else
			fc->holding = 1;
	}
	if (fc->holding) {
		if (buf_add(&fc->held, f->data, f->len) < 0)
			return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
			    SYNC_RETRY_LATER, SYNC_EK_PROTOCOL, "%s sent a "
			    "large message body before its UID while %s",
			    d->conn.where, d->doing);
		return 0;
	}
	if (fc->cb->body != NULL && f->len > 0 &&
	    fc->cb->body(fc->cb->arg, f->data, f->len) < 0)
		return stop(d, fc, err);
	return 0;
}

static int
on_fetch_end(struct up_imap *d, struct fetch_ctx *fc,
    const struct imap_resp *ev, struct sync_error *err)
{
	const struct imap_resp_fetch *f = &ev->fetch;
	int want_body = fc->req->what & SYNC_FETCH_BODY;
	int rc = 0;

	if (fc->seq != f->seq)
		msg_reset(fc);
	if (!(f->have & IMAP_FETCH_UID) || fc->skip ||
	    !in_ranges(fc->req, f->uid))
		goto out;
	if (!want_body) {
		/* a flag update without the flags asked for is not ours */
		if (complete(fc, f) && call_msg(fc, ev) < 0)
			rc = stop(d, fc, err);
		goto out;
	}
	if (fc->holding && !f->body_nil) {
		if (call_msg(fc, ev) < 0 || (fc->cb->body != NULL &&
		    fc->held.len > 0 && fc->cb->body(fc->cb->arg,
		    fc->held.data, fc->held.len) < 0)) {
			rc = stop(d, fc, err);
			goto out;
		}
	}
	if ((fc->started || fc->holding) && (f->have & IMAP_FETCH_BODY) &&
	    !f->body_nil && fc->cb->end != NULL && fc->cb->end(fc->cb->arg) < 0)
		rc = stop(d, fc, err);
out:
	msg_reset(fc);
	return rc;
}

static int
on_vanished(struct up_imap *d, struct fetch_ctx *fc,
    const struct imap_resp *ev, struct sync_error *err)
{
	uint32_t *v;
	size_t n, i, k = 0;
	int rc = 0;

	if (!fc->req->vanished || fc->cb->vanished == NULL)
		return 0;
	if (expand_set(d, ev->set, &v, &n, err) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (in_ranges(fc->req, v[i]))
			v[k++] = v[i];
	for (i = 0; i < k && rc == 0; i += VANISH_CHUNK)
		rc = fc->cb->vanished(fc->cb->arg, v + i, k - i < VANISH_CHUNK ?
		    k - i : VANISH_CHUNK);
	free(v);
	return rc < 0 ? stop(d, fc, err) : 0;
}

static int
on_fetch(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	struct fetch_ctx *fc = arg;

	switch (ev->kind) {
	case IMAP_RESP_FETCH_BODY:
		return on_body(d, fc, ev, err);
	case IMAP_RESP_FETCH:
		return on_fetch_end(d, fc, ev, err);
	case IMAP_RESP_VANISHED:
		return on_vanished(d, fc, ev, err);
	default:
		return 0;
	}
}

/* "(UID FLAGS ...)" and the modifiers, for req. */
static void
fetch_items(struct up_imap *d, const struct sync_fetch_req *req,
    struct buf *b)
{
	unsigned w = req->what;

	buf_adds(b, " (UID");
	if (w & SYNC_FETCH_FLAGS)
		buf_adds(b, " FLAGS");
	if (w & SYNC_FETCH_DATE)
		buf_adds(b, " INTERNALDATE");
	if (w & SYNC_FETCH_SIZE)
		buf_adds(b, " RFC822.SIZE");
	if ((w & SYNC_FETCH_MODSEQ) && (d->base.caps & SYNC_CAP_CONDSTORE))
		buf_adds(b, " MODSEQ");
	if (w & SYNC_FETCH_MSGID)
		buf_adds(b, " BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]");
	if (w & SYNC_FETCH_BODY)
		buf_adds(b, " BODY.PEEK[]");
	buf_adds(b, ")");
	if (req->changedsince && (d->base.caps & SYNC_CAP_CONDSTORE))
		buf_printf(b, " (CHANGEDSINCE %llu%s)",
		    (unsigned long long)req->changedsince,
		    req->vanished && d->qresync_on ? " VANISHED" : "");
}

/* Send one UID FETCH per group of ranges; their tags in *tags_r. */
static int
send_fetches(struct up_imap *d, const struct sync_fetch_req *req,
    unsigned **tags_r, size_t *ntags_r, struct sync_error *err)
{
	struct buf set, items;
	unsigned *tags = NULL, tag;
	size_t i = 0, n = 0;
	int rc = 0;

	buf_init(&set, 2 * CMD_SET_MAX);
	buf_init(&items, 1024);
	fetch_items(d, req, &items);
	while (i < req->nranges && rc == 0) {
		buf_reset(&set);
		for (; i < req->nranges && set.len < CMD_SET_MAX; i++) {
			const struct sync_uidrange *r = &req->ranges[i];

			if (set.len > 0)
				buf_addc(&set, ',');
			if (r->hi == UINT32_MAX)
				buf_printf(&set, "%u:*", r->lo);
			else if (r->lo == r->hi)
				buf_printf(&set, "%u", r->lo);
			else
				buf_printf(&set, "%u:%u", r->lo, r->hi);
		}
		tag = up_imap_send(d, err, "UID FETCH %s%s", set.data,
		    items.data);
		if (tag == 0) {
			rc = -1;
			break;
		}
		tags = xreallocarray(tags, n + 1, sizeof(*tags));
		tags[n++] = tag;
	}
	buf_free(&set);
	buf_free(&items);
	if (rc == 0)
		rc = up_conn_flush(&d->conn, err);
	*tags_r = tags;
	*ntags_r = n;
	return rc;
}

int
up_imap_fetch(struct sync_driver *drv, const struct sync_fetch_req *req,
    const struct sync_fetch_cb *cb, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct fetch_ctx fc;
	unsigned *tags = NULL;
	size_t ntags = 0, i;
	int rc;

	if (need_selected(d, err) < 0)
		return -1;
	if (req->nranges == 0)
		return 0;
	up_imap_doing(d, "fetching from %s", d->selected);
	memset(&fc, 0, sizeof(fc));
	fc.req = req;
	fc.cb = cb;
	buf_init(&fc.held, HOLD_MAX);
	buf_init(&fc.hdr, MSGID_HDR_MAX + 1);
	rc = send_fetches(d, req, &tags, &ntags, err);
	for (i = 0; i < ntags && rc == 0; i++)
		rc = wait_ok(d, tags[i], on_fetch, &fc, SYNC_SCOPE_FOLDER, err);
	free(tags);
	msg_reset(&fc);
	buf_free(&fc.held);
	buf_free(&fc.hdr);
	free(fc.kw);
	return rc;
}

/* ---- searching ---------------------------------------------------------- */

struct search_ctx {
	uint32_t	*v;
	size_t		 n;
};

static int
on_search(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	struct search_ctx *sc = arg;
	uint32_t *v;
	size_t n;

	if (ev->kind == IMAP_RESP_SEARCH && ev->nnums > 0) {
		sc->v = xreallocarray(sc->v, sc->n + ev->nnums + 1,
		    sizeof(*sc->v));
		memcpy(sc->v + sc->n, ev->nums, ev->nnums * sizeof(*sc->v));
		sc->n += ev->nnums;
	} else if (ev->kind == IMAP_RESP_ESEARCH &&
	    (ev->es.have & IMAP_ESEARCH_ALL)) {
		if (expand_set(d, ev->es.all, &v, &n, err) < 0)
			return -1;
		free(sc->v);
		sc->v = v;
		sc->n = n;
	}
	return 0;
}

static int
search(struct up_imap *d, const char *criteria, uint32_t **uids_r,
    size_t *n_r, struct sync_error *err)
{
	struct search_ctx sc;
	unsigned tag;
	size_t n;

	memset(&sc, 0, sizeof(sc));
	tag = up_imap_send(d, err, "UID SEARCH %s%s", d->rcaps & IC_ESEARCH ?
	    "RETURN (ALL) " : "", criteria);
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0)
		return -1;
	if (wait_ok(d, tag, on_search, &sc, SYNC_SCOPE_FOLDER, err) < 0) {
		free(sc.v);
		return -1;
	}
	*uids_r = sorted_uids(sc.v, sc.n, &n);
	*n_r = n;
	free(sc.v);
	return 0;
}

int
up_imap_list_uids(struct sync_driver *drv, uint32_t **uids_r, size_t *n_r,
    struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);

	if (need_selected(d, err) < 0)
		return -1;
	up_imap_doing(d, "listing the UIDs of %s", d->selected);
	return search(d, "ALL", uids_r, n_r, err);
}

int
up_imap_search_msgid(struct sync_driver *drv, const char *msgid,
    uint32_t **uids_r, size_t *n_r, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct buf crit;
	int rc;

	if (need_selected(d, err) < 0)
		return -1;
	up_imap_doing(d, "searching %s for a Message-ID", d->selected);
	buf_init(&crit, 4096);
	buf_adds(&crit, "HEADER Message-ID ");
	if (up_imap_quote(&crit, msgid) < 0 || crit.len >= 2048) {
		buf_free(&crit);
		return sync_error_set(err, SYNC_SCOPE_MESSAGE,
		    SYNC_RETRY_NEVER, SYNC_EK_LOCAL, "a Message-ID that "
		    "cannot be searched for");
	}
	rc = search(d, crit.data, uids_r, n_r, err);
	buf_free(&crit);
	return rc;
}

/* ---- changing messages ------------------------------------------------- */

/* Send "UID <verb> <set> <rest>" for every chunk of uids; their tags. */
static int
send_chunks(struct up_imap *d, const uint32_t *v, size_t n, const char *verb,
    const char *rest, unsigned **tags_r, size_t *ntags_r,
    struct sync_error *err)
{
	struct buf set;
	unsigned *tags = NULL, tag;
	size_t i = 0, k = 0;

	buf_init(&set, 2 * CMD_SET_MAX);
	while (i < n) {
		buf_reset(&set);
		uid_set(&set, v, n, &i);
		tag = up_imap_send(d, err, "UID %s %s%s", verb, set.data, rest);
		if (tag == 0) {
			buf_free(&set);
			free(tags);
			return -1;
		}
		tags = xreallocarray(tags, k + 1, sizeof(*tags));
		tags[k++] = tag;
	}
	buf_free(&set);
	*tags_r = tags;
	*ntags_r = k;
	return 0;
}

static int
wait_all(struct up_imap *d, const unsigned *tags, size_t n, up_imap_fn fn,
    void *arg, struct sync_error *err)
{
	size_t i;
	int rc = 0, failed = 0;
	struct sync_error first;

	for (i = 0; i < n; i++) {
		rc = wait_ok(d, tags[i], fn, arg, SYNC_SCOPE_FOLDER, err);
		if (rc < 0 && err->scope == SYNC_SCOPE_ACCOUNT)
			return -1;
		if (rc < 0 && !failed) {
			first = *err;
			failed = 1;
		}
	}
	if (failed)
		*err = first;
	return failed ? -1 : 0;
}

/* Send chunks, flush, wait for all of them. */
static int
chunked(struct up_imap *d, const uint32_t *v, size_t n, const char *verb,
    const char *rest, up_imap_fn fn, void *arg, struct sync_error *err)
{
	unsigned *tags = NULL;
	size_t ntags = 0;
	int rc;

	rc = send_chunks(d, v, n, verb, rest, &tags, &ntags, err);
	if (rc == 0)
		rc = up_conn_flush(&d->conn, err);
	if (rc == 0)
		rc = wait_all(d, tags, ntags, fn, arg, err);
	free(tags);
	return rc;
}

int
up_imap_store_flags(struct sync_driver *drv, const uint32_t *uids, size_t n,
    const struct sync_flag_change *ch, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct buf rest;
	uint32_t *v;
	size_t nv, nkw = d->keywords_ok ? ch->nkeywords : 0;
	int rc;

	if (need_selected(d, err) < 0)
		return -1;
	if (n == 0 || (ch->op != SYNC_FLAGS_SET && ch->flags == 0 && nkw == 0))
		return 0;
	up_imap_doing(d, "storing flags in %s", d->selected);
	buf_init(&rest, 64 * 1024);
	buf_printf(&rest, " %sFLAGS.SILENT ", ch->op == SYNC_FLAGS_ADD ? "+" :
	    ch->op == SYNC_FLAGS_REMOVE ? "-" : "");
	up_imap_flags_out(&rest, ch->flags, ch->keywords, nkw);
	v = sorted_uids(uids, n, &nv);
	rc = chunked(d, v, nv, "STORE", rest.data, NULL, NULL, err);
	free(v);
	buf_free(&rest);
	return rc;
}

/*
 * 1 if a message not in v (sorted) is marked \Deleted in the selected
 * folder: a plain EXPUNGE would remove it too, and it is not ours to
 * remove (the last-copy rule); 0 if none; -1 and *err.
 */
static int
others_deleted(struct up_imap *d, const uint32_t *v, size_t n,
    struct sync_error *err)
{
	uint32_t *del = NULL;
	size_t nd = 0, i, j = 0;
	int other = 0;

	if (search(d, "DELETED", &del, &nd, err) < 0)
		return -1;
	for (i = 0; i < nd && !other; i++) {
		while (j < n && v[j] < del[i])
			j++;
		other = j == n || v[j] != del[i];
	}
	free(del);
	return other;
}

/*
 * \Deleted on v, then UID EXPUNGE v, pipelined. Without UIDPLUS only a
 * plain EXPUNGE exists, which also removes whatever another client
 * marked \Deleted: then it is not sent, and v stays marked \Deleted
 * upstream until that client expunges (said in the log).
 */
static int
delete_uids(struct up_imap *d, const uint32_t *v, size_t n,
    struct sync_error *err)
{
	unsigned *t1 = NULL, *t2 = NULL, t3 = 0;
	size_t n1 = 0, n2 = 0;
	int rc = 0, plain = !(d->rcaps & IC_UIDPLUS), others = 0;

	if (plain && (others = others_deleted(d, v, n, err)) < 0)
		return -1;
	if (others)
		up_log(d->cfg, SYNC_LOG_WARN, "%s: other messages are marked "
		    "\\Deleted there, and without UIDPLUS expunging ours "
		    "would remove them too: %zu message%s deleted here stay%s "
		    "marked \\Deleted upstream until they are expunged",
		    d->selected, n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	rc = send_chunks(d, v, n, "STORE", " +FLAGS.SILENT (\\Deleted)", &t1,
	    &n1, err);
	if (rc == 0 && !plain)
		rc = send_chunks(d, v, n, "EXPUNGE", "", &t2, &n2, err);
	else if (rc == 0 && !others &&
	    (t3 = up_imap_send(d, err, "EXPUNGE")) == 0)
		rc = -1;
	if (rc == 0)
		rc = up_conn_flush(&d->conn, err);
	if (rc == 0)
		rc = wait_all(d, t1, n1, NULL, NULL, err);
	if (rc == 0)
		rc = wait_all(d, t2, n2, NULL, NULL, err);
	if (rc == 0 && t3 != 0)
		rc = wait_ok(d, t3, NULL, NULL, SYNC_SCOPE_FOLDER, err);
	free(t1);
	free(t2);
	return rc;
}

int
up_imap_expunge(struct sync_driver *drv, const uint32_t *uids, size_t n,
    struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	uint32_t *v;
	size_t nv;
	int rc;

	if (need_selected(d, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	up_imap_doing(d, "expunging in %s", d->selected);
	v = sorted_uids(uids, n, &nv);
	rc = delete_uids(d, v, nv, err);
	free(v);
	return rc;
}

struct copy_ctx {
	const uint32_t	*uids;
	size_t		 n;
	uint32_t	*newuids;
	uint32_t	 uidvalidity;
};

/* Record a COPYUID answer: source set and destination set pair up. */
static int
copyuid(struct up_imap *d, struct copy_ctx *cc, uint64_t uidvalidity,
    const char *from, const char *to, struct sync_error *err)
{
	uint32_t *src, *dst;
	size_t ns, nd, i, j;

	if (expand_set(d, from, &src, &ns, err) < 0)
		return -1;
	if (expand_set(d, to, &dst, &nd, err) < 0) {
		free(src);
		return -1;
	}
	if (ns == nd) {
		cc->uidvalidity = (uint32_t)uidvalidity;
		for (i = 0; i < ns; i++)
			for (j = 0; j < cc->n; j++)
				if (cc->uids[j] == src[i])
					cc->newuids[j] = dst[i];
	}
	free(src);
	free(dst);
	return 0;
}

static int
on_copy(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	/* Only an advertised UIDPLUS is relied on (Dovecot sends COPYUID
	 * and APPENDUID even when told not to offer it). */
	if (ev->kind == IMAP_RESP_STATUS && ev->code == IMAP_CODE_COPYUID &&
	    (d->rcaps & IC_UIDPLUS))
		return copyuid(d, arg, ev->code_num, ev->code_set,
		    ev->code_set2, err);
	return 0;
}

/* COPYUID pairs need one command: the set of all the UIDs at once. */
static int
copy_cmd(struct up_imap *d, struct copy_ctx *cc, const char *dest_arg,
    int move, struct sync_error *err)
{
	struct imap_done done;
	struct buf set;
	uint32_t *v;
	size_t nv, i = 0;
	unsigned tag;
	int rc;

	v = sorted_uids(cc->uids, cc->n, &nv);
	buf_init(&set, 16 * 1024 * 1024);
	while (i < nv) {
		if (set.len > 0)
			buf_addc(&set, ',');
		uid_set(&set, v, nv, &i);
	}
	tag = up_imap_send(d, err, "UID %s %s%s", move &&
	    (d->rcaps & IC_MOVE) ? "MOVE" : "COPY", set.data, dest_arg);
	buf_free(&set);
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0) {
		free(v);
		return -1;
	}
	rc = up_imap_wait(d, tag, on_copy, cc, &done, NULL, err);
	if (rc == 0 && done.status == IMAP_RESP_OK &&
	    done.code == IMAP_CODE_COPYUID && (d->rcaps & IC_UIDPLUS))
		rc = copyuid(d, cc, done.code_num, done.code_set,
		    done.code_set2, err);
	if (rc == 0 && done.status != IMAP_RESP_OK)
		rc = up_imap_done_err(d, &done, SYNC_SCOPE_FOLDER, err);
	if (rc == 0 && move && !(d->rcaps & IC_MOVE))
		rc = delete_uids(d, v, nv, err);
	up_imap_done_clear(&done);
	free(v);
	return rc;
}

int
up_imap_copy(struct sync_driver *drv, const uint32_t *uids, size_t n,
    const char *dest, int move, uint32_t *newuids,
    uint32_t *dest_uidvalidity_r, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct copy_ctx cc;
	struct buf name;
	int rc;

	if (need_selected(d, err) < 0)
		return -1;
	memset(newuids, 0, n * sizeof(*newuids));
	*dest_uidvalidity_r = 0;
	if (n == 0)
		return 0;
	up_imap_doing(d, "%s messages from %s to %s", move ? "moving" :
	    "copying", d->selected, dest);
	buf_init(&name, 64 * 1024);
	buf_addc(&name, ' ');
	if (up_imap_name_out(d, dest, &name, err) < 0) {
		buf_free(&name);
		return -1;
	}
	cc.uids = uids;
	cc.n = n;
	cc.newuids = newuids;
	cc.uidvalidity = 0;
	rc = copy_cmd(d, &cc, name.data, move, err);
	buf_free(&name);
	if (rc == 0)
		*dest_uidvalidity_r = cc.uidvalidity;
	return rc;
}

/* ---- APPEND ------------------------------------------------------------ */

static int
append_data(struct up_imap *d, const struct sync_append_src *src,
    struct sync_error *err)
{
	char buf[65536];
	uint64_t sent = 0;
	ssize_t r;

	while ((r = src->read(src->arg, buf, sizeof(buf))) > 0) {
		sent += (uint64_t)r;
		if (sent > src->size)
			abort();	/* the engine's bug: more than size */
		if (up_conn_write(&d->conn, buf, (size_t)r, err) < 0) {
			up_imap_drop(d);
			return -1;
		}
	}
	if (r < 0) {
		up_imap_drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
		    SYNC_EK_STOPPED, "stopped while %s", d->doing);
	}
	if (sent != src->size)
		abort();	/* the engine's bug: fewer than size */
	if (up_conn_write(&d->conn, "\r\n", 2, err) < 0 ||
	    up_conn_flush(&d->conn, err) < 0) {
		up_imap_drop(d);
		return -1;
	}
	return 0;
}

int
up_imap_append(struct sync_driver *drv, const char *folder,
    const struct sync_append_src *src, uint32_t *uid_r,
    uint32_t *uidvalidity_r, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct imap_done done;
	char date[DATE_IMAP_LEN];
	struct buf args;
	unsigned tag;
	int plus, cont = 0, rc;

	if (not_connected(d, err) < 0)
		return -1;
	*uid_r = *uidvalidity_r = 0;
	up_imap_doing(d, "appending to %s", folder);
	buf_init(&args, 128 * 1024);
	if (up_imap_name_out(d, folder, &args, err) < 0) {
		buf_free(&args);
		return -1;
	}
	buf_addc(&args, ' ');
	up_imap_flags_out(&args, src->flags & ~STORE_F_DELETED, src->keywords,
	    src->nkeywords);
	/* A date the form cannot hold is left to the server. */
	if (src->internaldate != 0 &&
	    date_imap_format(src->internaldate, src->tzoff, date) == 0)
		buf_printf(&args, " \"%s\"", date);
	plus = (d->rcaps & IC_LITERAL_PLUS) ||
	    ((d->rcaps & IC_LITERAL_MINUS) && src->size <= 4096);
	tag = up_imap_send(d, err, "APPEND %s {%llu%s}", args.data,
	    (unsigned long long)src->size, plus ? "+" : "");
	buf_free(&args);
	/* up_imap_send ended the line: the literal's CRLF, as IMAP wants */
	if (tag == 0)
		return -1;
	if (!plus) {
		if (up_conn_flush(&d->conn, err) < 0 ||
		    up_imap_wait(d, tag, NULL, NULL, &done, &cont, err) < 0)
			return -1;
		if (!cont) {
			rc = up_imap_done_err(d, &done, SYNC_SCOPE_MESSAGE,
			    err);
			up_imap_done_clear(&done);
			return rc;
		}
	}
	if (append_data(d, src, err) < 0)
		return -1;
	if (up_imap_wait(d, tag, NULL, NULL, &done, NULL, err) < 0)
		return -1;
	rc = 0;
	if (done.status != IMAP_RESP_OK)
		rc = up_imap_done_err(d, &done, done.code ==
		    IMAP_CODE_TRYCREATE ? SYNC_SCOPE_FOLDER :
		    SYNC_SCOPE_MESSAGE, err);
	else if (done.code == IMAP_CODE_APPENDUID && (d->rcaps & IC_UIDPLUS)) {
		uint64_t v;

		*uidvalidity_r = (uint32_t)done.code_num;
		if (parse_u64(done.code_set, UINT32_MAX, &v) == 0)
			*uid_r = (uint32_t)v;
	}
	up_imap_done_clear(&done);
	return rc;
}

/* ---- folder management ------------------------------------------------- */

static int
folder_cmd(struct up_imap *d, const char *verb, const char *a, const char *b,
    enum sync_errkind default_no, struct sync_error *err)
{
	struct imap_done done;
	struct buf args;
	unsigned tag = 0;
	int rc = 0;

	if (not_connected(d, err) < 0)
		return -1;
	buf_init(&args, 128 * 1024);
	if (up_imap_name_out(d, a, &args, err) < 0)
		rc = -1;
	if (rc == 0 && b != NULL) {
		buf_addc(&args, ' ');
		rc = up_imap_name_out(d, b, &args, err);
	}
	if (rc == 0 && (tag = up_imap_send(d, err, "%s %s", verb,
	    args.data)) == 0)
		rc = -1;
	buf_free(&args);
	if (rc < 0 || up_conn_flush(&d->conn, err) < 0 ||
	    up_imap_wait(d, tag, NULL, NULL, &done, NULL, err) < 0)
		return -1;
	if (done.status != IMAP_RESP_OK) {
		rc = up_imap_done_err(d, &done, SYNC_SCOPE_FOLDER, err);
		/* servers without RFC 5530 codes: guess from the verb */
		if (err->kind == SYNC_EK_OTHER && done.status == IMAP_RESP_NO)
			err->kind = default_no;
	}
	up_imap_done_clear(&done);
	return rc;
}

/*
 * Leave the selected folder before it (or a parent) is renamed or
 * deleted: Dovecot drops a connection whose selected folder was deleted
 * ("Selected mailbox was deleted, have to disconnect"). UNSELECT where
 * offered, else EXAMINE INBOX; never CLOSE, which would expunge whatever
 * another client marked \Deleted there.
 */
static int
leave_if(struct up_imap *d, const char *name, struct sync_error *err)
{
	size_t n = strlen(name);
	unsigned tag;

	if (d->selected == NULL || strncmp(d->selected, name, n) != 0 ||
	    (d->selected[n] != '\0' && d->selected[n] != '/'))
		return 0;
	free(d->selected);
	d->selected = NULL;
	tag = up_imap_send(d, err, "%s", d->rcaps & IC_UNSELECT ? "UNSELECT" :
	    "EXAMINE INBOX");
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0)
		return -1;
	return wait_ok(d, tag, NULL, NULL, SYNC_SCOPE_FOLDER, err);
}

static int
any_list(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	if (ev->kind == IMAP_RESP_LIST && !ev->lsub)
		*(int *)arg = 1;
	return 0;
}

/* 1 if the server lists folder name now, 0 if not, -1 and *err. */
static int
listed_now(struct up_imap *d, const char *name, struct sync_error *err)
{
	struct buf args;
	unsigned tag = 0;
	int found = 0;

	buf_init(&args, 128 * 1024);
	if (up_imap_name_out(d, name, &args, err) == 0)
		tag = up_imap_send(d, err, "LIST \"\" %s", args.data);
	buf_free(&args);
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0 ||
	    wait_ok(d, tag, any_list, &found, SYNC_SCOPE_FOLDER, err) < 0)
		return -1;
	return found;
}

/*
 * A NO without a response code may mean the folder is there already, or
 * that the server refuses it (Cyrus: "Permission denied" for a folder
 * outside the personal namespace). Taking a refusal for "exists" would
 * pair a folder that is not upstream, so LIST tells which.
 */
int
up_imap_create_folder(struct sync_driver *drv, const char *name,
    struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	struct sync_error lerr;
	int rc;

	up_imap_doing(d, "creating folder %s", name);
	rc = folder_cmd(d, "CREATE", name, NULL, SYNC_EK_OTHER, err);
	if (rc == 0 || err->kind != SYNC_EK_OTHER ||
	    err->scope == SYNC_SCOPE_ACCOUNT)
		return rc;
	rc = listed_now(d, name, &lerr);
	if (rc < 0 && lerr.scope == SYNC_SCOPE_ACCOUNT) {
		*err = lerr;
		return -1;
	}
	if (rc == 1)
		err->kind = SYNC_EK_EXISTS;
	return -1;
}

int
up_imap_rename_folder(struct sync_driver *drv, const char *from,
    const char *to, struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);

	up_imap_doing(d, "renaming folder %s to %s", from, to);
	if (leave_if(d, from, err) < 0)
		return -1;
	return folder_cmd(d, "RENAME", from, to, SYNC_EK_NONEXISTENT, err);
}

int
up_imap_delete_folder(struct sync_driver *drv, const char *name,
    struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);

	up_imap_doing(d, "deleting folder %s", name);
	if (leave_if(d, name, err) < 0)
		return -1;
	return folder_cmd(d, "DELETE", name, NULL, SYNC_EK_NONEXISTENT, err);
}

/* ---- IDLE --------------------------------------------------------------- */

static int
is_change(const struct imap_resp *ev)
{
	return ev->kind == IMAP_RESP_EXISTS || ev->kind == IMAP_RESP_EXPUNGE ||
	    ev->kind == IMAP_RESP_FETCH || ev->kind == IMAP_RESP_VANISHED;
}

static int
on_change(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	if (is_change(ev))
		*(int *)arg = 1;
	return 0;
}

/*
 * Wait for a change in what the server sends, until deadline (ms on the
 * monotonic clock, negative: none) or cancel_fd. 1 change, 0 time is up,
 * -1 error (CANCELLED for cancel_fd).
 */
static int
idle_wait(struct up_imap *d, int64_t deadline, int cancel_fd,
    struct sync_error *err)
{
	struct imap_resp ev;
	const char *p;
	size_t len;
	long rc;
	int r;

	for (;;) {
		while ((r = imap_resp_next(d->rp, &ev)) == 1)
			if (is_change(&ev))
				return 1;
		if (r < 0)
			return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
			    SYNC_RETRY_LATER, SYNC_EK_PROTOCOL, "%s while "
			    "idling: %s", d->conn.where,
			    imap_resp_error(d->rp));
		rc = up_conn_wait(&d->conn, deadline < 0 ? -1 :
		    (int)(deadline > now_ms() ? deadline - now_ms() : 0),
		    cancel_fd);
		if (rc == TLS_ETIMEOUT)
			return 0;
		if (rc == TLS_EWAKE || rc == TLS_ECANCEL)
			return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
			    SYNC_RETRY_LATER, SYNC_EK_CANCELLED, "cancelled");
		if (rc <= 0)
			return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
			    SYNC_RETRY_NOW, SYNC_EK_NET, "connection to %s "
			    "lost while idling", d->conn.where);
		p = up_conn_read(&d->conn, &len, -1, NULL, d->doing, err);
		if (p == NULL)
			return -1;
		imap_resp_feed(d->rp, p, len);
		up_conn_consume(&d->conn, len);
	}
}

/* One IDLE command up to deadline; ends it with DONE. */
static int
idle_once(struct up_imap *d, int64_t deadline, int cancel_fd,
    struct sync_error *err)
{
	struct imap_done done;
	struct sync_error e2;
	unsigned tag;
	int cont, r, changed = 0;

	tag = up_imap_send(d, err, "IDLE");
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0 ||
	    up_imap_wait(d, tag, on_change, &changed, &done, &cont, err) < 0)
		return -1;
	if (!cont) {
		r = up_imap_done_err(d, &done, SYNC_SCOPE_FOLDER, err);
		up_imap_done_clear(&done);
		return r;
	}
	r = changed ? 1 : idle_wait(d, deadline, cancel_fd, err);
	if (r < 0 && err->kind != SYNC_EK_CANCELLED) {
		up_imap_drop(d);
		return -1;
	}
	if (up_conn_write(&d->conn, "DONE\r\n", 6, &e2) < 0 ||
	    up_conn_flush(&d->conn, &e2) < 0 ||
	    up_imap_wait(d, tag, NULL, NULL, &done, NULL, &e2) < 0) {
		if (r >= 0)
			*err = e2;
		up_imap_drop(d);
		return -1;
	}
	up_imap_done_clear(&done);
	return r;
}

static int
noop_once(struct up_imap *d, int64_t deadline, int cancel_fd,
    struct sync_error *err)
{
	int changed = 0, r;
	unsigned tag;
	int64_t until = now_ms() + NOOP_POLL_MS;

	tag = up_imap_send(d, err, "NOOP");
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0 ||
	    wait_ok(d, tag, on_change, &changed, SYNC_SCOPE_ACCOUNT, err) < 0)
		return -1;
	if (changed)
		return 1;
	if (deadline >= 0 && deadline < until)
		until = deadline;
	r = idle_wait(d, until, cancel_fd, err);
	if (r < 0 && err->kind != SYNC_EK_CANCELLED)
		up_imap_drop(d);
	return r;
}

int
up_imap_idle(struct sync_driver *drv, int timeout_ms, int cancel_fd,
    struct sync_error *err)
{
	struct up_imap *d = imap_of(drv);
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int64_t until;
	int r;

	if (need_selected(d, err) < 0)
		return -1;
	up_imap_doing(d, "waiting for changes in %s", d->selected);
	for (;;) {
		until = now_ms() + ((d->rcaps & IC_IDLE) ? IDLE_REISSUE_MS :
		    NOOP_POLL_MS);
		if (deadline >= 0 && deadline < until)
			until = deadline;
		r = (d->rcaps & IC_IDLE) ? idle_once(d, until, cancel_fd, err) :
		    noop_once(d, until, cancel_fd, err);
		if (r != 0)
			break;
		if (deadline >= 0 && now_ms() >= deadline)
			break;
	}
	free(d->selected);
	d->selected = NULL;
	return r;
}
