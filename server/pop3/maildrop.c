/*
 * maildrop: the TRANSACTION and UPDATE states (RFC 1939 sections 5, 6).
 *
 * At login the account's INBOX is listed once into s->msgs: message
 * numbers are indexes into that snapshot and stay fixed for the session
 * whatever IMAP clients do meanwhile. Messages an earlier POP3 session
 * deleted in hide mode (store_pop3_hidden(): state of the store's own,
 * which IMAP never sees and a move does not carry) are left out. A UIDL is the UID and the UIDVALIDITY in lowercase hex,
 * as Dovecot's "%08Xu%08Xv" gives, so it is unique and never changes for
 * a message.
 *
 * RETR and TOP stream the content from the store (store_reader_*) one
 * chunk at a time through the byte-stuffer: a '.' that begins a line
 * (after an LF, or the first byte) gets another '.' in front. The bytes
 * sent are the stored wire-form bytes, so a message's size in LIST is
 * exactly what RETR sends before stuffing; a message that does not end
 * with a line end gets a CRLF before the terminating ".".
 *
 * DELE only marks. QUIT in TRANSACTION (the UPDATE state) carries the
 * marks out in one store transaction, and sets \Seen on the messages
 * retrieved; a session that ends any other way changes nothing.
 */
#include "server/pop3/pop3d_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "lib/util.h"
#include "store/store.h"

#define RBUF_SIZE	STORE_CHUNK_SIZE
#define U64_DIGITS	20

/* ---- the snapshot ------------------------------------------------------ */

/* 1 if uid is among hidden[0..n) (ascending); *at moves forward. */
static int
is_hidden(const uint32_t *hidden, size_t n, size_t *at, uint32_t uid)
{
	while (*at < n && hidden[*at] < uid)
		(*at)++;
	return *at < n && hidden[*at] == uid;
}

int
pop3d_maildrop_open(struct pop3d_session *s)
{
	struct store_mailbox mb;
	struct store_msg *list = NULL;
	uint32_t *hidden = NULL;
	size_t n = 0, nhidden = 0, at = 0, i;
	int rc;

	rc = store_mailbox_find(s->st, s->acct, "INBOX", &mb);
	if (rc != 0)
		goto fail;
	s->mbox = mb.id;
	s->uidvalidity = mb.uidvalidity;
	store_mailbox_clear(&mb);
	/* One snapshot, so the list and the hidden ones agree. */
	store_snapshot_begin(s->st);
	rc = store_pop3_hidden(s->st, s->mbox, &hidden, &nhidden);
	if (rc == 0)
		rc = store_msg_list(s->st, s->mbox, 0, &list, &n);
	store_snapshot_end(s->st);
	if (rc != 0) {
		free(hidden);
		goto fail;
	}
	s->msgs = xcalloc(n > 0 ? n : 1, sizeof(*s->msgs));
	s->nmsgs = 0;
	s->live_bytes = 0;
	for (i = 0; i < n; i++) {
		if (is_hidden(hidden, nhidden, &at, list[i].uid))
			continue;
		s->msgs[s->nmsgs].uid = list[i].uid;
		s->msgs[s->nmsgs].size = list[i].size;
		s->msgs[s->nmsgs].content = list[i].content;
		s->live_bytes += list[i].size;
		s->nmsgs++;
	}
	s->nlive = s->nmsgs;
	free(list);
	free(hidden);
	return 0;
fail:
	pop3d_log(s, "cannot open the maildrop of %s: %s", s->login,
	    store_errmsg(s->st));
	pop3d_reply(s, "-ERR [SYS/TEMP] The maildrop cannot be opened: %s",
	    store_errmsg(s->st));
	return -1;
}

void
pop3d_maildrop_close(struct pop3d_session *s)
{
	free(s->msgs);
	s->msgs = NULL;
	s->nmsgs = s->nlive = 0;
}

/*
 * The message a number names, or NULL after answering -ERR: numbers
 * outside the snapshot and deleted messages do not exist (RFC 1939 5).
 */
