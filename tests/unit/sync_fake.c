/*
 * sync_fake: a scripted in-memory upstream for the engine's unit tests
 * (its API and how tests use it: tests/unit/sync_fake.h).
 *
 * It behaves like a small, well-behaved IMAP server (UIDs ascending and
 * never reused, MODSEQs per folder, VANISHED under QRESYNC, COPYUID and
 * APPENDUID under UIDPLUS) and, for a POP3 driver, shows its INBOX as a
 * maildrop. Tests change it between runs as another client would, and
 * make it fail at step N (see sync_fake.h) to simulate a connection cut
 * or a crash at that exact point, before or after the step took effect:
 * the engine must then resume to the same final state as an
 * uninterrupted run, which is how isync's run-tests.pl checks mbsync.
 *
 * Simplicity over speed: folders and messages are plain arrays.
 */
#include "tests/unit/sync_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "store/store.h"

#define FAKE_KW_MAX	64

struct fmsg {
	uint32_t	 uid;
	uint32_t	 flags;
	char		*kw;		/* sorted, space-separated; "" none */
	int64_t		 date;
	unsigned char	*data;
	size_t		 len;
	uint64_t	 modseq;
	int		 refuse;	/* fetches of the bytes to refuse */
	int		 hide;		/* fetches without bytes to skip it */
};

struct fgone {
	uint32_t	 uid;
	uint64_t	 modseq;
};

struct ffolder {
	char		*name;
	unsigned	 su;
	uint32_t	 uidvalidity, uidnext;
	uint64_t	 modseq;
	int		 nomodseq;
	int		 unlisted;	/* LIST leaves it out */
	int		 undeletable;	/* DELETEs to refuse */
	struct fmsg	*m;
	size_t		 n, cap;
	struct fgone	*gone;
	size_t		 ngone;
};

struct fcall {
	const char	*op;
	unsigned	 n;
};

/* A CREATE the fake answers with an error instead of doing it. */
struct frefuse {
	char		*name;
	enum sync_errkind kind;
};

struct sync_fake {
	struct ffolder	**fo;
	size_t		 nfo;
	struct frefuse	 refuse[8];
	unsigned	 caps;
	uint32_t	 next_uidvalidity;
	long		 steps, fail_at;
	int		 fail_after;
	struct fcall	 calls[32];
	char		 kwbuf[1024];
};

struct fake_drv {
	struct sync_driver base;
	struct sync_fake *f;
	int		 connected;
	char		*selected;
	uint32_t	*dele;		/* POP3 UIDs marked for deletion */
	size_t		 ndele;
};

/* ---- the fake server's state ---------------------------------------------- */

static struct ffolder *
folder_find(struct sync_fake *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nfo; i++)
		if (strcmp(f->fo[i]->name, name) == 0)
			return f->fo[i];
	return NULL;
}

static struct ffolder *
folder_new(struct sync_fake *f, const char *name, unsigned su)
{
	struct ffolder *fo = xcalloc(1, sizeof(*fo));

	fo->name = xstrdup(name);
	fo->su = su;
	fo->uidvalidity = f->next_uidvalidity++;
	fo->uidnext = 1;
	fo->modseq = 1;
	f->fo = xreallocarray(f->fo, f->nfo + 1, sizeof(*f->fo));
	f->fo[f->nfo++] = fo;
	return fo;
}

static void
msg_clear(struct fmsg *m)
{
	free(m->kw);
	free(m->data);
}

static void
folder_free(struct ffolder *fo)
{
	size_t i;

	for (i = 0; i < fo->n; i++)
		msg_clear(&fo->m[i]);
	free(fo->m);
	free(fo->gone);
	free(fo->name);
	free(fo);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split a space-separated list into v (FAKE_KW_MAX room, pointing into
 * buf, a copy the caller frees); returns the count. */
static size_t
kw_split(const char *s, char **buf, char **v)
{
	size_t n = 0;
	char *p;

	p = *buf = xstrdup(s != NULL ? s : "");
	while (n < FAKE_KW_MAX) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		v[n++] = p;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	return n;
}

/* A canonical keyword list: sorted, unique, space-separated. */
static char *
kw_join(char **v, size_t n)
{
	size_t i, len = 1;
	char *out, *p;

	qsort(v, n, sizeof(*v), cmp_str);
	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	p = out = xmalloc(len);
	*p = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (p != out)
			*p++ = ' ';
		memcpy(p, v[i], strlen(v[i]) + 1);
		p += strlen(v[i]);
	}
	return out;
}

static char *
kw_canon(const char *s)
{
	char *buf, *v[FAKE_KW_MAX], *out;
	size_t n = kw_split(s, &buf, v);

	out = kw_join(v, n);
	free(buf);
	return out;
}

