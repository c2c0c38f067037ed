/*
 * Unit tests for the POP3 server (server/pop3/) and the login checks it
 * shares with IMAP (server/login.c).
 *
 * Each session test makes a store in a fresh temporary folder with a few
 * hand-made messages in the INBOX of account "demo", runs
 * pop3d_session_run() on one end of a socketpair in a thread and drives
 * the other end line by line, as a client would: the transcripts are
 * named by the behaviour they prove. The client side talks through a
 * tls_stream too, so STLS and implicit TLS are tested the same way with a
 * certificate made for the test and pinned by its fingerprint.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/digest.h"
#include "lib/pop3_cmd.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "server/pop3/pop3d.h"
#include "server/server_int.h"
#include "store/store.h"

#define PASS		"pop3 test"
#define TIMEOUT_MS	10000
#define BIG_SIZE	(3 * STORE_CHUNK_SIZE + 1234)

/* The fixture's messages, in INBOX order. */
static const char msg_plain[] =
    "From: alice@example.org\r\n"
    "Subject: one\r\n"
    "\r\n"
    "line 1\r\n"
    "line 2\r\n"
    "line 3\r\n";
static const char msg_dots[] =
    ".From: dot@example.org\r\n"
    "Subject: dots\r\n"
    "\r\n"
    ".leading dot\r\n"
    "..two dots\r\n"
    ".\r\n"
    "end\r\n";
static const char msg_no_eol[] =
    "Subject: no line end\r\n"
    "\r\n"
    "last line without CRLF";
static const char msg_header_only[] =
    "Subject: header only\r\n"
    "X-Other: y\r\n";

struct fx {
	char		 dir[64];
	char		*path;
	struct store	*st;
	struct server_shared sh;	/* what server.c gives an epoch */
	struct pop3d_config cfg;
	int64_t		 acct;
	int64_t		 inbox;
	char		*password;
	char		*big;		/* BIG_SIZE bytes, dots at edges */
	struct tls_ctx	*srv_tls;
	struct tls_ctx	*cli_tls;
	int		 shut[2];	/* the shutdown pipe */
};

static struct fx fx;

struct conn {
	struct tls_stream *io;
	pthread_t	 th;
	int		 srv_fd;
	int		 implicit_tls;
	int		 joined;
};

/* ---- fixture ----------------------------------------------------------- */

static void
make_big(void)
{
	size_t i, off;
	const char *head = "Subject: big\r\n\r\n";

	fx.big = xmalloc(BIG_SIZE + 1);
	memcpy(fx.big, head, strlen(head));
	for (i = strlen(head); i < BIG_SIZE; i++)
		fx.big[i] = (char)('a' + i % 26);
	for (i = strlen(head) + 70; i + 2 < BIG_SIZE; i += 72) {
		fx.big[i] = '\r';
		fx.big[i + 1] = '\n';
	}
	/* Lines starting with '.' right at and around each chunk edge. */
	for (off = STORE_CHUNK_SIZE; off < BIG_SIZE; off += STORE_CHUNK_SIZE) {
		fx.big[off - 2] = '\r';
		fx.big[off - 1] = '\n';
		fx.big[off] = '.';
		fx.big[off + 1] = '.';
		fx.big[off + 70] = '\r';
		fx.big[off + 71] = '\n';
		fx.big[off + 72] = '.';
	}
	fx.big[BIG_SIZE - 2] = '\r';
	fx.big[BIG_SIZE - 1] = '\n';
	fx.big[BIG_SIZE] = '\0';
}

static void
append(const char *data, size_t n)
{
	struct store_append_opts o;
	uint32_t uid;

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(store_append_mem(fx.st, fx.inbox, &o, data, n, &uid),
	    0);
}