static struct pop3d_msg *
lookup(struct pop3d_session *s, uint32_t num)
{
	struct pop3d_msg *m;

	if (num == 0 || num > s->nmsgs) {
		pop3d_reply(s, "-ERR There is no message %u", num);
		return NULL;
	}
	m = &s->msgs[num - 1];
	if (m->deleted) {
		pop3d_reply(s, "-ERR Message %u is deleted", num);
		return NULL;
	}
	return m;
}

/* ---- listing ----------------------------------------------------------- */

/* Decimal digits of v into the end of out; returns where they start. */
static char *
fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

static char *
fmt_hex8(char *end, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 8; i++) {
		*--end = hex[v & 15];
		v >>= 4;
	}
	return end;
}

/*
 * One scan line "num value": the size, or the UIDL. Formatted by hand:
 * LIST and UIDL of a big maildrop are thousands of lines.
 */
static void
scan_line(struct pop3d_session *s, size_t num, const struct pop3d_msg *m,
    int uidl, int prefix_ok)
{
	char line[16 + 2 * U64_DIGITS + 8], *end = line + sizeof(line), *p;

	p = end;
	*--p = '\n';
	*--p = '\r';
	if (uidl) {
		p = fmt_hex8(p, s->uidvalidity);
		p = fmt_hex8(p, m->uid);
	} else
		p = fmt_u64(p, m->size);
	*--p = ' ';
	p = fmt_u64(p, num);
	if (prefix_ok) {
		*--p = ' ';
		*--p = 'K';
		*--p = 'O';
		*--p = '+';
	}
	pop3d_write(s, p, (size_t)(end - p));
}

static void
scan_listing(struct pop3d_session *s, struct pop3_cmd *cmd, int uidl)
{
	struct pop3d_msg *m;
	size_t i;

	if (cmd->nargs == 1) {
		if ((m = lookup(s, cmd->num[0])) != NULL)
			scan_line(s, cmd->num[0], m, uidl, 1);
		return;
	}
	if (uidl)
		pop3d_reply(s, "+OK Unique-ID listing follows");
	else
		pop3d_reply(s, "+OK %zu messages (%llu octets)", s->nlive,
		    (unsigned long long)s->live_bytes);
	for (i = 0; i < s->nmsgs && !s->broken; i++)
		if (!s->msgs[i].deleted)
			scan_line(s, i + 1, &s->msgs[i], uidl, 0);
	pop3d_write(s, ".\r\n", 3);
}

int
pop3d_cmd_list(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	scan_listing(s, cmd, 0);
	return 0;
}

int
pop3d_cmd_uidl(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	scan_listing(s, cmd, 1);
	return 0;
}

int
pop3d_cmd_stat(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3d_reply(s, "+OK %zu %llu", s->nlive,
	    (unsigned long long)s->live_bytes);
	return 0;
}

/* ---- DELE, RSET -------------------------------------------------------- */

int
pop3d_cmd_dele(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	struct pop3d_msg *m;

	if ((m = lookup(s, cmd->num[0])) == NULL)
		return 0;
	m->deleted = 1;
	s->nlive--;
	s->live_bytes -= m->size;
	pop3d_reply(s, "+OK Message %u deleted", cmd->num[0]);
	return 0;
}

int
pop3d_cmd_rset(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	size_t i;

	(void)cmd;
	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted) {
			s->msgs[i].deleted = 0;
			s->nlive++;
			s->live_bytes += s->msgs[i].size;
		}
	}
	pop3d_reply(s, "+OK Maildrop has %zu messages (%llu octets)",
	    s->nlive, (unsigned long long)s->live_bytes);
	return 0;
}

/* ---- RETR, TOP --------------------------------------------------------- */

/*
 * Where TOP stops: after the header, its empty separator line and
 * `left` lines of the body. A message without a separator line is all
 * header and is sent whole.
 */