static struct fmsg *
msg_find(struct ffolder *fo, uint32_t uid)
{
	size_t i;

	for (i = 0; i < fo->n; i++)
		if (fo->m[i].uid == uid)
			return &fo->m[i];
	return NULL;
}

static uint32_t
msg_append(struct ffolder *fo, const void *data, size_t len, uint32_t flags,
    const char *kw, int64_t date)
{
	struct fmsg *m;

	if (fo->n == fo->cap) {
		fo->cap = fo->cap == 0 ? 16 : 2 * fo->cap;
		fo->m = xreallocarray(fo->m, fo->cap, sizeof(*fo->m));
	}
	m = &fo->m[fo->n++];
	memset(m, 0, sizeof(*m));
	m->uid = fo->uidnext++;
	m->flags = flags & 0x1f;
	m->kw = kw_canon(kw);
	m->date = date;
	m->data = xmalloc(len + 1);
	memcpy(m->data, data, len);
	m->len = len;
	m->modseq = ++fo->modseq;
	return m->uid;
}

static void
msg_remove(struct ffolder *fo, uint32_t uid)
{
	size_t i;

	for (i = 0; i < fo->n; i++)
		if (fo->m[i].uid == uid)
			break;
	if (i == fo->n)
		return;
	msg_clear(&fo->m[i]);
	memmove(&fo->m[i], &fo->m[i + 1], (fo->n - i - 1) * sizeof(*fo->m));
	fo->n--;
	fo->gone = xreallocarray(fo->gone, fo->ngone + 1, sizeof(*fo->gone));
	fo->gone[fo->ngone].uid = uid;
	fo->gone[fo->ngone++].modseq = ++fo->modseq;
}

static void
msg_set(struct ffolder *fo, struct fmsg *m, uint32_t flags, char *kw)
{
	if (m->flags == (flags & 0x1f) && strcmp(m->kw, kw) == 0) {
		free(kw);
		return;
	}
	m->flags = flags & 0x1f;
	free(m->kw);
	m->kw = kw;
	m->modseq = ++fo->modseq;
}

/* ---- the test's side ------------------------------------------------------- */

struct sync_fake *
sync_fake_new(unsigned caps)
{
	struct sync_fake *f = xcalloc(1, sizeof(*f));

	f->caps = caps;
	f->next_uidvalidity = 1000;
	folder_new(f, "INBOX", 0);
	return f;
}

void
sync_fake_free(struct sync_fake **fp)
{
	struct sync_fake *f = *fp;
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nfo; i++)
		folder_free(f->fo[i]);
	for (i = 0; i < ARRAY_SIZE(f->refuse); i++)
		free(f->refuse[i].name);
	free(f->fo);
	free(f);
	*fp = NULL;
}

void
sync_fake_set_caps(struct sync_fake *f, unsigned caps)
{
	f->caps = caps;
}

int
sync_fake_folder_add(struct sync_fake *f, const char *name, unsigned su)
{
	if (folder_find(f, name) != NULL)
		return -1;
	folder_new(f, name, su);
	return 0;
}

static int
has_prefix(const char *s, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(s, dir, n) == 0 && s[n] == '/';
}

int
sync_fake_folder_rename(struct sync_fake *f, const char *from, const char *to)
{
	struct ffolder *fo = folder_find(f, from);
	size_t i;
	char *nn;

	if (fo == NULL || folder_find(f, to) != NULL ||
	    strcmp(from, "INBOX") == 0)
		return -1;
	for (i = 0; i < f->nfo; i++) {
		if (!has_prefix(f->fo[i]->name, from))
			continue;
		nn = xasprintf("%s%s", to, f->fo[i]->name + strlen(from));
		free(f->fo[i]->name);
		f->fo[i]->name = nn;
	}
	free(fo->name);
	fo->name = xstrdup(to);
	return 0;
}

int
sync_fake_folder_delete(struct sync_fake *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nfo; i++) {
		if (strcmp(f->fo[i]->name, name) != 0)
			continue;
		if (strcmp(name, "INBOX") == 0)
			return -1;
		folder_free(f->fo[i]);
		memmove(&f->fo[i], &f->fo[i + 1],
		    (f->nfo - i - 1) * sizeof(*f->fo));
		f->nfo--;
		return 0;
	}
	return -1;
}

int
sync_fake_folder_exists(struct sync_fake *f, const char *name)
{
	return folder_find(f, name) != NULL;
}