static void
setup(void)
{
	struct store_mailbox mb;
	char err[256], *cert, *key, fp[TLS_FINGERPRINT_LEN];

	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/mv-pop3.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	fx.path = xasprintf("%s/store.db", fx.dir);
	ck_assert_int_eq(store_create(fx.path, PASS, strlen(PASS),
	    STORE_KDF_MIN, err, sizeof(err)), 0);
	ck_assert_int_eq(store_open(fx.path, PASS, strlen(PASS), &fx.st, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(store_account_create(fx.st, "demo", &fx.acct), 0);
	ck_assert_int_eq(store_mailbox_find(fx.st, fx.acct, "INBOX", &mb), 0);
	fx.inbox = mb.id;
	store_mailbox_clear(&mb);
	ck_assert_int_eq(store_local_password(fx.st, &fx.password), 0);
	make_big();
	append(msg_plain, strlen(msg_plain));
	append(msg_dots, strlen(msg_dots));
	append(msg_no_eol, strlen(msg_no_eol));
	append(msg_header_only, strlen(msg_header_only));
	append(fx.big, BIG_SIZE);

	ck_assert_int_eq(tls_cert_generate("mailvault test", &cert, &key, err,
	    sizeof(err)), 0);
	fx.srv_tls = tls_server_ctx_new(cert, key, err, sizeof(err));
	ck_assert_ptr_nonnull(fx.srv_tls);
	ck_assert_int_eq(tls_cert_fingerprint(cert, fp), 0);
	fx.cli_tls = tls_client_ctx_new(NULL, fp, err, sizeof(err));
	ck_assert_ptr_nonnull(fx.cli_tls);
	free(cert);
	tls_secret_free(&key);

	ck_assert_int_eq(pipe(fx.shut), 0);
	server_shared_init(&fx.sh, 0);
	fx.sh.st = fx.st;
	fx.sh.tls = fx.srv_tls;
	fx.sh.auth_delay_ms = 20;
	pop3d_config_init(&fx.cfg, &fx.sh);
	fx.cfg.delete_mode = POP3D_DELETE_SETTING;
}

static void
teardown(void)
{
	char *cmd;

	store_secret_free(&fx.password);
	server_shared_destroy(&fx.sh);
	store_close(&fx.st);
	tls_ctx_free(&fx.srv_tls);
	tls_ctx_free(&fx.cli_tls);
	close(fx.shut[0]);
	if (fx.shut[1] >= 0)
		close(fx.shut[1]);
	cmd = xasprintf("rm -rf %s", fx.dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(fx.path);
	free(fx.big);
}

/* ---- the client side --------------------------------------------------- */

static void *
server_thread(void *arg)
{
	struct conn *c = arg;

	pop3d_session_run(&fx.cfg, c->srv_fd, c->implicit_tls, fx.shut[0],
	    NULL);
	return NULL;
}

static struct conn *
connect_tls(int implicit_tls)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->srv_fd = sv[0];
	c->implicit_tls = implicit_tls;
	c->io = tls_stream_new(sv[1]);
	ck_assert_int_eq(pthread_create(&c->th, NULL, server_thread, c), 0);
	if (implicit_tls)
		ck_assert_int_eq(tls_stream_connect_client(c->io, fx.cli_tls,
		    "localhost", TIMEOUT_MS), 0);
	return c;
}

static struct conn *
connect_plain(void)
{
	return connect_tls(0);
}

static void
send_raw(struct conn *c, const char *s, size_t n)
{
	ck_assert_int_eq(tls_stream_write_all(c->io, s, n), 0);
}

static void
send_line(struct conn *c, const char *line)
{
	char *l = xasprintf("%s\r\n", line);

	send_raw(c, l, strlen(l));
	free(l);
}

/* The next line without CRLF; the caller frees it. NULL at EOF. */
static char *
read_line(struct conn *c)
{
	const char *p, *lf;
	size_t len;
	char *line;
	long rc;

	for (;;) {
		p = tls_stream_rdata(c->io, &len);
		if ((lf = memchr(p, '\n', len)) != NULL) {
			len = (size_t)(lf - p) + 1;
			line = xstrndup(p, len > 1 && lf[-1] == '\r' ? len - 2 :
			    len - 1);
			tls_stream_consume(c->io, len);
			return line;
		}
		rc = tls_stream_fill(c->io, TIMEOUT_MS, -1);
		if (rc == 0)
			return NULL;
		ck_assert_int_gt(rc, 0);
	}
}

/* Read a line and check that it starts with prefix; returns it. */
static char *
expect(struct conn *c, const char *prefix)
{
	char *l = read_line(c);

	ck_assert_msg(l != NULL, "EOF, wanted '%s'", prefix);
	ck_assert_msg(strncmp(l, prefix, strlen(prefix)) == 0,
	    "got '%s', wanted '%s...'", l, prefix);
	return l;
}

static void
expect_free(struct conn *c, const char *prefix)
{
	free(expect(c, prefix));
}

/*
 * The body of a multi-line response as sent (still byte-stuffed), up to
 * and without the terminating ".\r\n", read line by line so that what
 * follows stays buffered. The caller frees it.
 */
static char *
read_multi(struct conn *c, size_t *n_r)
{
	struct buf b;
	const char *p, *lf;
	size_t len;
	long rc;

	buf_init(&b, 1 << 24);
	for (;;) {
		p = tls_stream_rdata(c->io, &len);
		if ((lf = memchr(p, '\n', len)) == NULL) {
			rc = tls_stream_fill(c->io, TIMEOUT_MS, -1);
			ck_assert_int_gt(rc, 0);
			continue;
		}
		len = (size_t)(lf - p) + 1;
		if (len == 3 && memcmp(p, ".\r\n", 3) == 0) {
			tls_stream_consume(c->io, len);
			break;
		}
		ck_assert_int_eq(buf_add(&b, p, len), 0);
		tls_stream_consume(c->io, len);
	}
	return buf_steal(&b, n_r);
}

/* Undo byte-stuffing: a line starting ".." loses one dot. */
static char *
unstuff(const char *p, size_t n, size_t *n_r)
{
	char *out = xmalloc(n + 1);
	size_t i, o = 0;
	int bol = 1;

	for (i = 0; i < n; i++) {
		if (bol && p[i] == '.')
			i++;
		if (i >= n)
			break;
		out[o++] = p[i];
		bol = p[i] == '\n';
	}
	out[o] = '\0';
	*n_r = o;
	return out;
}

static void
conn_join(struct conn *c)
{
	if (!c->joined) {
		ck_assert_int_eq(pthread_join(c->th, NULL), 0);
		c->joined = 1;
	}
}

static void
conn_close(struct conn **cp)
{
	struct conn *c = *cp;

	tls_stream_free(&c->io);
	conn_join(c);
	free(c);
	*cp = NULL;
}

/* The greeting's APOP timestamp; the caller frees it. */
static char *
greeting(struct conn *c)
{
	char *l = expect(c, "+OK "), *lt, *gt, *ts;

	lt = strchr(l, '<');
	gt = strrchr(l, '>');
	ck_assert_ptr_nonnull(lt);
	ck_assert_ptr_nonnull(gt);
	ck_assert_ptr_nonnull(memchr(lt, '@', (size_t)(gt - lt)));
	ts = xstrndup(lt, (size_t)(gt - lt) + 1);
	free(l);
	return ts;
}

/* Log in with USER/PASS; the maildrop must have n messages. */
static struct conn *
login_n(int n)
{
	struct conn *c = connect_plain();
	char *l;

	free(greeting(c));
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	l = xasprintf("PASS %s", fx.password);
	send_line(c, l);
	free(l);
	l = xasprintf("+OK demo's maildrop has %d messages", n);
	expect_free(c, l);
	free(l);
	return c;
}

static struct conn *
login(void)
{
	return login_n(5);
}

static void
quit(struct conn **cp)
{
	send_line(*cp, "QUIT");
	expect_free(*cp, "+OK");
	ck_assert_ptr_null(read_line(*cp));
	conn_close(cp);
}

/* The stored message n (1-based) of the fixture. */
static const char *
fixture_msg(int n, size_t *len_r)
{
	const char *m[] = { msg_plain, msg_dots, msg_no_eol, msg_header_only };

	if (n == 5) {
		*len_r = BIG_SIZE;
		return fx.big;
	}
	*len_r = strlen(m[n - 1]);
	return m[n - 1];
}

/* ---- AUTHORIZATION ----------------------------------------------------- */

START_TEST(test_pop3_greeting_has_an_apop_timestamp)
{
	struct conn *c = connect_plain(), *d = connect_plain();
	char *t1 = greeting(c), *t2 = greeting(d);

	ck_assert_str_ne(t1, t2);
	free(t1);
	free(t2);
	quit(&c);
	quit(&d);
}
END_TEST

START_TEST(test_pop3_capa_lists_extensions)
{
	struct conn *c = connect_plain();
	char *body;
	size_t n;

	free(greeting(c));
	send_line(c, "CAPA");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
	    "PIPELINING\r\nUSER\r\nSASL PLAIN\r\nSTLS\r\n"
	    "IMPLEMENTATION mailvault\r\n");
	free(body);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_capa_without_certificate_has_no_stls)
{
	struct conn *c;
	char *body;
	size_t n;

	fx.sh.tls = NULL;
	c = connect_plain();
	free(greeting(c));
	send_line(c, "CAPA");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_ptr_null(strstr(body, "STLS"));
	free(body);
	send_line(c, "STLS");
	expect_free(c, "-ERR [SYS/PERM]");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_user_pass_logs_in)
{
	struct conn *c = login();

	send_line(c, "STAT");
	expect_free(c, "+OK 5 ");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_wrong_password_is_refused_after_a_growing_delay)
{
	struct conn *c = connect_plain();
	int64_t t0, t1, t2;

	free(greeting(c));
	t0 = now_ms();
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	send_line(c, "PASS wrong");
	expect_free(c, "-ERR [AUTH] ");
	t1 = now_ms();
	ck_assert_int_ge(t1 - t0, 20);
	send_line(c, "USER nosuchuser");
	expect_free(c, "+OK");
	send_line(c, "PASS wrong");
	expect_free(c, "-ERR [AUTH] ");
	t2 = now_ms();
	ck_assert_int_ge(t2 - t1, 40);
	/* PASS after a failure needs a new USER (RFC 1939 7). */
	send_line(c, "PASS wrong");
	expect_free(c, "-ERR Give USER first");
	send_line(c, "STAT");
	expect_free(c, "-ERR STAT is not valid before login");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_unknown_user_with_right_password_is_refused)
{
	struct conn *c = connect_plain();
	char *l;

	free(greeting(c));
	send_line(c, "USER nobody");
	expect_free(c, "+OK");
	l = xasprintf("PASS %s", fx.password);
	send_line(c, l);
	free(l);
	expect_free(c, "-ERR [AUTH] Authentication failed");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_apop_digest_logs_in)
{
	struct conn *c = connect_plain();
	unsigned char md[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN], *ts, *in, *l;

	ts = greeting(c);
	in = xasprintf("%s%s", ts, fx.password);
	ck_assert_int_eq(digest_md5(in, strlen(in), md), 0);
	digest_hex(md, sizeof(md), hex);
	send_line(c, "APOP demo 0123456789abcdef0123456789abcdef");
	expect_free(c, "-ERR [AUTH]");
	l = xasprintf("APOP demo %s", hex);
	send_line(c, l);
	expect_free(c, "+OK demo's maildrop has 5 messages");
	free(l);
	free(in);
	free(ts);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_apop_with_bad_syntax_is_an_error)
{
	struct conn *c = connect_plain();

	free(greeting(c));
	send_line(c, "APOP demo xyz");
	expect_free(c, "-ERR APOP needs a name and a digest");
	quit(&c);
}
END_TEST

static char *
plain_b64(const char *authz, const char *user, const char *pass)
{
	struct buf raw, out;
	char *s;

	buf_init(&raw, 4096);
	buf_init(&out, 8192);
	buf_adds(&raw, authz);
	buf_addc(&raw, '\0');
	buf_adds(&raw, user);
	buf_addc(&raw, '\0');
	buf_adds(&raw, pass);
	ck_assert_int_eq(base64_encode(raw.data, raw.len, &out), 0);
	s = buf_steal(&out, NULL);
	buf_free(&raw);
	return s;
}

START_TEST(test_pop3_auth_plain_with_initial_response)
{
	struct conn *c = connect_plain();
	char *b = plain_b64("", "demo", fx.password), *l;

	free(greeting(c));
	l = xasprintf("AUTH PLAIN %s", b);
	send_line(c, l);
	expect_free(c, "+OK demo's maildrop");
	free(l);
	free(b);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_auth_plain_with_continuation)
{
	struct conn *c = connect_plain();
	char *b = plain_b64("demo", "demo", fx.password);

	free(greeting(c));
	send_line(c, "AUTH PLAIN");
	expect_free(c, "+ ");
	send_line(c, "*");
	expect_free(c, "-ERR Authentication cancelled");
	send_line(c, "AUTH PLAIN");
	expect_free(c, "+ ");
	send_line(c, "not base64!");
	expect_free(c, "-ERR");
	send_line(c, "AUTH PLAIN");
	expect_free(c, "+ ");
	send_line(c, b);
	expect_free(c, "+OK demo's maildrop");
	free(b);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_auth_errors)
{
	struct conn *c = connect_plain();
	char *b = plain_b64("other", "demo", fx.password), *l;
	size_t n;

	free(greeting(c));
	send_line(c, "AUTH");
	expect_free(c, "+OK");
	l = read_multi(c, &n);
	ck_assert_str_eq(l, "PLAIN\r\n");
	free(l);
	send_line(c, "AUTH CRAM-MD5");
	expect_free(c, "-ERR Unsupported");
	l = xasprintf("AUTH PLAIN %s", b);
	send_line(c, l);
	expect_free(c, "-ERR [AUTH]");
	free(l);
	free(b);
	b = plain_b64("", "demo", "wrong");
	l = xasprintf("AUTH PLAIN %s", b);
	send_line(c, l);
	expect_free(c, "-ERR [AUTH]");
	free(l);
	free(b);
	/* The third failure on the connection is its last. */
	send_line(c, "AUTH PLAIN =");
	expect_free(c, "-ERR [AUTH] Authentication failed; too many");
	ck_assert_ptr_null(read_line(c));
	conn_close(&c);
}
END_TEST

START_TEST(test_pop3_third_failed_login_closes_the_connection)
{
	struct conn *c = connect_plain();
	char *ts, *l;

	ts = greeting(c);
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	send_line(c, "PASS wrong");
	expect_free(c, "-ERR [AUTH] Authentication failed");
	/* Commands that are no login attempt do not count. */
	send_line(c, "CAPA");
	expect_free(c, "+OK");
	free(read_multi(c, NULL));
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	send_line(c, "PASS wrong again");
	l = expect(c, "-ERR [AUTH] Authentication failed");
	ck_assert_ptr_null(strstr(l, "too many"));
	free(l);
	send_line(c, "APOP demo 0123456789abcdef0123456789abcdef");
	expect_free(c, "-ERR [AUTH] Authentication failed; too many attempts");
	ck_assert_ptr_null(read_line(c));
	conn_close(&c);
	free(ts);
	/* A new connection starts with three tries again. */
	c = login();
	quit(&c);
}
END_TEST

START_TEST(test_pop3_locked_refuses_logins_until_unlocked)
{
	struct conn *c;
	char *b = plain_b64("", "demo", fx.password), *l;
	struct store *st = fx.sh.st;

	pthread_mutex_lock(&fx.sh.lock);
	fx.sh.st = NULL;		/* what server.c does while locked */
	pthread_mutex_unlock(&fx.sh.lock);
	c = connect_plain();
	free(greeting(c));
	send_line(c, "USER demo");
	expect_free(c, "-ERR [SYS/TEMP] mailvault is locked: run "
	    "\"mailvault unlock\"");
	l = xasprintf("PASS %s", fx.password);
	send_line(c, l);
	free(l);
	expect_free(c, "-ERR [SYS/TEMP] mailvault is locked");
	send_line(c, "APOP demo 0123456789abcdef0123456789abcdef");
	expect_free(c, "-ERR [SYS/TEMP] mailvault is locked");
	l = xasprintf("AUTH PLAIN %s", b);
	send_line(c, l);
	free(l);
	expect_free(c, "-ERR [SYS/TEMP] mailvault is locked");
	/* Four refusals, and no failure counted: still connected. */
	send_line(c, "STAT");
	expect_free(c, "-ERR STAT is not valid before login");
	/* Unlocked while connected: the same connection logs in. */
	pthread_mutex_lock(&fx.sh.lock);
	fx.sh.st = st;
	pthread_mutex_unlock(&fx.sh.lock);
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	l = xasprintf("PASS %s", fx.password);
	send_line(c, l);
	free(l);
	expect_free(c, "+OK demo's maildrop has 5 messages");
	quit(&c);
	free(b);
}
END_TEST

START_TEST(test_pop3_commands_in_the_wrong_state)
{
	struct conn *c = connect_plain();
	char *l;

	free(greeting(c));
	send_line(c, "RETR 1");
	expect_free(c, "-ERR RETR is not valid before login");
	send_line(c, "NOOP");
	expect_free(c, "-ERR NOOP is not valid before login");
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	l = xasprintf("PASS %s", fx.password);
	send_line(c, l);
	free(l);
	expect_free(c, "+OK");
	send_line(c, "USER demo");
	expect_free(c, "-ERR USER is not valid after login");
	send_line(c, "STLS");
	expect_free(c, "-ERR STLS is not valid after login");
	send_line(c, "NOOP");
	expect_free(c, "+OK");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_bad_commands_and_long_lines_keep_the_connection)
{
	struct conn *c = connect_plain();
	char *big = xmalloc(5000);

	free(greeting(c));
	send_line(c, "XYZZY");
	expect_free(c, "-ERR Unknown command: XYZZ");
	send_line(c, "");
	expect_free(c, "-ERR Empty command line");
	send_line(c, "LIST 1 2");
	expect_free(c, "-ERR LIST is not valid before login");
	memset(big, 'A', 4999);
	big[4999] = '\0';
	send_line(c, big);
	expect_free(c, "-ERR Command line too long");
	send_raw(c, "US\0R x\r\n", 8);
	expect_free(c, "-ERR Unknown command");
	free(big);
	quit(&c);
	c = login();
	send_line(c, "RETR x");
	expect_free(c, "-ERR message numbers");
	send_line(c, "RETR");
	expect_free(c, "-ERR RETR needs one message number");
	send_line(c, "TOP 1");
	expect_free(c, "-ERR TOP needs");
	send_line(c, "RETR 99999999999");
	expect_free(c, "-ERR");
	send_line(c, "STAT now");
	expect_free(c, "-ERR STAT takes no arguments");
	send_line(c, "NOOP");
	expect_free(c, "+OK");
	quit(&c);
}
END_TEST

/* ---- TRANSACTION ------------------------------------------------------- */

START_TEST(test_pop3_stat_and_list_give_wire_sizes)
{
	struct conn *c = login();
	char *l, *want, *body;
	size_t total = 0, n, len;
	struct buf b;
	int i;

	buf_init(&b, 4096);
	for (i = 1; i <= 5; i++) {
		fixture_msg(i, &len);
		total += len;
		buf_printf(&b, "%d %zu\r\n", i, len);
	}
	send_line(c, "STAT");
	l = read_line(c);
	want = xasprintf("+OK 5 %zu", total);
	ck_assert_str_eq(l, want);
	free(l);
	free(want);
	send_line(c, "LIST");
	expect_free(c, "+OK 5 messages");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, b.data);
	free(body);
	send_line(c, "LIST 2");
	want = xasprintf("+OK 2 %zu", strlen(msg_dots));
	l = read_line(c);
	ck_assert_str_eq(l, want);
	free(l);
	free(want);
	send_line(c, "LIST 6");
	expect_free(c, "-ERR There is no message 6");
	send_line(c, "LIST 0");
	expect_free(c, "-ERR There is no message 0");
	buf_free(&b);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_uidl_is_uid_and_uidvalidity)
{
	struct conn *c = login();
	struct store_mailbox mb;
	struct store_msg *msgs;
	size_t n, i, len;
	struct buf want;
	char *body, *l, *w;

	ck_assert_int_eq(store_mailbox_status(fx.st, fx.inbox, &mb), 0);
	ck_assert_int_eq(store_msg_list(fx.st, fx.inbox, 0, &msgs, &n), 0);
	buf_init(&want, 4096);
	for (i = 0; i < n; i++)
		buf_printf(&want, "%zu %08x%08x\r\n", i + 1, msgs[i].uid,
		    mb.uidvalidity);
	send_line(c, "UIDL");
	expect_free(c, "+OK");
	body = read_multi(c, &len);
	ck_assert_str_eq(body, want.data);
	send_line(c, "UIDL 3");
	l = read_line(c);
	w = xasprintf("+OK 3 %08x%08x", msgs[2].uid, mb.uidvalidity);
	ck_assert_str_eq(l, w);
	free(l);
	free(w);
	free(body);
	free(msgs);
	buf_free(&want);
	store_mailbox_clear(&mb);
	quit(&c);
}
END_TEST