struct top_scan {
	int		 in_body;
	int		 bol;		/* the next byte begins a line */
	int		 bol_cr;	/* the line so far is a lone CR */
	uint64_t	 left;		/* body lines still to send */
	int		 done;
};

/* How many bytes of p[0..n) TOP sends; sets t->done at the limit. */
static size_t
top_cut(struct top_scan *t, const char *p, size_t n)
{
	const char *lf;
	size_t i = 0;

	while (i < n && !t->done) {
		if (t->in_body) {
			if (t->left == 0) {
				t->done = 1;
				break;
			}
			if ((lf = memchr(p + i, '\n', n - i)) == NULL)
				return n;
			i = (size_t)(lf - p) + 1;
			if (--t->left == 0)
				t->done = 1;
			continue;
		}
		if (t->bol) {
			if (p[i] == '\n') {
				/* The empty line: the header ends here. */
				t->in_body = 1;
				i++;
				continue;
			}
			if (p[i] == '\r' && !t->bol_cr) {
				t->bol_cr = 1;
				i++;
				continue;
			}
			t->bol = t->bol_cr = 0;
		}
		if ((lf = memchr(p + i, '\n', n - i)) == NULL)
			return n;
		i = (size_t)(lf - p) + 1;
		t->bol = 1;
		t->bol_cr = 0;
	}
	if (t->in_body && t->left == 0)
		t->done = 1;
	return i;
}

/*
 * Write p[0..n) with byte-stuffing. *bol says whether the next byte
 * begins a line; it is updated. The scan looks for the dots, not the
 * line ends: memchr is vectorised, and a dot is rarer than a line end in
 * most mail (base64 bodies, the bulk of the bytes, have none), so there
 * are fewer stops. A dot that begins a line is sent twice: the piece
 * written ends with it and the next piece starts with it.
 */
static void
write_stuffed(struct pop3d_session *s, const char *p, size_t n, int *bol)
{
	const char *end = p + n, *start = p, *dot = p;

	if (n == 0)
		return;
	while ((dot = memchr(dot, '.', (size_t)(end - dot))) != NULL) {
		if (dot == p ? *bol : dot[-1] == '\n') {
			pop3d_write(s, start, (size_t)(dot - start) + 1);
			start = dot;
		}
		dot++;
	}
	pop3d_write(s, start, (size_t)(end - start));
	*bol = end[-1] == '\n';
}

/*
 * Send message m (its header and `lines` body lines for TOP, all of it
 * when lines < 0) as a multi-line response.
 */
static void
send_message(struct pop3d_session *s, uint32_t num, struct pop3d_msg *m,
    int64_t lines)
{
	struct store_reader *rd = NULL;
	struct top_scan t = { 0, 1, 0, 0, 0 };
	size_t cut;
	ssize_t n;
	int bol = 1;

	store_snapshot_begin(s->st);
	if (store_reader_open(s->st, m->content, &rd) != 0) {
		store_snapshot_end(s->st);
		pop3d_log(s, "cannot read message %u (UID %u): %s", num,
		    m->uid, store_errmsg(s->st));
		pop3d_reply(s, "-ERR [SYS/TEMP] Message %u cannot be read; "
		    "it may have been expunged by another client", num);
		return;
	}
	if (s->rbuf == NULL)
		s->rbuf = xmalloc(RBUF_SIZE);
	if (lines < 0)
		pop3d_reply(s, "+OK %llu octets", (unsigned long long)m->size);
	else {
		t.left = (uint64_t)lines;
		pop3d_reply(s, "+OK Top of message %u follows", num);
	}
	while (!s->broken && !t.done &&
	    (n = store_reader_read(rd, s->rbuf, RBUF_SIZE)) != 0) {
		if (n < 0) {
			/* The reply has begun: the only honest way out is
			 * to drop the connection. */
			pop3d_log(s, "reading message %u (UID %u) failed: %s",
			    num, m->uid, store_errmsg(s->st));
			s->broken = 1;
			break;
		}
		cut = lines < 0 ? (size_t)n : top_cut(&t, s->rbuf, (size_t)n);
		write_stuffed(s, s->rbuf, cut, &bol);
	}
	store_reader_close(&rd);
	store_snapshot_end(s->st);
	if (!bol)
		pop3d_write(s, "\r\n", 2);
	pop3d_write(s, ".\r\n", 3);
	if (lines < 0)
		m->retrieved = 1;
}