int
sync_fake_folder_reset(struct sync_fake *f, const char *name)
{
	struct ffolder *fo = folder_find(f, name);
	size_t i;

	if (fo == NULL)
		return -1;
	fo->uidvalidity = f->next_uidvalidity++;
	fo->uidnext = 1;
	for (i = 0; i < fo->n; i++) {
		fo->m[i].uid = fo->uidnext++;
		fo->m[i].modseq = ++fo->modseq;
	}
	free(fo->gone);
	fo->gone = NULL;
	fo->ngone = 0;
	return 0;
}

int
sync_fake_folder_set_uidvalidity(struct sync_fake *f, const char *name,
    uint32_t uidvalidity)
{
	struct ffolder *fo = folder_find(f, name);

	if (fo == NULL || uidvalidity == 0)
		return -1;
	fo->uidvalidity = uidvalidity;
	return 0;
}

int
sync_fake_create_refuse(struct sync_fake *f, const char *name,
    enum sync_errkind kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f->refuse); i++)
		if (f->refuse[i].name == NULL) {
			f->refuse[i].name = xstrdup(name);
			f->refuse[i].kind = kind;
			return 0;
		}
	return -1;
}

int
sync_fake_folder_nomodseq(struct sync_fake *f, const char *name)
{
	struct ffolder *fo = folder_find(f, name);

	if (fo == NULL)
		return -1;
	fo->nomodseq = 1;
	return 0;
}

uint32_t
sync_fake_msg_add(struct sync_fake *f, const char *folder, const void *data,
    size_t len, uint32_t flags, const char *kw, int64_t internaldate)
{
	struct ffolder *fo = folder_find(f, folder);

	if (fo == NULL)
		return 0;
	return msg_append(fo, data, len, flags, kw, internaldate);
}

int
sync_fake_msg_set_flags(struct sync_fake *f, const char *folder, uint32_t uid,
    uint32_t flags, const char *kw)
{
	struct ffolder *fo = folder_find(f, folder);
	struct fmsg *m = fo != NULL ? msg_find(fo, uid) : NULL;

	if (m == NULL)
		return -1;
	msg_set(fo, m, flags, kw_canon(kw));
	return 0;
}

int
sync_fake_msg_expunge(struct sync_fake *f, const char *folder, uint32_t uid)
{
	struct ffolder *fo = folder_find(f, folder);

	if (fo == NULL || msg_find(fo, uid) == NULL)
		return -1;
	msg_remove(fo, uid);
	return 0;
}

int
sync_fake_folder_undeletable(struct sync_fake *f, const char *name, int times)
{
	struct ffolder *fo = folder_find(f, name);

	if (fo == NULL)
		return -1;
	fo->undeletable = times;
	return 0;
}

int
sync_fake_folder_unlisted(struct sync_fake *f, const char *name, int on)
{
	struct ffolder *fo = folder_find(f, name);

	if (fo == NULL)
		return -1;
	fo->unlisted = on;
	return 0;
}

int
sync_fake_msg_hide(struct sync_fake *f, const char *folder, uint32_t uid,
    int times)
{
	struct ffolder *fo = folder_find(f, folder);
	struct fmsg *m = fo != NULL ? msg_find(fo, uid) : NULL;

	if (m == NULL)
		return -1;
	m->hide = times;
	return 0;
}

int
sync_fake_msg_refuse(struct sync_fake *f, const char *folder, uint32_t uid,
    int times)
{
	struct ffolder *fo = folder_find(f, folder);
	struct fmsg *m = fo != NULL ? msg_find(fo, uid) : NULL;

	if (m == NULL)
		return -1;
	m->refuse = times;
	return 0;
}

size_t
sync_fake_msg_count(struct sync_fake *f, const char *folder)
{
	struct ffolder *fo = folder_find(f, folder);

	return fo != NULL ? fo->n : 0;
}

int
sync_fake_msg_at(struct sync_fake *f, const char *folder, size_t i,
    uint32_t *uid_r, uint32_t *flags_r, const char **kw_r,
    const void **data_r, size_t *len_r)
{
	struct ffolder *fo = folder_find(f, folder);
	struct fmsg *m;

	if (fo == NULL || i >= fo->n)
		return -1;
	m = &fo->m[i];
	if (uid_r != NULL)
		*uid_r = m->uid;
	if (flags_r != NULL)
		*flags_r = m->flags;
	if (kw_r != NULL) {
		snprintf(f->kwbuf, sizeof(f->kwbuf), "%s", m->kw);
		*kw_r = f->kwbuf;
	}
	if (data_r != NULL)
		*data_r = m->data;
	if (len_r != NULL)
		*len_r = m->len;
	return 0;
}