/* RETR every message: unstuffed, the bytes are the stored ones. */
START_TEST(test_pop3_retr_sends_the_stored_bytes)
{
	struct conn *c = login();
	char cmd[32], *l, *body, *plain, *want;
	const char *m;
	size_t n, pn, mlen;
	int i;

	for (i = 1; i <= 5; i++) {
		m = fixture_msg(i, &mlen);
		snprintf(cmd, sizeof(cmd), "RETR %d", i);
		send_line(c, cmd);
		l = read_line(c);
		want = xasprintf("+OK %zu octets", mlen);
		ck_assert_str_eq(l, want);
		free(want);
		free(l);
		body = read_multi(c, &n);
		plain = unstuff(body, n, &pn);
		if (m[mlen - 1] != '\n') {
			/* The CRLF before the terminator is not content. */
			ck_assert_uint_eq(pn, mlen + 2);
			pn -= 2;
		}
		ck_assert_uint_eq(pn, mlen);
		ck_assert_mem_eq(plain, m, mlen);
		free(body);
		free(plain);
	}
	quit(&c);
}
END_TEST

START_TEST(test_pop3_retr_stuffs_leading_dots)
{
	struct conn *c = login();
	char *body;
	size_t n;

	send_line(c, "RETR 2");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body,
	    "..From: dot@example.org\r\n"
	    "Subject: dots\r\n"
	    "\r\n"
	    "..leading dot\r\n"
	    "...two dots\r\n"
	    "..\r\n"
	    "end\r\n");
	free(body);
	send_line(c, "RETR 3");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, "Subject: no line end\r\n\r\n"
	    "last line without CRLF\r\n");
	free(body);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_retr_stuffs_dots_at_chunk_edges)
{
	struct conn *c = login();
	char *body, *plain;
	size_t n, pn, i, dots = 0;

	for (i = 1; i < BIG_SIZE; i++)
		dots += fx.big[i - 1] == '\n' && fx.big[i] == '.';
	ck_assert_uint_eq(dots, 2 * (BIG_SIZE / STORE_CHUNK_SIZE));
	send_line(c, "RETR 5");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	plain = unstuff(body, n, &pn);
	ck_assert_uint_eq(pn, BIG_SIZE);
	ck_assert_mem_eq(plain, fx.big, BIG_SIZE);
	/* One more byte per line that begins with a dot. */
	ck_assert_uint_eq(n, BIG_SIZE + dots);
	free(body);
	free(plain);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_top_sends_header_and_n_lines)
{
	struct conn *c = login();
	char *body;
	size_t n;

	send_line(c, "TOP 1 0");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body,
	    "From: alice@example.org\r\nSubject: one\r\n\r\n");
	free(body);
	send_line(c, "TOP 1 2");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, "From: alice@example.org\r\nSubject: one\r\n\r\n"
	    "line 1\r\nline 2\r\n");
	free(body);
	send_line(c, "TOP 1 100");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, msg_plain);
	free(body);
	send_line(c, "TOP 2 1");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, "..From: dot@example.org\r\nSubject: dots\r\n"
	    "\r\n..leading dot\r\n");
	free(body);
	send_line(c, "TOP 3 5");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, "Subject: no line end\r\n\r\n"
	    "last line without CRLF\r\n");
	free(body);
	send_line(c, "TOP 4 0");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_str_eq(body, msg_header_only);
	free(body);
	send_line(c, "TOP 5 1");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_uint_eq(n, strlen("Subject: big\r\n\r\n") + 72);
	free(body);
	send_line(c, "TOP 9 1");
	expect_free(c, "-ERR There is no message 9");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_dele_marks_and_rset_unmarks)
{
	struct conn *c = login();
	char *body;
	size_t n;

	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	send_line(c, "DELE 1");
	expect_free(c, "-ERR Message 1 is deleted");
	send_line(c, "RETR 1");
	expect_free(c, "-ERR Message 1 is deleted");
	send_line(c, "LIST 1");
	expect_free(c, "-ERR Message 1 is deleted");
	send_line(c, "STAT");
	expect_free(c, "+OK 4 ");
	send_line(c, "LIST");
	expect_free(c, "+OK 4 messages");
	body = read_multi(c, &n);
	ck_assert_ptr_null(strstr(body, "1 "));
	ck_assert_ptr_nonnull(strstr(body, "2 "));
	free(body);
	send_line(c, "RSET");
	expect_free(c, "+OK Maildrop has 5 messages");
	send_line(c, "STAT");
	expect_free(c, "+OK 5 ");
	quit(&c);
}
END_TEST