int
pop3d_cmd_retr(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	struct pop3d_msg *m;

	if ((m = lookup(s, cmd->num[0])) != NULL)
		send_message(s, cmd->num[0], m, -1);
	return 0;
}

int
pop3d_cmd_top(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	struct pop3d_msg *m;

	if ((m = lookup(s, cmd->num[0])) != NULL)
		send_message(s, cmd->num[0], m, (int64_t)cmd->num[1]);
	return 0;
}

/* ---- UPDATE ------------------------------------------------------------ */

static int
expunge_mode(struct pop3d_session *s)
{
	char *v = NULL;
	int on;

	if (s->cfg->delete_mode != POP3D_DELETE_SETTING)
		return s->cfg->delete_mode == POP3D_DELETE_EXPUNGE;
	if (store_config_get(s->st, "config.pop3-delete", &v, NULL) != 0)
		return 0;
	on = ascii_strcasecmp(v, "expunge") == 0;
	free(v);
	return on;
}

/* Carry out the marks and the \Seen flags in one transaction. */
static int
apply(struct pop3d_session *s, const uint32_t *del, size_t ndel,
    const uint32_t *seen, size_t nseen, int expunge)
{
	struct store_flag_change ch;

	if (store_txn_begin(s->st) != 0)
		return -1;
	memset(&ch, 0, sizeof(ch));
	ch.op = STORE_FLAGS_ADD;
	ch.flags = STORE_F_SEEN;
	if (nseen > 0 && store_msg_set_flags(s->st, s->mbox, seen, nseen, &ch,
	    NULL, NULL, NULL, NULL) != 0)
		goto fail;
	if (ndel > 0 && (expunge ? store_msg_expunge(s->st, s->mbox, del,
	    ndel) : store_pop3_hide(s->st, s->mbox, del, ndel)) != 0)
		goto fail;
	return store_txn_commit(s->st);
fail:
	store_txn_rollback(s->st);
	return -1;
}

int
pop3d_maildrop_update(struct pop3d_session *s)
{
	uint32_t *del, *seen;
	size_t ndel = 0, nseen = 0, i;
	int expunge = 0, rc = 0;

	del = xcalloc(s->nmsgs + 1, sizeof(*del));
	seen = xcalloc(s->nmsgs + 1, sizeof(*seen));
	for (i = 0; i < s->nmsgs; i++) {
		if (s->msgs[i].deleted)
			del[ndel++] = s->msgs[i].uid;
		if (s->msgs[i].retrieved)
			seen[nseen++] = s->msgs[i].uid;
	}
	if (ndel > 0)
		expunge = expunge_mode(s);
	if (ndel > 0 || nseen > 0)
		rc = apply(s, del, ndel, seen, nseen, expunge);
	free(del);
	free(seen);
	if (rc != 0) {
		pop3d_log(s, "QUIT: deleting %zu messages failed: %s", ndel,
		    store_errmsg(s->st));
		pop3d_reply(s, "-ERR [SYS/TEMP] The deleted messages were not "
		    "removed: %s", store_errmsg(s->st));
		return 0;
	}
	if (ndel > 0)
		pop3d_log(s, "QUIT: %zu messages %s", ndel, expunge ?
		    "expunged" : "hidden from POP3");
	if (s->nlive == 0)
		pop3d_reply(s, "+OK mailvault POP3 server signing off "
		    "(maildrop empty)");
	else
		pop3d_reply(s, "+OK mailvault POP3 server signing off "
		    "(%zu messages left)", s->nlive);
	return 0;
}