void
sync_fake_fail_at(struct sync_fake *f, long n, int after)
{
	f->steps = 0;
	f->fail_at = n;
	f->fail_after = after;
}

long
sync_fake_steps(struct sync_fake *f)
{
	return f->steps;
}

unsigned
sync_fake_calls(struct sync_fake *f, const char *op)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f->calls) && f->calls[i].op != NULL; i++)
		if (strcmp(f->calls[i].op, op) == 0)
			return f->calls[i].n;
	return 0;
}

/* ---- the driver's side ------------------------------------------------------ */

enum { STEP_OK, STEP_FAIL, STEP_FAIL_AFTER };

static void
count_call(struct sync_fake *f, const char *op)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f->calls); i++) {
		if (f->calls[i].op == NULL)
			f->calls[i].op = op;
		if (strcmp(f->calls[i].op, op) == 0) {
			f->calls[i].n++;
			return;
		}
	}
}

static int
lost(struct fake_drv *d, struct sync_error *err)
{
	d->connected = 0;
	free(d->selected);
	d->selected = NULL;
	free(d->dele);
	d->dele = NULL;
	d->ndele = 0;
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
	    SYNC_EK_NET, "connection to the fake server lost");
}

/* Count a step; say whether it fails, and how. */
static int
step(struct fake_drv *d)
{
	struct sync_fake *f = d->f;

	f->steps++;
	if (f->fail_at == 0 || f->steps != f->fail_at)
		return STEP_OK;
	f->fail_at = 0;
	return f->fail_after ? STEP_FAIL_AFTER : STEP_FAIL;
}

/* The start of every operation: connected, counted, maybe failing. */
static int
op_begin(struct fake_drv *d, const char *op, int *after_r,
    struct sync_error *err)
{
	int s;

	*after_r = 0;
	if (!d->connected)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_LATER, SYNC_EK_NET, "not connected");
	count_call(d->f, op);
	s = step(d);
	if (s == STEP_FAIL)
		return lost(d, err);
	*after_r = s == STEP_FAIL_AFTER;
	return 0;
}

static int
op_end(struct fake_drv *d, int after, struct sync_error *err)
{
	return after ? lost(d, err) : 0;
}

/* An operation that failed (rc, *err set): with the step failing after
 * its effect, the connection is lost all the same. */
static int
op_fail(struct fake_drv *d, int after, struct sync_error *err, int rc)
{
	return after ? lost(d, err) : rc;
}

static struct ffolder *
selected(struct fake_drv *d, struct sync_error *err)
{
	struct ffolder *fo = d->selected != NULL ?
	    folder_find(d->f, d->selected) : NULL;

	if (fo == NULL)
		sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_LATER,
		    SYNC_EK_NONEXISTENT, "no folder selected");
	return fo;
}

static int
fake_connect(struct sync_driver *drv, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;

	d->connected = 1;
	if (step(d) != STEP_OK)
		return lost(d, err);
	count_call(d->f, "connect");
	drv->caps = d->f->caps;
	return 0;
}

static void
fake_disconnect(struct sync_driver *drv)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *inbox = folder_find(d->f, "INBOX");
	size_t i;

	/* POP3: deletions take effect at a clean QUIT only. */
	if (d->connected && inbox != NULL)
		for (i = 0; i < d->ndele; i++)
			msg_remove(inbox, d->dele[i]);
	free(d->dele);
	d->dele = NULL;
	d->ndele = 0;
	d->connected = 0;
	free(d->selected);
	d->selected = NULL;
}

static void
fake_free(struct sync_driver **drvp)
{
	struct fake_drv *d = (struct fake_drv *)*drvp;

	if (d == NULL)
		return;
	fake_disconnect(&d->base);
	free(d);
	*drvp = NULL;
}

static int
fake_list_folders(struct sync_driver *drv, struct sync_folder **list_r,
    size_t *n_r, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct sync_folder *v;
	size_t i, n = 0;
	int after;

	if (op_begin(d, "list", &after, err) != 0)
		return -1;
	v = xcalloc(d->f->nfo + 1, sizeof(*v));
	for (i = 0; i < d->f->nfo; i++) {
		const struct ffolder *fo = d->f->fo[i];

		if (fo->unlisted)
			continue;
		v[n].name = xstrdup(fo->name);
		v[n].special_use = fo->su;
		if (drv->caps & SYNC_CAP_LIST_STATUS) {
			v[n].status_ok = 1;
			v[n].uidvalidity = fo->uidvalidity;
			v[n].uidnext = fo->uidnext;
			v[n].messages = (uint32_t)fo->n;
			if ((drv->caps & SYNC_CAP_CONDSTORE) && !fo->nomodseq)
				v[n].highestmodseq = fo->modseq;
		}
		n++;
	}
	if (op_end(d, after, err) != 0) {
		sync_folder_list_free(&v, n);
		return -1;
	}
	*list_r = v;
	*n_r = n;
	return 0;
}