/* 1 if POP3 hides message uid of INBOX; it then has no keyword either:
 * hiding is no flag IMAP could show. */
static int
msg_hidden(uint32_t uid)
{
	struct store_msg m;
	uint32_t *v = NULL;
	size_t n = 0, i;
	int found = 0;

	ck_assert_int_eq(store_pop3_hidden(fx.st, fx.inbox, &v, &n), 0);
	for (i = 0; i < n; i++)
		found |= v[i] == uid;
	free(v);
	if (found) {
		ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, uid, &m), 0);
		ck_assert_uint_eq(m.nkw, 0);
	}
	return found;
}

START_TEST(test_pop3_quit_hides_deleted_messages)
{
	struct conn *c = login();
	struct store_msg m;
	char *body;
	size_t n;

	send_line(c, "RETR 2");
	expect_free(c, "+OK");
	free(read_multi(c, &n));
	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	send_line(c, "QUIT");
	expect_free(c, "+OK mailvault POP3 server signing off (4 messages "
	    "left)");
	conn_close(&c);
	/* IMAP still sees it, with the keyword; the RETR'd one is \Seen. */
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 1, &m), 0);
	ck_assert(msg_hidden(1));
	ck_assert(!msg_hidden(2));
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 2, &m), 0);
	ck_assert(m.flags & STORE_F_SEEN);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 3, &m), 0);
	ck_assert(!(m.flags & STORE_F_SEEN));
	/* POP3 does not. */
	c = login_n(4);
	send_line(c, "TOP 1 0");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_ptr_nonnull(strstr(body, "Subject: dots"));
	free(body);
	quit(&c);
}
END_TEST