static int
fake_select(struct sync_driver *drv, const char *folder,
    struct sync_folder_status *st_r, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	int after;

	if (op_begin(d, "select", &after, err) != 0)
		return -1;
	free(d->selected);
	d->selected = NULL;
	if ((fo = folder_find(d->f, folder)) == NULL)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no folder %s", folder));
	d->selected = xstrdup(folder);
	memset(st_r, 0, sizeof(*st_r));
	st_r->uidvalidity = fo->uidvalidity;
	st_r->uidnext = fo->uidnext;
	st_r->exists = (uint32_t)fo->n;
	if ((drv->caps & SYNC_CAP_CONDSTORE) && !fo->nomodseq)
		st_r->highestmodseq = fo->modseq;
	st_r->keywords_ok = 1;
	return op_end(d, after, err);
}

static int
in_ranges(const struct sync_fetch_req *req, uint32_t uid)
{
	size_t i;

	for (i = 0; i < req->nranges; i++)
		if (uid >= req->ranges[i].lo && uid <= req->ranges[i].hi)
			return 1;
	return 0;
}

static int
stopped(struct sync_error *err)
{
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
	    SYNC_EK_STOPPED, "stopped by the engine");
}

static int message_id(const struct fmsg *m, char *out, size_t outlen);

/* Report one message: msg(), then the body in two pieces and end(). */
static int
deliver(struct fake_drv *d, const struct fmsg *m, unsigned what,
    const struct sync_fetch_cb *cb, struct sync_error *err)
{
	struct sync_msg_info mi;
	char *buf, *v[FAKE_KW_MAX], msgid[256];
	size_t half;
	int s;

	memset(&mi, 0, sizeof(mi));
	mi.uid = m->uid;
	if (what & SYNC_FETCH_FLAGS) {
		mi.flags = m->flags;
		mi.nkeywords = kw_split(m->kw, &buf, v);
		mi.keywords = (const char *const *)v;
	} else
		buf = NULL;
	if (what & SYNC_FETCH_DATE)
		mi.internaldate = m->date;
	if (what & SYNC_FETCH_SIZE)
		mi.size = m->len;
	if (what & SYNC_FETCH_MODSEQ)
		mi.modseq = m->modseq;
	if ((what & SYNC_FETCH_MSGID) && message_id(m, msgid,
	    sizeof(msgid)) == 0)
		mi.message_id = msgid;
	if ((s = step(d)) != STEP_OK) {
		free(buf);
		return lost(d, err);
	}
	s = cb->msg != NULL ? cb->msg(cb->arg, &mi) : 0;
	free(buf);
	if (s != 0)
		return stopped(err);
	if (!(what & SYNC_FETCH_BODY))
		return 0;
	half = m->len / 2;
	if (cb->body != NULL && (cb->body(cb->arg, m->data, half) != 0 ||
	    cb->body(cb->arg, m->data + half, m->len - half) != 0))
		return stopped(err);
	/* A failure here is a connection cut in the middle of the literal. */
	if (step(d) != STEP_OK)
		return lost(d, err);
	if (cb->end != NULL && cb->end(cb->arg) != 0)
		return stopped(err);
	return 0;
}

static int
fake_fetch(struct sync_driver *drv, const struct sync_fetch_req *req,
    const struct sync_fetch_cb *cb, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	uint32_t *uids, *van;
	size_t i, n, nvan = 0;
	int after;

	if (op_begin(d, "fetch", &after, err) != 0)
		return -1;
	if ((fo = selected(d, err)) == NULL)
		return op_fail(d, after, err, -1);
	if (req->changedsince != 0 && (!(drv->caps & SYNC_CAP_CONDSTORE) ||
	    fo->nomodseq))
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_PROTOCOL, "CHANGEDSINCE without MODSEQs"));
	if (req->vanished && req->changedsince != 0 &&
	    (drv->caps & SYNC_CAP_QRESYNC) && cb->vanished != NULL) {
		van = xcalloc(fo->ngone + 1, sizeof(*van));
		for (i = 0; i < fo->ngone; i++)
			if (fo->gone[i].modseq > req->changedsince &&
			    in_ranges(req, fo->gone[i].uid))
				van[nvan++] = fo->gone[i].uid;
		i = nvan > 0 ? (size_t)cb->vanished(cb->arg, van, nvan) : 0;
		free(van);
		if (i != 0)
			return stopped(err);
	}
	/* Snapshot the UIDs: a callback may not change the fake, but keep
	 * the loop independent of the array anyway. */
	uids = xcalloc(fo->n + 1, sizeof(*uids));
	for (i = 0, n = 0; i < fo->n; i++)
		if (in_ranges(req, fo->m[i].uid) &&
		    (req->changedsince == 0 ||
		    fo->m[i].modseq > req->changedsince))
			uids[n++] = fo->m[i].uid;
	for (i = 0; i < n; i++) {
		struct fmsg *m = msg_find(fo, uids[i]);

		/* A server that answers NO for one message's bytes: the
		 * driver skips it silently. */
		if (m != NULL && (req->what & SYNC_FETCH_BODY) &&
		    m->refuse != 0) {
			if (m->refuse > 0)
				m->refuse--;
			continue;
		}
		if (m != NULL && !(req->what & SYNC_FETCH_BODY) &&
		    m->hide != 0) {
			if (m->hide > 0)
				m->hide--;
			continue;
		}
		if (m != NULL && deliver(d, m, req->what, cb, err) != 0) {
			free(uids);
			return -1;
		}
	}
	free(uids);
	return op_end(d, after, err);
}