/* Hiding is not carried by a move (the moved message is new to POP3 in
 * its new place) and goes with an expunge. */
START_TEST(test_pop3_hidden_not_carried_by_move)
{
	struct conn *c = login();
	uint32_t uid = 1, newuid = 0, *v = NULL;
	size_t n = 0;
	int64_t other;

	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	send_line(c, "DELE 2");
	expect_free(c, "+OK");
	quit(&c);
	ck_assert(msg_hidden(1) && msg_hidden(2));
	/* Moved away and back into INBOX: a new UID, not hidden. */
	ck_assert_int_eq(store_mailbox_create(fx.st, fx.acct, "Elsewhere", 0,
	    &other), 0);
	ck_assert_int_eq(store_msg_move(fx.st, fx.inbox, &uid, 1, other,
	    &newuid), 0);
	ck_assert_int_eq(store_pop3_hidden(fx.st, other, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	uid = newuid;
	ck_assert_int_eq(store_msg_move(fx.st, other, &uid, 1, fx.inbox,
	    &newuid), 0);
	ck_assert(!msg_hidden(newuid));
	ck_assert(!msg_hidden(1));
	/* An expunge forgets it. */
	uid = 2;
	ck_assert_int_eq(store_msg_expunge(fx.st, fx.inbox, &uid, 1), 0);
	ck_assert_int_eq(store_pop3_hidden(fx.st, fx.inbox, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(v);
	/* POP3 lists the moved one again: 3, 4, 5 and it. */
	c = login_n(4);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_quit_expunges_when_configured)
{
	struct conn *c;
	struct store_msg m;

	ck_assert_int_eq(store_config_set(fx.st, "config.pop3-delete",
	    "expunge", 7), 0);
	c = login();
	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	send_line(c, "DELE 5");
	expect_free(c, "+OK");
	quit(&c);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 1, &m), STORE_ENOENT);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 5, &m), STORE_ENOENT);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 2, &m), 0);
	/* The option beats the setting. */
	fx.cfg.delete_mode = POP3D_DELETE_HIDE;
	c = login_n(3);
	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	quit(&c);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 2, &m), 0);
	ck_assert(msg_hidden(2));
}
END_TEST

START_TEST(test_pop3_dropped_connection_deletes_nothing)
{
	struct conn *c = login();
	struct store_msg m;

	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	send_line(c, "NOOP");
	expect_free(c, "+OK");
	conn_close(&c);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, 1, &m), 0);
	ck_assert(!msg_hidden(1));
	c = login();
	quit(&c);
}
END_TEST

START_TEST(test_pop3_second_session_gets_in_use)
{
	struct conn *c = login(), *d = connect_plain();
	char *l;

	free(greeting(d));
	send_line(d, "USER demo");
	expect_free(d, "+OK");
	l = xasprintf("PASS %s", fx.password);
	send_line(d, l);
	expect_free(d, "-ERR [IN-USE]");
	quit(&c);
	send_line(d, "USER demo");
	expect_free(d, "+OK");
	send_line(d, l);
	expect_free(d, "+OK demo's maildrop");
	free(l);
	quit(&d);
}
END_TEST

START_TEST(test_pop3_snapshot_ignores_later_changes)
{
	static const char later[] = "Subject: later\r\n\r\nnew\r\n";
	struct conn *c = login();
	uint32_t uid = 1;

	append(later, strlen(later));
	ck_assert_int_eq(store_msg_expunge(fx.st, fx.inbox, &uid, 1), 0);
	send_line(c, "STAT");
	expect_free(c, "+OK 5 ");
	send_line(c, "LIST 5");
	expect_free(c, "+OK 5 ");
	send_line(c, "LIST 6");
	expect_free(c, "-ERR");
	/* The expunged message's content is gone: an error, no crash. */
	send_line(c, "RETR 1");
	expect_free(c, "-ERR [SYS/TEMP]");
	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	quit(&c);
}
END_TEST