static int
fake_list_uids(struct sync_driver *drv, uint32_t **uids_r, size_t *n_r,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	uint32_t *v;
	size_t i;
	int after;

	if (op_begin(d, "list_uids", &after, err) != 0)
		return -1;
	if ((fo = selected(d, err)) == NULL)
		return op_fail(d, after, err, -1);
	v = xcalloc(fo->n + 1, sizeof(*v));
	for (i = 0; i < fo->n; i++)
		v[i] = fo->m[i].uid;
	if (op_end(d, after, err) != 0) {
		free(v);
		return -1;
	}
	*uids_r = v;
	*n_r = fo->n;
	return 0;
}

/* The Message-ID field of a message, into out; 0 if found. */
static int
message_id(const struct fmsg *m, char *out, size_t outlen)
{
	const char *p = (const char *)m->data, *end = p + m->len, *e;

	while (p < end) {
		if (end - p > 11 && ascii_strncasecmp(p, "Message-ID:", 11)
		    == 0) {
			p += 11;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			for (e = p; e < end && *e != '\r' && *e != '\n'; e++)
				;
			snprintf(out, outlen, "%.*s", (int)(e - p), p);
			return 0;
		}
		if (*p == '\r' || *p == '\n')
			return -1;	/* end of the header */
		while (p < end && *p != '\n')
			p++;
		p++;
	}
	return -1;
}

static int
fake_search_msgid(struct sync_driver *drv, const char *msgid,
    uint32_t **uids_r, size_t *n_r, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	char id[512];
	uint32_t *v;
	size_t i, n = 0;
	int after;

	if (op_begin(d, "search", &after, err) != 0)
		return -1;
	if ((fo = selected(d, err)) == NULL)
		return op_fail(d, after, err, -1);
	v = xcalloc(fo->n + 1, sizeof(*v));
	for (i = 0; i < fo->n; i++)
		if (message_id(&fo->m[i], id, sizeof(id)) == 0 &&
		    strcmp(id, msgid) == 0)
			v[n++] = fo->m[i].uid;
	if (op_end(d, after, err) != 0) {
		free(v);
		return -1;
	}
	*uids_r = v;
	*n_r = n;
	return 0;
}

/* Apply a flag change to one message. */
static void
change(struct ffolder *fo, struct fmsg *m, const struct sync_flag_change *ch)
{
	char *buf, *v[2 * FAKE_KW_MAX];
	size_t n, i, j, k;

	n = kw_split(m->kw, &buf, v);
	switch (ch->op) {
	case SYNC_FLAGS_SET:
		for (n = 0; n < ch->nkeywords && n < FAKE_KW_MAX; n++)
			v[n] = (char *)ch->keywords[n];
		msg_set(fo, m, ch->flags, kw_join(v, n));
		break;
	case SYNC_FLAGS_ADD:
		for (i = 0; i < ch->nkeywords && n < 2 * FAKE_KW_MAX; i++)
			v[n++] = (char *)ch->keywords[i];
		msg_set(fo, m, m->flags | ch->flags, kw_join(v, n));
		break;
	case SYNC_FLAGS_REMOVE:
		for (i = 0, k = 0; i < n; i++) {
			for (j = 0; j < ch->nkeywords; j++)
				if (strcmp(v[i], ch->keywords[j]) == 0)
					break;
			if (j == ch->nkeywords)
				v[k++] = v[i];
		}
		msg_set(fo, m, m->flags & ~ch->flags, kw_join(v, k));
		break;
	}
	free(buf);
}

static int
fake_store_flags(struct sync_driver *drv, const uint32_t *uids, size_t n,
    const struct sync_flag_change *ch, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	struct fmsg *m;
	size_t i;
	int after;

	if (op_begin(d, "store", &after, err) != 0)
		return -1;
	if ((fo = selected(d, err)) == NULL)
		return op_fail(d, after, err, -1);
	for (i = 0; i < n; i++)
		if ((m = msg_find(fo, uids[i])) != NULL)
			change(fo, m, ch);
	return op_end(d, after, err);
}

static int
fake_expunge(struct sync_driver *drv, const uint32_t *uids, size_t n,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	size_t i;
	int after;

	if (op_begin(d, "expunge", &after, err) != 0)
		return -1;
	if ((fo = selected(d, err)) == NULL)
		return op_fail(d, after, err, -1);
	for (i = 0; i < n; i++)
		msg_remove(fo, uids[i]);
	return op_end(d, after, err);
}

static int
fake_copy(struct sync_driver *drv, const uint32_t *uids, size_t n,
    const char *dest, int move, uint32_t *newuids, uint32_t *uv_r,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo, *to;
	struct fmsg *m;
	size_t i, k;
	uint32_t u;
	int after;

	if (op_begin(d, move ? "move" : "copy", &after, err) != 0)
		return -1;
	if ((fo = selected(d, err)) == NULL)
		return op_fail(d, after, err, -1);
	if ((to = folder_find(d->f, dest)) == NULL)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no folder %s", dest));
	for (i = 0, k = 0; i < n; i++) {
		newuids[i] = 0;
		if ((m = msg_find(fo, uids[i])) == NULL)
			continue;
		u = msg_append(to, m->data, m->len, m->flags, m->kw, m->date);
		if (drv->caps & SYNC_CAP_UIDPLUS)
			newuids[i] = u;
		if (move)
			msg_remove(fo, uids[i]);
		k++;
	}
	/* As Dovecot: no COPYUID when nothing was copied. */
	*uv_r = (drv->caps & SYNC_CAP_UIDPLUS) && k > 0 ? to->uidvalidity : 0;
	return op_end(d, after, err);
}

static int
fake_append(struct sync_driver *drv, const char *folder,
    const struct sync_append_src *src, uint32_t *uid_r, uint32_t *uv_r,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *to;
	unsigned char *buf;
	char *kw, *v[FAKE_KW_MAX];
	size_t len = 0, i;
	ssize_t r;
	uint32_t u;
	int after;

	if (op_begin(d, "append", &after, err) != 0)
		return -1;
	if ((to = folder_find(d->f, folder)) == NULL)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no folder %s", folder));
	buf = xmalloc(src->size + 1);
	while (len < src->size &&
	    (r = src->read(src->arg, buf + len, src->size - len)) > 0)
		len += (size_t)r;
	if (len != src->size) {
		free(buf);
		return lost(d, err);
	}
	for (i = 0; i < src->nkeywords && i < FAKE_KW_MAX; i++)
		v[i] = (char *)src->keywords[i];
	kw = kw_join(v, i);
	u = msg_append(to, buf, len, src->flags, kw, src->internaldate);
	free(kw);
	free(buf);
	*uid_r = drv->caps & SYNC_CAP_UIDPLUS ? u : 0;
	*uv_r = drv->caps & SYNC_CAP_UIDPLUS ? to->uidvalidity : 0;
	return op_end(d, after, err);
}

static int
fake_create(struct sync_driver *drv, const char *name, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	size_t i;
	int after;

	if (op_begin(d, "create", &after, err) != 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(d->f->refuse); i++)
		if (d->f->refuse[i].name != NULL &&
		    strcmp(d->f->refuse[i].name, name) == 0)
			return op_fail(d, after, err,
			    sync_error_set(err, SYNC_SCOPE_FOLDER,
			    SYNC_RETRY_NEVER, d->f->refuse[i].kind, "the fake "
			    "refuses to create %s", name));
	if (sync_fake_folder_add(d->f, name, 0) != 0)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_EXISTS, "folder %s exists", name));
	return op_end(d, after, err);
}

static int
fake_rename(struct sync_driver *drv, const char *from, const char *to,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	int after;

	if (op_begin(d, "rename", &after, err) != 0)
		return -1;
	if (folder_find(d->f, from) == NULL)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no folder %s", from));
	if (sync_fake_folder_rename(d->f, from, to) != 0)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_EXISTS, "folder %s exists", to));
	if (d->selected != NULL && strcmp(d->selected, from) == 0) {
		free(d->selected);
		d->selected = NULL;
	}
	return op_end(d, after, err);
}