START_TEST(test_pop3_pipelined_commands_are_answered_in_order)
{
	struct conn *c = connect_plain();
	char *batch, *body;
	size_t n;

	free(greeting(c));
	batch = xasprintf("CAPA\r\nUSER demo\r\nPASS %s\r\nSTAT\r\nLIST 1\r\n"
	    "UIDL\r\nTOP 1 0\r\nRETR 2\r\nDELE 3\r\nNOOP\r\nRSET\r\nBOGUS\r\n"
	    "QUIT\r\n", fx.password);
	send_raw(c, batch, strlen(batch));
	free(batch);
	expect_free(c, "+OK Capability");
	free(read_multi(c, &n));
	expect_free(c, "+OK Now give PASS");
	expect_free(c, "+OK demo's maildrop");
	expect_free(c, "+OK 5 ");
	expect_free(c, "+OK 1 ");
	expect_free(c, "+OK Unique-ID");
	free(read_multi(c, &n));
	expect_free(c, "+OK Top");
	free(read_multi(c, &n));
	expect_free(c, "+OK ");
	body = read_multi(c, &n);
	ck_assert_ptr_nonnull(strstr(body, "...two dots"));
	free(body);
	expect_free(c, "+OK Message 3 deleted");
	expect_free(c, "+OK");
	expect_free(c, "+OK Maildrop has 5");
	expect_free(c, "-ERR Unknown command: BOGU");
	expect_free(c, "+OK mailvault POP3 server signing off");
	ck_assert_ptr_null(read_line(c));
	conn_close(&c);
	ck_assert(!msg_hidden(3));
}
END_TEST