static int
fake_delete(struct sync_driver *drv, const char *name, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo;
	int after;

	if (op_begin(d, "delete", &after, err) != 0)
		return -1;
	if ((fo = folder_find(d->f, name)) != NULL && fo->undeletable > 0) {
		fo->undeletable--;
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "Mailbox already exists"));
	}
	if (sync_fake_folder_delete(d->f, name) != 0)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no folder %s", name));
	if (d->selected != NULL && strcmp(d->selected, name) == 0) {
		free(d->selected);
		d->selected = NULL;
	}
	return op_end(d, after, err);
}

static int
fake_idle(struct sync_driver *drv, int timeout_ms, int cancel_fd,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	int after;

	if (op_begin(d, "idle", &after, err) != 0)
		return -1;
	return op_end(d, after, err);
}

/* ---- POP3 view ---------------------------------------------------------------- */

static int
marked(struct fake_drv *d, uint32_t uid)
{
	size_t i;

	for (i = 0; i < d->ndele; i++)
		if (d->dele[i] == uid)
			return 1;
	return 0;
}

static int
fake_pop3_list(struct sync_driver *drv, struct sync_pop3_msg **list_r,
    size_t *n_r, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo = folder_find(d->f, "INBOX");
	struct sync_pop3_msg *v;
	size_t i;
	int after;

	if (op_begin(d, "uidl", &after, err) != 0)
		return -1;
	v = xcalloc(fo->n + 1, sizeof(*v));
	for (i = 0; i < fo->n; i++) {
		v[i].msgno = (uint32_t)i + 1;
		v[i].size = fo->m[i].len;
		v[i].uidl = xasprintf("u%u.%u", fo->uidvalidity, fo->m[i].uid);
	}
	if (op_end(d, after, err) != 0) {
		sync_pop3_list_free(&v, fo->n);
		return -1;
	}
	*list_r = v;
	*n_r = fo->n;
	return 0;
}

static int
fake_pop3_retr(struct sync_driver *drv, uint32_t msgno,
    const struct sync_fetch_cb *cb, struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo = folder_find(d->f, "INBOX");
	int after;

	if (op_begin(d, "retr", &after, err) != 0)
		return -1;
	if (msgno == 0 || msgno > fo->n || marked(d, fo->m[msgno - 1].uid))
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_MESSAGE, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no message %u", msgno));
	if (deliver(d, &fo->m[msgno - 1], SYNC_FETCH_SIZE | SYNC_FETCH_BODY,
	    cb, err) != 0)
		return -1;
	return op_end(d, after, err);
}

static int
fake_pop3_dele(struct sync_driver *drv, uint32_t msgno,
    struct sync_error *err)
{
	struct fake_drv *d = (struct fake_drv *)drv;
	struct ffolder *fo = folder_find(d->f, "INBOX");
	int after;

	if (op_begin(d, "dele", &after, err) != 0)
		return -1;
	if (msgno == 0 || msgno > fo->n)
		return op_fail(d, after, err,
		    sync_error_set(err, SYNC_SCOPE_MESSAGE, SYNC_RETRY_NEVER,
		    SYNC_EK_NONEXISTENT, "no message %u", msgno));
	d->dele = xreallocarray(d->dele, d->ndele + 1, sizeof(*d->dele));
	d->dele[d->ndele++] = fo->m[msgno - 1].uid;
	return op_end(d, after, err);
}

static const struct sync_driver_ops fake_imap_ops = {
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.free = fake_free,
	.list_folders = fake_list_folders,
	.select = fake_select,
	.fetch = fake_fetch,
	.list_uids = fake_list_uids,
	.search_msgid = fake_search_msgid,
	.store_flags = fake_store_flags,
	.expunge = fake_expunge,
	.copy = fake_copy,
	.append = fake_append,
	.create_folder = fake_create,
	.rename_folder = fake_rename,
	.delete_folder = fake_delete,
	.idle = fake_idle,
};

static const struct sync_driver_ops fake_pop3_ops = {
	.connect = fake_connect,
	.disconnect = fake_disconnect,
	.free = fake_free,
	.pop3_list = fake_pop3_list,
	.pop3_retr = fake_pop3_retr,
	.pop3_dele = fake_pop3_dele,
};

struct sync_driver *
sync_fake_driver(struct sync_fake *f, enum sync_proto proto)
{
	struct fake_drv *d = xcalloc(1, sizeof(*d));

	d->f = f;
	d->base.proto = proto;
	d->base.ops = proto == SYNC_PROTO_POP3 ? &fake_pop3_ops :
	    &fake_imap_ops;
	return &d->base;
}