START_TEST(test_pop3_idle_session_times_out)
{
	struct conn *c;

	fx.cfg.timeout_ms = 200;
	c = login();
	send_line(c, "DELE 1");
	expect_free(c, "+OK");
	expect_free(c, "-ERR Disconnected for inactivity");
	ck_assert_ptr_null(read_line(c));
	conn_close(&c);
	ck_assert(!msg_hidden(1));
}
END_TEST

START_TEST(test_pop3_server_shutdown_ends_the_session)
{
	struct conn *c = login();

	close(fx.shut[1]);
	fx.shut[1] = -1;
	expect_free(c, "-ERR [SYS/TEMP] The server is shutting down");
	ck_assert_ptr_null(read_line(c));
	conn_close(&c);
}
END_TEST

/* ---- TLS --------------------------------------------------------------- */

START_TEST(test_pop3_stls_upgrades_and_forgets_user)
{
	struct conn *c = connect_plain();
	char *body, *l;
	size_t n;

	free(greeting(c));
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	send_line(c, "STLS");
	expect_free(c, "+OK Begin TLS");
	ck_assert_int_eq(tls_stream_connect_client(c->io, fx.cli_tls,
	    "localhost", TIMEOUT_MS), 0);
	send_line(c, "CAPA");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	ck_assert_ptr_null(strstr(body, "STLS"));
	free(body);
	send_line(c, "STLS");
	expect_free(c, "-ERR TLS is already active");
	l = xasprintf("PASS %s", fx.password);
	send_line(c, l);
	expect_free(c, "-ERR Give USER first");
	send_line(c, "USER demo");
	expect_free(c, "+OK");
	send_line(c, l);
	expect_free(c, "+OK demo's maildrop");
	free(l);
	quit(&c);
}
END_TEST

START_TEST(test_pop3_implicit_tls_retr)
{
	struct conn *c = connect_tls(1);
	char *l, *body, *plain;
	size_t n, pn;

	free(greeting(c));
	l = xasprintf("USER demo\r\nPASS %s\r\nRETR 5\r\n", fx.password);
	send_raw(c, l, strlen(l));
	free(l);
	expect_free(c, "+OK");
	expect_free(c, "+OK demo's maildrop");
	expect_free(c, "+OK");
	body = read_multi(c, &n);
	plain = unstuff(body, n, &pn);
	ck_assert_uint_eq(pn, BIG_SIZE);
	ck_assert_mem_eq(plain, fx.big, BIG_SIZE);
	free(body);
	free(plain);
	quit(&c);
}
END_TEST

static Suite *
pop3_suite(void)
{
	Suite *s = suite_create("server_pop3");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pop3_greeting_has_an_apop_timestamp);
	tcase_add_test(tc, test_pop3_capa_lists_extensions);
	tcase_add_test(tc, test_pop3_capa_without_certificate_has_no_stls);
	tcase_add_test(tc, test_pop3_user_pass_logs_in);
	tcase_add_test(tc,
	    test_pop3_wrong_password_is_refused_after_a_growing_delay);
	tcase_add_test(tc,
	    test_pop3_unknown_user_with_right_password_is_refused);
	tcase_add_test(tc, test_pop3_apop_digest_logs_in);
	tcase_add_test(tc, test_pop3_apop_with_bad_syntax_is_an_error);
	tcase_add_test(tc, test_pop3_auth_plain_with_initial_response);
	tcase_add_test(tc, test_pop3_auth_plain_with_continuation);
	tcase_add_test(tc, test_pop3_auth_errors);
	tcase_add_test(tc, test_pop3_third_failed_login_closes_the_connection);
	tcase_add_test(tc, test_pop3_locked_refuses_logins_until_unlocked);
	tcase_add_test(tc, test_pop3_commands_in_the_wrong_state);
	tcase_add_test(tc,
	    test_pop3_bad_commands_and_long_lines_keep_the_connection);
	tcase_add_test(tc, test_pop3_stat_and_list_give_wire_sizes);
	tcase_add_test(tc, test_pop3_uidl_is_uid_and_uidvalidity);
	tcase_add_test(tc, test_pop3_retr_sends_the_stored_bytes);
	tcase_add_test(tc, test_pop3_retr_stuffs_leading_dots);
	tcase_add_test(tc, test_pop3_retr_stuffs_dots_at_chunk_edges);
	tcase_add_test(tc, test_pop3_top_sends_header_and_n_lines);
	tcase_add_test(tc, test_pop3_dele_marks_and_rset_unmarks);
	tcase_add_test(tc, test_pop3_quit_hides_deleted_messages);
	tcase_add_test(tc, test_pop3_hidden_not_carried_by_move);
	tcase_add_test(tc, test_pop3_quit_expunges_when_configured);
	tcase_add_test(tc, test_pop3_dropped_connection_deletes_nothing);
	tcase_add_test(tc, test_pop3_second_session_gets_in_use);
	tcase_add_test(tc, test_pop3_snapshot_ignores_later_changes);
	tcase_add_test(tc, test_pop3_pipelined_commands_are_answered_in_order);
	tcase_add_test(tc, test_pop3_idle_session_times_out);
	tcase_add_test(tc, test_pop3_server_shutdown_ends_the_session);
	tcase_add_test(tc, test_pop3_stls_upgrades_and_forgets_user);
	tcase_add_test(tc, test_pop3_implicit_tls_retr);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(pop3_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
