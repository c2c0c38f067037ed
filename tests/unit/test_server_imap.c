/*
 * Unit tests for the IMAP server's session and commands (server/imap/):
 * the dispatcher, the not-authenticated, authenticated and selected
 * states' commands, IDLE, and the login throttle it shares with POP3
 * (server/login.c).
 *
 * Each test makes a scratch store (tests/unit/store_fixture.h: account
 * "me@example.org" with its INBOX) holding three hand-made messages,
 * runs imapd_session_run() on one end of a socketpair in a thread and
 * drives the other end as a client would: a command goes out, every line
 * up to its tagged reply comes back, and the test asserts on the exact
 * lines it cares about. Two connections at once show what one session
 * sees of another's changes (IDLE, NOOP). The transcripts are named by
 * the behaviour they prove.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/digest.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "server/imap/imapd.h"
#include "server/pop3/pop3d.h"
#include "server/server_int.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

#define USER		"me@example.org"
#define TIMEOUT_MS	10000
#define DELAY_MS	20	/* the first failed login's delay here */

static const char *const fixture_msgs[] = {
	"From: alice@example.org\r\nSubject: one\r\n\r\nfirst body\r\n",
	"From: bob@example.org\r\nSubject: two\r\n\r\nsecond body\r\n",
	"From: carol@example.org\r\nSubject: three\r\n\r\nthird body\r\n",
};

static struct {
	struct fx	 st;		/* the store, the account, INBOX */
	struct server_shared sh;	/* what server.c gives an epoch */
	struct imapd_config imap;
	struct pop3d_config pop3;
	char		*password;
	int		 shut[2];	/* the shutdown pipe */
} fx;

struct conn {
	struct tls_stream *io;
	pthread_t	 th;
	int		 srv_fd;
	int		 pop3;
	int		 joined;
};

/* Every line of one command's answer; the tagged line is the last. */
struct resp {
	char		**line;
	size_t		 n;
};

/* ---- fixture ------------------------------------------------------------- */

static void
setup(void)
{
	struct store_append_opts o;
	uint32_t uid;
	size_t i;

	memset(&fx, 0, sizeof(fx));
	fx_setup(&fx.st);
	memset(&o, 0, sizeof(o));
	for (i = 0; i < ARRAY_SIZE(fixture_msgs); i++) {
		/* The first message is read already. */
		o.flags = i == 0 ? STORE_F_SEEN : 0;
		ck_assert_int_eq(store_append_mem(fx.st.st, fx.st.inbox, &o,
		    fixture_msgs[i], strlen(fixture_msgs[i]), &uid), 0);
		ck_assert_uint_eq(uid, i + 1);
	}
	ck_assert_int_eq(store_local_password(fx.st.st, &fx.password), 0);
	ck_assert_int_eq(pipe(fx.shut), 0);
	server_shared_init(&fx.sh, 0);
	fx.sh.st = fx.st.st;
	fx.sh.auth_delay_ms = DELAY_MS;
	imapd_config_init(&fx.imap, &fx.sh);
	pop3d_config_init(&fx.pop3, &fx.sh);
}

static void
teardown(void)
{
	store_secret_free(&fx.password);
	imapd_config_clear(&fx.imap);
	server_shared_destroy(&fx.sh);
	close(fx.shut[0]);
	if (fx.shut[1] >= 0)
		close(fx.shut[1]);
	fx_teardown(&fx.st);
}

/* ---- the client side ----------------------------------------------------- */

static void *
server_thread(void *arg)
{
	struct conn *c = arg;
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c->pop3)
		pop3d_session_run(&fx.pop3, c->srv_fd, 0, fx.shut[0],
		    (struct sockaddr *)&sin);
	else
		imapd_session_run(&fx.imap, c->srv_fd, 0, fx.shut[0],
		    (struct sockaddr *)&sin);
	return NULL;
}

static struct conn *
start(int pop3)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->srv_fd = sv[0];
	c->pop3 = pop3;
	c->io = tls_stream_new(sv[1]);
	ck_assert_int_eq(pthread_create(&c->th, NULL, server_thread, c), 0);
	return c;
}

static void
send_raw(struct conn *c, const char *s, size_t n)
{
	ck_assert_int_eq(tls_stream_write_all(c->io, s, n), 0);
}

static void
send_line(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	char *l, *crlf;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&l, fmt, ap), 0);
	va_end(ap);
	crlf = xasprintf("%s\r\n", l);
	send_raw(c, crlf, strlen(crlf));
	free(crlf);
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

/* The next line must be want, exactly. */
static void
expect(struct conn *c, const char *want)
{
	char *l = read_line(c);

	ck_assert_msg(l != NULL, "EOF, wanted '%s'", want);
	ck_assert_str_eq(l, want);
	free(l);
}

/* The next line must start with prefix. */
static void
expect_prefix(struct conn *c, const char *prefix)
{
	char *l = read_line(c);

	ck_assert_msg(l != NULL, "EOF, wanted '%s...'", prefix);
	ck_assert_msg(strncmp(l, prefix, strlen(prefix)) == 0,
	    "got '%s', wanted '%s...'", l, prefix);
	free(l);
}

/* The server must close the connection now. */
static void
expect_eof(struct conn *c)
{
	char *l = read_line(c);

	ck_assert_msg(l == NULL, "wanted EOF, got '%s'", l);
}

static void
conn_close(struct conn **cp)
{
	struct conn *c = *cp;

	tls_stream_free(&c->io);
	if (!c->joined)
		ck_assert_int_eq(pthread_join(c->th, NULL), 0);
	free(c);
	*cp = NULL;
}

static void
resp_free(struct resp **rp)
{
	size_t i;

	if (*rp == NULL)
		return;
	for (i = 0; i < (*rp)->n; i++)
		free((*rp)->line[i]);
	free((*rp)->line);
	free(*rp);
	*rp = NULL;
}

/* Read lines up to and with the one tagged tag. */
static struct resp *
read_resp(struct conn *c, const char *tag)
{
	struct resp *r = xcalloc(1, sizeof(*r));
	size_t tl = strlen(tag);
	char *l;

	for (;;) {
		l = read_line(c);
		ck_assert_msg(l != NULL, "EOF before the '%s' reply", tag);
		r->line = xreallocarray(r->line, r->n + 1, sizeof(*r->line));
		r->line[r->n++] = l;
		if (strncmp(l, tag, tl) == 0 && l[tl] == ' ')
			return r;
	}
}

/* Send "tag command" and read its answer. */
static struct resp *
run(struct conn *c, const char *tag, const char *fmt, ...)
{
	va_list ap;
	char *l;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&l, fmt, ap), 0);
	va_end(ap);
	send_line(c, "%s %s", tag, l);
	free(l);
	return read_resp(c, tag);
}

/* The tagged line. */
static const char *
tagged(const struct resp *r)
{
	return r->line[r->n - 1];
}

/* 1 if one of the untagged lines is want, exactly. */
static int
has(const struct resp *r, const char *want)
{
	size_t i;

	for (i = 0; i + 1 < r->n; i++)
		if (strcmp(r->line[i], want) == 0)
			return 1;
	return 0;
}

/* How many untagged lines start with prefix. */
static size_t
count_prefix(const struct resp *r, const char *prefix)
{
	size_t i, k = 0;

	for (i = 0; i + 1 < r->n; i++)
		if (strncmp(r->line[i], prefix, strlen(prefix)) == 0)
			k++;
	return k;
}

#define assert_has(r, want) \
	ck_assert_msg(has((r), (want)), "no line '%s' in the answer", (want))
#define assert_tagged(r, want) ck_assert_str_eq(tagged(r), (want))

/* Run a command and check only its tagged line. */
static void
ok(struct conn *c, const char *tag, const char *cmd, const char *want)
{
	struct resp *r = run(c, tag, "%s", cmd);

	assert_tagged(r, want);
	resp_free(&r);
}

/* The untagged lines must be exactly these, in order (NULL ends). */
static void
assert_untagged(const struct resp *r, ...)
{
	const char *want;
	va_list ap;
	size_t i = 0;

	va_start(ap, r);
	while ((want = va_arg(ap, const char *)) != NULL) {
		ck_assert_msg(i + 1 < r->n, "missing '%s'", want);
		ck_assert_str_eq(r->line[i], want);
		i++;
	}
	va_end(ap);
	ck_assert_msg(i + 1 == r->n, "unexpected '%s'", r->line[i]);
}

/* Run a command whose whole answer is its tagged line, want. */
static void
run_only(struct conn *c, const char *tag, const char *cmd, const char *want)
{
	struct resp *r = run(c, tag, "%s", cmd);

	assert_untagged(r, NULL);
	assert_tagged(r, want);
	resp_free(&r);
}

/* A mailbox's UIDVALIDITY, from the store. */
static uint32_t
uidvalidity_of(const char *name)
{
	struct store_mailbox mb;
	uint32_t v;

	ck_assert_int_eq(store_mailbox_find(fx.st.st, fx.st.acct, name, &mb),
	    0);
	v = mb.uidvalidity;
	store_mailbox_clear(&mb);
	return v;
}

/* base64 of "authz NUL user NUL pass" (SASL PLAIN); the caller frees. */
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

/*
 * The server's log (stderr) goes to a file in the store's folder from
 * now on, so a test can read what a session logged. Check runs each test
 * in its own process; the old stderr comes back at log_text().
 */
static int saved_stderr = -1;

static void
log_capture(void)
{
	char *path = xasprintf("%s/server.log", fx.st.dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(2);
	ck_assert_int_ge(dup2(fd, 2), 0);
	close(fd);
	free(path);
}

/* What was logged since log_capture(); the caller frees it. */
static char *
log_text(void)
{
	char *path = xasprintf("%s/server.log", fx.st.dir), *text;
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	buf_init(&b, 1 << 20);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ck_assert_int_eq(buf_add(&b, chunk, (size_t)n), 0);
	close(fd);
	free(path);
	buf_addc(&b, '\0');
	text = buf_steal(&b, NULL);
	return text;
}

static void
log_restore(void)
{
	if (saved_stderr >= 0) {
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
}

/* The last log line of protocol proto ("imap[", "pop3 #") that has
 * what; NULL if none. Points into text. */
static const char *
log_line(const char *text, const char *proto, const char *what)
{
	const char *p = text, *eol, *found = NULL, *w;

	for (; *p != '\0'; p = eol + 1) {
		eol = strchr(p, '\n');
		if (eol == NULL)
			break;
		w = memmem(p, (size_t)(eol - p), what, strlen(what));
		if (w != NULL && memmem(p, (size_t)(eol - p), proto,
		    strlen(proto)) != NULL)
			found = p;
	}
	return found;
}

/* A new connection past its greeting. */
static struct conn *
connect_imap(void)
{
	struct conn *c = start(0);

	expect_prefix(c, "* OK [CAPABILITY IMAP4rev1 ");
	return c;
}

/* A connection logged in as USER. */
static struct conn *
login(void)
{
	struct conn *c = connect_imap();
	struct resp *r = run(c, "L", "LOGIN %s \"%s\"", USER, fx.password);

	ck_assert_msg(strncmp(tagged(r), "L OK [CAPABILITY ", 17) == 0,
	    "%s", tagged(r));
	resp_free(&r);
	return c;
}

/* A connection with INBOX selected. */
static struct conn *
selected(void)
{
	struct conn *c = login();

	ok(c, "S", "SELECT INBOX", "S OK [READ-WRITE] Select completed.");
	return c;
}

/* A POP3 connection past its greeting, on the same epoch. */
static struct conn *
connect_pop3(void)
{
	struct conn *c = start(1);

	expect_prefix(c, "+OK mailvault POP3 server ready <");
	return c;
}

/* A failed POP3 USER/PASS on c. */
static void
pop3_fail(struct conn *c)
{
	send_line(c, "USER %s", USER);
	expect(c, "+OK Now give PASS");
	send_line(c, "PASS wrong");
	expect(c, "-ERR [AUTH] Authentication failed");
}

static void
logout(struct conn **cp)
{
	struct resp *r = run(*cp, "Z", "LOGOUT");

	assert_has(r, "* BYE Logging out");
	assert_tagged(r, "Z OK Logout completed.");
	resp_free(&r);
	expect_eof(*cp);
	conn_close(cp);
}


#define CAPS_NOAUTH	"IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE"
#define CAPS_AUTH	CAPS_NOAUTH " NAMESPACE UNSELECT CHILDREN UIDPLUS " \
	"MOVE SPECIAL-USE LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC ESEARCH"
#define LOGGED_IN	"OK [CAPABILITY " CAPS_AUTH "] Logged in"
#define AUTH_FAILED	"NO [AUTHENTICATIONFAILED] Authentication failed."

/* ---- greeting, CAPABILITY, the dispatcher -------------------------------- */

START_TEST(test_imap_greeting_lists_capabilities_before_login)
{
	struct conn *c = start(0);
	struct resp *r;

	/* No certificate here: no STARTTLS. */
	expect(c, "* OK [CAPABILITY " CAPS_NOAUTH " AUTH=PLAIN AUTH=CRAM-MD5] "
	    "mailvault ready.");
	r = run(c, "a", "CAPABILITY");
	assert_untagged(r, "* CAPABILITY " CAPS_NOAUTH
	    " AUTH=PLAIN AUTH=CRAM-MD5", NULL);
	assert_tagged(r, "a OK Capability completed.");
	resp_free(&r);
	run_only(c, "b", "STARTTLS", "b NO [UNAVAILABLE] TLS is not "
	    "available: the server has no certificate.");
	logout(&c);
}
END_TEST

START_TEST(test_imap_greeting_offers_starttls_with_a_certificate)
{
	char err[256], *cert, *key;
	struct conn *c;

	ck_assert_int_eq(tls_cert_generate("mailvault test", &cert, &key, err,
	    sizeof(err)), 0);
	fx.sh.tls = tls_server_ctx_new(cert, key, err, sizeof(err));
	ck_assert_ptr_nonnull(fx.sh.tls);
	free(cert);
	tls_secret_free(&key);
	c = start(0);
	expect(c, "* OK [CAPABILITY " CAPS_NOAUTH " STARTTLS AUTH=PLAIN "
	    "AUTH=CRAM-MD5] mailvault ready.");
	logout(&c);
	tls_ctx_free(&fx.sh.tls);
}
END_TEST

START_TEST(test_imap_capability_grows_after_login)
{
	struct conn *c = login();
	struct resp *r = run(c, "a", "CAPABILITY");

	assert_untagged(r, "* CAPABILITY " CAPS_AUTH, NULL);
	assert_tagged(r, "a OK Capability completed.");
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_unknown_command_is_bad_and_the_connection_stays)
{
	struct conn *c = connect_imap();

	run_only(c, "a", "XYZZY", "a BAD Unknown command XYZZY.");
	run_only(c, "b", "UID NOOP", "b BAD Unknown command UID NOOP.");
	run_only(c, "c", "", "c BAD Missing command.");
	send_line(c, "+ NOOP");
	expect(c, "* BAD Error in IMAP command received by server: bad tag.");
	run_only(c, "d", "NOOP", "d OK NOOP completed.");
	logout(&c);
}
END_TEST

START_TEST(test_imap_too_long_line_is_refused_and_the_connection_stays)
{
	struct conn *c = connect_imap();
	char *big = xmalloc(20001);

	/* Before login a line may hold 8 KiB. */
	memset(big, 'x', 20000);
	big[20000] = '\0';
	send_line(c, "a NOOP %s", big);
	expect(c, "a BAD Line longer than 8192 bytes");
	run_only(c, "b", "NOOP", "b OK NOOP completed.");
	free(big);
	logout(&c);
}
END_TEST

START_TEST(test_imap_id_and_namespace)
{
	struct conn *c = login();
	struct resp *r = run(c, "a", "ID (\"name\" \"test\")");

	assert_untagged(r, "* ID (\"name\" \"mailvault\" \"vendor\" "
	    "\"mailvault\")", NULL);
	assert_tagged(r, "a OK ID completed.");
	resp_free(&r);
	r = run(c, "b", "NAMESPACE");
	assert_untagged(r, "* NAMESPACE ((\"\" \"/\")) NIL NIL", NULL);
	assert_tagged(r, "b OK Namespace completed.");
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_logout_says_bye_and_closes)
{
	struct conn *c = connect_imap();

	logout(&c);
	c = selected();
	logout(&c);
}
END_TEST

START_TEST(test_imap_server_shutdown_says_bye)
{
	struct conn *c = selected();

	close(fx.shut[1]);
	fx.shut[1] = -1;
	expect(c, "* BYE Server shutting down.");
	expect_eof(c);
	conn_close(&c);
}
END_TEST

START_TEST(test_imap_lock_says_bye_with_how_to_unlock)
{
	struct conn *c = selected();

	pthread_mutex_lock(&fx.sh.lock);
	fx.sh.locking = 1;		/* what server.c does when locking */
	pthread_mutex_unlock(&fx.sh.lock);
	close(fx.shut[1]);
	fx.shut[1] = -1;
	expect(c, "* BYE mailvault was locked: run \"mailvault unlock\" to "
	    "read mail again.");
	expect_eof(c);
	conn_close(&c);
}
END_TEST

/* ---- LOGIN --------------------------------------------------------------- */

START_TEST(test_imap_login_with_the_local_password)
{
	struct conn *c = connect_imap();

	run_only(c, "a", "SELECT INBOX", "a BAD Log in first.");
	send_line(c, "b LOGIN %s \"%s\"", USER, fx.password);
	expect(c, "b " LOGGED_IN);
	run_only(c, "c", "LOGIN x y", "c BAD Already logged in.");
	logout(&c);
}
END_TEST

START_TEST(test_imap_login_with_a_literal_password)
{
	struct conn *c = connect_imap();

	send_line(c, "a LOGIN %s {%zu}", USER, strlen(fx.password));
	expect(c, "+ OK");
	send_line(c, "%s", fx.password);
	expect(c, "a " LOGGED_IN);
	logout(&c);
	/* LITERAL+: no continuation. */
	c = connect_imap();
	send_line(c, "a LOGIN {%zu+}", strlen(USER));
	send_line(c, "%s \"%s\"", USER, fx.password);
	expect(c, "a " LOGGED_IN);
	logout(&c);
}
END_TEST

START_TEST(test_imap_login_with_a_wrong_password_is_refused)
{
	struct conn *c = connect_imap();

	run_only(c, "a", "LOGIN " USER " wrong", "a " AUTH_FAILED);
	run_only(c, "b", "SELECT INBOX", "b BAD Log in first.");
	logout(&c);
}
END_TEST

START_TEST(test_imap_login_of_an_unknown_user_is_refused)
{
	struct conn *c = connect_imap();
	struct resp *r = run(c, "a", "LOGIN nobody \"%s\"", fx.password);

	assert_untagged(r, NULL);
	assert_tagged(r, "a " AUTH_FAILED);
	resp_free(&r);
	logout(&c);
}
END_TEST

/* A lower bound only: a slow machine waits longer, never shorter. */
START_TEST(test_imap_failed_logins_wait_longer_each_time)
{
	struct conn *c = connect_imap();
	int64_t t0, t1, t2;

	t0 = now_ms();
	run_only(c, "a", "LOGIN " USER " wrong", "a " AUTH_FAILED);
	t1 = now_ms();
	run_only(c, "b", "LOGIN nobody wrong", "b " AUTH_FAILED);
	t2 = now_ms();
	ck_assert_int_ge(t1 - t0, DELAY_MS);
	ck_assert_int_ge(t2 - t1, 2 * DELAY_MS);
	logout(&c);
}
END_TEST

START_TEST(test_imap_third_failed_login_closes_the_connection)
{
	struct conn *c = connect_imap();
	char *b = plain_b64("", USER, "wrong");
	struct resp *r;

	run_only(c, "a", "LOGIN " USER " wrong", "a " AUTH_FAILED);
	/* Commands that are no login attempt do not count. */
	run_only(c, "b", "NOOP", "b OK NOOP completed.");
	run_only(c, "c", "LOGIN " USER " wrong", "c " AUTH_FAILED);
	r = run(c, "d", "AUTHENTICATE PLAIN %s", b);
	assert_untagged(r, NULL);
	assert_tagged(r, "d " AUTH_FAILED);
	resp_free(&r);
	expect(c, "* BYE Too many invalid authentication attempts.");
	expect_eof(c);
	conn_close(&c);
	free(b);
	/* A new connection has its three tries again. */
	c = login();
	logout(&c);
}
END_TEST

START_TEST(test_imap_login_refused_while_locked_until_unlocked)
{
	struct conn *c;
	int i;

	pthread_mutex_lock(&fx.sh.lock);
	fx.sh.st = NULL;		/* what server.c does while locked */
	pthread_mutex_unlock(&fx.sh.lock);
	c = connect_imap();
	/* Refusals, not failures: four of them keep the connection. */
	for (i = 0; i < 4; i++)
		run_only(c, "a", "LOGIN " USER " x", "a NO [UNAVAILABLE] "
		    "mailvault is locked: run \"mailvault unlock\"");
	pthread_mutex_lock(&fx.sh.lock);
	fx.sh.st = fx.st.st;		/* unlocked while connected */
	pthread_mutex_unlock(&fx.sh.lock);
	send_line(c, "b LOGIN %s \"%s\"", USER, fx.password);
	expect(c, "b " LOGGED_IN);
	logout(&c);
}
END_TEST

/* ---- AUTHENTICATE -------------------------------------------------------- */

START_TEST(test_imap_authenticate_plain_with_an_initial_response)
{
	struct conn *c = connect_imap();
	char *b = plain_b64("", USER, fx.password);

	send_line(c, "a AUTHENTICATE PLAIN %s", b);
	expect(c, "a " LOGGED_IN);
	free(b);
	logout(&c);
}
END_TEST

START_TEST(test_imap_authenticate_plain_with_a_continuation)
{
	struct conn *c = connect_imap();
	char *b = plain_b64(USER, USER, fx.password);

	send_line(c, "a AUTHENTICATE PLAIN");
	expect(c, "+ ");
	send_line(c, "*");
	expect(c, "a BAD Authentication canceled.");
	send_line(c, "b AUTHENTICATE PLAIN");
	expect(c, "+ ");
	send_line(c, "%s", b);
	expect(c, "b " LOGGED_IN);
	free(b);
	logout(&c);
}
END_TEST

START_TEST(test_imap_authenticate_plain_for_another_user_is_refused)
{
	struct conn *c = connect_imap();
	char *b = plain_b64("someone-else", USER, fx.password);
	struct resp *r = run(c, "a", "AUTHENTICATE PLAIN %s", b);

	assert_tagged(r, "a " AUTH_FAILED);
	resp_free(&r);
	run_only(c, "b", "AUTHENTICATE PLAIN =", "b BAD Malformed PLAIN "
	    "message.");
	run_only(c, "c", "AUTHENTICATE LOGIN", "c NO [CANNOT] Unsupported "
	    "authentication mechanism.");
	free(b);
	logout(&c);
}
END_TEST

/* Answer the CRAM-MD5 challenge on c with pass (hex in upper case when
 * upper); the caller reads the tagged reply. */
static void
cram_answer(struct conn *c, const char *pass, int upper)
{
	unsigned char mac[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN], *l, *resp;
	struct buf chal, out;
	size_t i;

	l = read_line(c);
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strncmp(l, "+ ", 2) == 0, "%s", l);
	buf_init(&chal, 1024);
	ck_assert_int_eq(base64_decode(l + 2, strlen(l + 2), &chal), 0);
	buf_addc(&chal, '\0');
	/* RFC 2195: a msg-id-like "<...@host>". */
	ck_assert_int_eq(chal.data[0], '<');
	ck_assert_ptr_nonnull(strchr(chal.data, '@'));
	ck_assert_int_eq(digest_hmac_md5(pass, strlen(pass), chal.data,
	    strlen(chal.data), mac), 0);
	digest_hex(mac, sizeof(mac), hex);
	for (i = 0; upper && hex[i] != '\0'; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
	resp = xasprintf("%s %s", USER, hex);
	buf_init(&out, 1024);
	ck_assert_int_eq(base64_encode(resp, strlen(resp), &out), 0);
	send_line(c, "%s", out.data);
	buf_free(&out);
	buf_free(&chal);
	free(resp);
	free(l);
}

START_TEST(test_imap_authenticate_cram_md5)
{
	struct conn *c = connect_imap();

	send_line(c, "a AUTHENTICATE CRAM-MD5");
	cram_answer(c, "wrong", 0);
	expect(c, "a " AUTH_FAILED);
	send_line(c, "b AUTHENTICATE CRAM-MD5");
	cram_answer(c, fx.password, 1);
	expect(c, "b " LOGGED_IN);
	logout(&c);
}
END_TEST

START_TEST(test_imap_authenticate_cram_md5_has_no_initial_response)
{
	struct conn *c = connect_imap();

	run_only(c, "a", "AUTHENTICATE CRAM-MD5 Zm9v", "a BAD CRAM-MD5 has "
	    "no initial response.");
	logout(&c);
}
END_TEST

/* ---- the login throttle, shared with POP3 -------------------------------- */

START_TEST(test_login_failures_in_pop3_slow_down_imap)
{
	struct conn *p, *c;
	int64_t t0, t1;
	char *log;

	log_capture();
	p = connect_pop3();
	pop3_fail(p);
	pop3_fail(p);
	/* Two failures so far, both POP3: IMAP's first is the third. */
	c = connect_imap();
	t0 = now_ms();
	run_only(c, "a", "LOGIN " USER " wrong", "a " AUTH_FAILED);
	t1 = now_ms();
	ck_assert_int_ge(t1 - t0, 4 * DELAY_MS);
	log = log_text();
	log_restore();
	ck_assert_msg(log_line(log, "imap[", "login failed for user '" USER
	    "' (wrong password), waiting 80 ms") != NULL, "%s", log);
	free(log);
	logout(&c);
	send_line(p, "QUIT");
	expect(p, "+OK mailvault POP3 server signing off");
	expect_eof(p);
	conn_close(&p);
}
END_TEST

START_TEST(test_login_success_in_imap_resets_pop3s_delay)
{
	struct conn *p, *c;
	const char *l;
	char *log;

	log_capture();
	p = connect_pop3();
	pop3_fail(p);
	pop3_fail(p);
	c = login();
	logout(&c);
	/* A new POP3 connection fails as if it were the first failure. */
	conn_close(&p);
	p = connect_pop3();
	pop3_fail(p);
	log = log_text();
	log_restore();
	l = log_line(log, "pop3 #", "login failed");
	ck_assert_ptr_nonnull(l);
	ck_assert_msg(strncmp(strstr(l, "waiting"), "waiting 20 ms\n", 14) ==
	    0, "%s", log);
	free(log);
	conn_close(&p);
}
END_TEST

/* ---- mailboxes ----------------------------------------------------------- */

START_TEST(test_imap_list_shows_the_hierarchy)
{
	struct conn *c = login();
	struct resp *r;

	run_only(c, "a", "CREATE Work", "a OK Create completed.");
	run_only(c, "b", "CREATE Work/Sub", "b OK Create completed.");
	r = run(c, "c", "LIST \"\" \"*\"");
	assert_untagged(r, "* LIST (\\HasNoChildren) \"/\" INBOX",
	    "* LIST (\\HasChildren) \"/\" Work",
	    "* LIST (\\HasNoChildren) \"/\" Work/Sub", NULL);
	assert_tagged(r, "c OK List completed.");
	resp_free(&r);
	r = run(c, "d", "LIST \"\" %%");
	assert_untagged(r, "* LIST (\\HasNoChildren) \"/\" INBOX",
	    "* LIST (\\HasChildren) \"/\" Work", NULL);
	resp_free(&r);
	r = run(c, "e", "LIST \"\" \"\"");
	assert_untagged(r, "* LIST (\\Noselect) \"/\" \"\"", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_create_of_an_existing_mailbox_is_refused)
{
	struct conn *c = login();

	run_only(c, "a", "CREATE INBOX", "a NO [ALREADYEXISTS] Mailbox "
	    "already exists");
	run_only(c, "b", "CREATE Work", "b OK Create completed.");
	run_only(c, "c", "CREATE Work", "c NO [ALREADYEXISTS] Mailbox "
	    "already exists");
	logout(&c);
}
END_TEST

START_TEST(test_imap_mailbox_names_are_modified_utf7)
{
	struct conn *c = login();
	struct resp *r;

	/* "Été" in modified UTF-7 (RFC 3501 5.1.3). */
	run_only(c, "a", "CREATE &AMk-t&AOk-", "a OK Create completed.");
	r = run(c, "b", "LIST \"\" \"&AMk-*\"");
	assert_untagged(r, "* LIST (\\HasNoChildren) \"/\" &AMk-t&AOk-", NULL);
	resp_free(&r);
	run_only(c, "c", "CREATE &Jjo", "c NO [CANNOT] Mailbox name is not "
	    "valid modified UTF-7: &Jjo");
	logout(&c);
}
END_TEST

START_TEST(test_imap_rename_takes_the_children_along)
{
	struct conn *c = login();
	struct resp *r;

	run_only(c, "a", "CREATE Work/Sub", "a OK Create completed.");
	run_only(c, "b", "RENAME Work Play", "b OK Rename completed.");
	r = run(c, "c", "LIST \"\" \"*\"");
	assert_untagged(r, "* LIST (\\HasNoChildren) \"/\" INBOX",
	    "* LIST (\\HasChildren) \"/\" Play",
	    "* LIST (\\HasNoChildren) \"/\" Play/Sub", NULL);
	resp_free(&r);
	run_only(c, "d", "RENAME Nope Other", "d NO [NONEXISTENT] Mailbox "
	    "doesn't exist: Nope");
	logout(&c);
}
END_TEST

START_TEST(test_imap_delete_refuses_inbox_and_unknown_mailboxes)
{
	struct conn *c = login();
	struct resp *r;

	run_only(c, "a", "DELETE INBOX", "a NO [CANNOT] INBOX can't be "
	    "deleted.");
	run_only(c, "b", "DELETE Nope", "b NO [NONEXISTENT] Mailbox doesn't "
	    "exist: Nope");
	run_only(c, "c", "CREATE Work", "c OK Create completed.");
	run_only(c, "d", "DELETE Work", "d OK Delete completed.");
	r = run(c, "e", "LIST \"\" \"*\"");
	assert_untagged(r, "* LIST (\\HasNoChildren) \"/\" INBOX", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_subscribe_shows_in_lsub)
{
	struct conn *c = login();
	struct resp *r;

	run_only(c, "a", "CREATE Work", "a OK Create completed.");
	run_only(c, "b", "SUBSCRIBE Work", "b OK Subscribe completed.");
	r = run(c, "c", "LSUB \"\" \"*\"");
	assert_untagged(r, "* LSUB () \"/\" Work", NULL);
	assert_tagged(r, "c OK Lsub completed.");
	resp_free(&r);
	run_only(c, "d", "UNSUBSCRIBE Work", "d OK Unsubscribe completed.");
	run_only(c, "e", "LSUB \"\" \"*\"", "e OK Lsub completed.");
	logout(&c);
}
END_TEST

/* ---- SELECT and EXAMINE -------------------------------------------------- */

START_TEST(test_imap_select_reports_the_mailbox)
{
	struct conn *c = login();
	struct resp *r = run(c, "a", "SELECT INBOX");
	char *v = xasprintf("* OK [UIDVALIDITY %u] UIDs valid",
	    uidvalidity_of("INBOX"));

	assert_untagged(r,
	    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
	    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft \\*)] Flags permitted.",
	    "* 3 EXISTS",
	    "* 3 RECENT",
	    "* OK [UNSEEN 2] First unseen.",
	    v,
	    "* OK [UIDNEXT 4] Predicted next UID", NULL);
	assert_tagged(r, "a OK [READ-WRITE] Select completed.");
	resp_free(&r);
	free(v);
	logout(&c);
}
END_TEST

START_TEST(test_imap_select_with_condstore_reports_highestmodseq)
{
	struct conn *c = login();
	struct resp *r = run(c, "a", "SELECT INBOX (CONDSTORE)");

	/* Three appends: MODSEQs 2, 3, 4 (the mailbox was made at 1). */
	assert_has(r, "* OK [HIGHESTMODSEQ 4] Highest");
	assert_tagged(r, "a OK [READ-WRITE] Select completed.");
	resp_free(&r);
	r = run(c, "b", "FETCH 1 (MODSEQ)");
	assert_untagged(r, "* 1 FETCH (MODSEQ (2))", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_examine_is_read_only)
{
	struct conn *c = login(), *d;
	struct resp *r = run(c, "a", "EXAMINE INBOX");

	assert_has(r, "* OK [PERMANENTFLAGS ()] Read-only mailbox.");
	assert_has(r, "* 3 RECENT");
	assert_tagged(r, "a OK [READ-ONLY] Examine completed.");
	resp_free(&r);
	run_only(c, "b", "STORE 1 +FLAGS (\\Flagged)", "b NO [CANNOT] "
	    "Mailbox is read-only.");
	run_only(c, "c", "EXPUNGE", "c NO [CANNOT] Mailbox is read-only.");
	/* EXAMINE did not take \Recent: the next SELECT gets it. */
	d = login();
	r = run(d, "d", "SELECT INBOX");
	assert_has(r, "* 3 RECENT");
	resp_free(&r);
	logout(&d);
	logout(&c);
}
END_TEST

START_TEST(test_imap_select_of_an_unknown_mailbox_leaves_none_selected)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "SELECT Nope");

	/* The old one is closed whatever happens (RFC 3501 6.3.1). */
	assert_untagged(r, "* OK [CLOSED] Previous mailbox closed.", NULL);
	assert_tagged(r, "a NO [NONEXISTENT] Mailbox doesn't exist: Nope");
	resp_free(&r);
	run_only(c, "b", "FETCH 1 FLAGS", "b BAD No mailbox selected.");
	logout(&c);
}
END_TEST

/* ---- APPEND -------------------------------------------------------------- */

START_TEST(test_imap_append_with_a_synchronizing_literal)
{
	static const char msg[] = "Subject: four\r\n\r\nfourth\r\n";
	struct conn *c = login();
	struct resp *r;
	char *want;

	send_line(c, "a APPEND INBOX (\\Seen) {%zu}", strlen(msg));
	expect(c, "+ OK");
	send_raw(c, msg, strlen(msg));
	send_line(c, "");
	want = xasprintf("a OK [APPENDUID %u 4] Append completed.",
	    uidvalidity_of("INBOX"));
	expect(c, want);
	free(want);
	ok(c, "b", "SELECT INBOX", "b OK [READ-WRITE] Select completed.");
	r = run(c, "c", "FETCH 4 (FLAGS RFC822.SIZE)");
	want = xasprintf("* 4 FETCH (FLAGS (\\Seen \\Recent) RFC822.SIZE %zu)",
	    strlen(msg));
	assert_untagged(r, want, NULL);
	free(want);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_append_with_literal_plus_to_the_selected_mailbox)
{
	static const char msg[] = "Subject: four\r\n\r\nfourth\r\n";
	struct conn *c = selected();
	struct resp *r;
	char *want;

	/* No "+" to wait for; the new message is reported before OK. */
	send_line(c, "a APPEND INBOX {%zu+}", strlen(msg));
	send_raw(c, msg, strlen(msg));
	send_line(c, "");
	r = read_resp(c, "a");
	assert_untagged(r, "* 4 EXISTS", "* 4 RECENT", NULL);
	want = xasprintf("a OK [APPENDUID %u 4] Append completed.",
	    uidvalidity_of("INBOX"));
	assert_tagged(r, want);
	free(want);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_append_to_an_unknown_mailbox_says_trycreate)
{
	struct conn *c = login();

	send_line(c, "a APPEND Nope {1+}");
	send_line(c, "x");
	expect(c, "a NO [TRYCREATE] Mailbox doesn't exist: Nope");
	logout(&c);
}
END_TEST

/* ---- FETCH and STORE of flags -------------------------------------------- */

START_TEST(test_imap_fetch_flags_by_sequence_number)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "FETCH 1:* FLAGS");

	assert_untagged(r, "* 1 FETCH (FLAGS (\\Seen \\Recent))",
	    "* 2 FETCH (FLAGS (\\Recent))", "* 3 FETCH (FLAGS (\\Recent))",
	    NULL);
	assert_tagged(r, "a OK Fetch completed.");
	resp_free(&r);
	run_only(c, "b", "FETCH 9 FLAGS", "b BAD Invalid messageset: there "
	    "are 3 messages.");
	logout(&c);
}
END_TEST

START_TEST(test_imap_uid_fetch_names_the_uid)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "UID FETCH 2:* (FLAGS)");

	assert_untagged(r, "* 2 FETCH (UID 2 FLAGS (\\Recent))",
	    "* 3 FETCH (UID 3 FLAGS (\\Recent))", NULL);
	assert_tagged(r, "a OK Fetch completed.");
	resp_free(&r);
	/* Unknown UIDs are no error, just nothing. */
	run_only(c, "b", "UID FETCH 9 FLAGS", "b OK Fetch completed.");
	logout(&c);
}
END_TEST

START_TEST(test_imap_store_adds_and_removes_flags)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "STORE 2 +FLAGS (\\Flagged \\Answered)");

	assert_untagged(r, "* 2 FETCH (FLAGS (\\Answered \\Flagged "
	    "\\Recent))", NULL);
	assert_tagged(r, "a OK Store completed.");
	resp_free(&r);
	r = run(c, "b", "STORE 2 -FLAGS (\\Answered)");
	assert_untagged(r, "* 2 FETCH (FLAGS (\\Flagged \\Recent))", NULL);
	resp_free(&r);
	r = run(c, "c", "UID STORE 3 FLAGS (\\Draft)");
	assert_untagged(r, "* 3 FETCH (UID 3 FLAGS (\\Draft \\Recent))", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_store_silent_answers_nothing_but_stores)
{
	struct conn *c = selected();
	struct resp *r;

	run_only(c, "a", "STORE 2:3 +FLAGS.SILENT (\\Seen)",
	    "a OK Store completed.");
	r = run(c, "b", "FETCH 2:3 FLAGS");
	assert_untagged(r, "* 2 FETCH (FLAGS (\\Seen \\Recent))",
	    "* 3 FETCH (FLAGS (\\Seen \\Recent))", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_store_of_a_new_keyword_announces_it)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "STORE 1 +FLAGS ($Work)");

	assert_untagged(r,
	    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)",
	    "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
	    "\\Draft $Work \\*)] Flags permitted.",
	    "* 1 FETCH (FLAGS (\\Seen \\Recent $Work))", NULL);
	resp_free(&r);
	run_only(c, "b", "STORE 1 +FLAGS (\\Recent)", "b BAD Invalid system "
	    "flag \\Recent.");
	logout(&c);
}
END_TEST

/* ---- COPY, MOVE, EXPUNGE ------------------------------------------------- */

START_TEST(test_imap_copy_answers_copyuid)
{
	struct conn *c = selected();
	struct resp *r;
	char *want;

	run_only(c, "a", "CREATE Archive", "a OK Create completed.");
	want = xasprintf("b OK [COPYUID %u 2:3 1:2] Copy completed.",
	    uidvalidity_of("Archive"));
	run_only(c, "b", "COPY 2:3 Archive", want);
	free(want);
	want = xasprintf("c OK [COPYUID %u 1 3] Copy completed.",
	    uidvalidity_of("Archive"));
	run_only(c, "c", "UID COPY 1 Archive", want);
	free(want);
	/* The source is unchanged. */
	r = run(c, "d", "SEARCH ALL");
	assert_untagged(r, "* SEARCH 1 2 3", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_copy_to_an_unknown_mailbox_says_trycreate)
{
	struct conn *c = selected();

	run_only(c, "a", "COPY 1 Nope", "a NO [TRYCREATE] Mailbox doesn't "
	    "exist: Nope");
	run_only(c, "b", "MOVE 1 Nope", "b NO [TRYCREATE] Mailbox doesn't "
	    "exist: Nope");
	logout(&c);
}
END_TEST

START_TEST(test_imap_move_expunges_and_answers_copyuid)
{
	struct conn *c = selected();
	struct resp *r;
	char *want;

	run_only(c, "a", "CREATE Archive", "a OK Create completed.");
	r = run(c, "b", "MOVE 2 Archive");
	want = xasprintf("* OK [COPYUID %u 2 1] Moved UIDs.",
	    uidvalidity_of("Archive"));
	assert_untagged(r, want, "* 2 EXPUNGE", "* 2 RECENT", NULL);
	assert_tagged(r, "b OK Move completed.");
	free(want);
	resp_free(&r);
	r = run(c, "c", "UID SEARCH ALL");
	assert_untagged(r, "* SEARCH 1 3", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_expunge_removes_deleted_messages)
{
	struct conn *c = selected();
	struct resp *r;

	run_only(c, "a", "STORE 1:2 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	r = run(c, "b", "EXPUNGE");
	/* Highest sequence number first would also do; ours goes up and
	 * renumbers as it goes: 1, then the old 2 is the new 1. */
	assert_untagged(r, "* 1 EXPUNGE", "* 1 EXPUNGE", "* 1 RECENT", NULL);
	assert_tagged(r, "b OK Expunge completed.");
	resp_free(&r);
	r = run(c, "c", "UID SEARCH ALL");
	assert_untagged(r, "* SEARCH 3", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_uid_expunge_removes_only_the_given_uids)
{
	struct conn *c = selected();
	struct resp *r;

	run_only(c, "a", "STORE 2:3 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	r = run(c, "b", "UID EXPUNGE 3");
	assert_untagged(r, "* 3 EXPUNGE", "* 2 RECENT", NULL);
	assert_tagged(r, "b OK Expunge completed.");
	resp_free(&r);
	r = run(c, "c", "UID SEARCH DELETED");
	assert_untagged(r, "* SEARCH 2", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

/* ---- SEARCH -------------------------------------------------------------- */

START_TEST(test_imap_search_by_flags_and_uids)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "SEARCH UNSEEN");

	assert_untagged(r, "* SEARCH 2 3", NULL);
	assert_tagged(r, "a OK Search completed.");
	resp_free(&r);
	r = run(c, "b", "SEARCH SEEN UID 1:2");
	assert_untagged(r, "* SEARCH 1", NULL);
	resp_free(&r);
	r = run(c, "c", "SEARCH SUBJECT two");
	assert_untagged(r, "* SEARCH 2", NULL);
	resp_free(&r);
	r = run(c, "d", "SEARCH DELETED");
	assert_untagged(r, "* SEARCH", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_esearch_returns_min_max_count_and_all)
{
	struct conn *c = selected();
	struct resp *r = run(c, "a", "SEARCH RETURN (MIN MAX COUNT) ALL");

	assert_untagged(r, "* ESEARCH (TAG \"a\") MIN 1 MAX 3 COUNT 3", NULL);
	assert_tagged(r, "a OK Search completed.");
	resp_free(&r);
	r = run(c, "b", "UID SEARCH RETURN () UNSEEN");
	assert_untagged(r, "* ESEARCH (TAG \"b\") UID ALL 2:3", NULL);
	resp_free(&r);
	logout(&c);
}
END_TEST

/* ---- what one session sees of another's changes -------------------------- */

START_TEST(test_imap_idle_is_woken_by_another_sessions_append)
{
	static const char msg[] = "Subject: four\r\n\r\nfourth\r\n";
	struct conn *c = selected(), *d = login();
	char *want;

	send_line(c, "i IDLE");
	expect(c, "+ idling");
	send_line(d, "a APPEND INBOX {%zu+}", strlen(msg));
	send_raw(d, msg, strlen(msg));
	send_line(d, "");
	want = xasprintf("a OK [APPENDUID %u 4] Append completed.",
	    uidvalidity_of("INBOX"));
	expect(d, want);
	free(want);
	expect(c, "* 4 EXISTS");
	send_line(c, "DONE");
	expect_prefix(c, "* 4 RECENT");
	expect(c, "i OK Idle completed.");
	logout(&d);
	logout(&c);
}
END_TEST

START_TEST(test_imap_idle_reports_another_sessions_flag_change)
{
	struct conn *c = selected(), *d = login();

	ok(d, "s", "EXAMINE INBOX", "s OK [READ-ONLY] Examine completed.");
	send_line(d, "i IDLE");
	expect(d, "+ idling");
	run_only(c, "a", "STORE 3 +FLAGS.SILENT (\\Flagged)",
	    "a OK Store completed.");
	/* d never had \Recent: EXAMINE leaves it to c. */
	expect(d, "* 3 FETCH (FLAGS (\\Flagged))");
	send_line(d, "DONE");
	expect(d, "i OK Idle completed.");
	run_only(d, "b", "IDLE x", "b BAD Unexpected argument: x.");
	logout(&d);
	logout(&c);
}
END_TEST

START_TEST(test_imap_noop_reports_another_sessions_expunge)
{
	struct conn *c = selected(), *d = selected();
	struct resp *r;

	run_only(d, "a", "STORE 2 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	r = run(d, "b", "EXPUNGE");
	assert_untagged(r, "* 2 EXPUNGE", NULL);
	resp_free(&r);
	/* c learns of the flag change and the expunge at its next NOOP. */
	r = run(c, "c", "NOOP");
	assert_untagged(r, "* 2 EXPUNGE", "* 2 RECENT", NULL);
	assert_tagged(r, "c OK NOOP completed.");
	resp_free(&r);
	r = run(c, "d", "UID SEARCH ALL");
	assert_untagged(r, "* SEARCH 1 3", NULL);
	resp_free(&r);
	logout(&d);
	logout(&c);
}
END_TEST

START_TEST(test_imap_fetch_holds_back_another_sessions_expunge)
{
	struct conn *c = selected(), *d = selected();
	struct resp *r;

	run_only(d, "a", "STORE 1 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	r = run(d, "b", "EXPUNGE");
	resp_free(&r);
	/* RFC 3501 7.4.1: no EXPUNGE during FETCH; numbers stay. */
	r = run(c, "c", "FETCH 3 (UID)");
	assert_has(r, "* 3 FETCH (UID 3)");
	ck_assert_uint_eq(count_prefix(r, "* 1 EXPUNGE"), 0);
	resp_free(&r);
	r = run(c, "d", "NOOP");
	assert_has(r, "* 1 EXPUNGE");
	resp_free(&r);
	logout(&d);
	logout(&c);
}
END_TEST

/* ---- ENABLE, UNSELECT, CLOSE --------------------------------------------- */

START_TEST(test_imap_enable_condstore_and_qresync)
{
	struct conn *c = login();
	struct resp *r = run(c, "a", "ENABLE CONDSTORE QRESYNC");

	assert_untagged(r, "* ENABLED CONDSTORE QRESYNC", NULL);
	assert_tagged(r, "a OK Enabled.");
	resp_free(&r);
	ok(c, "s", "SELECT INBOX", "s OK [READ-WRITE] Select completed.");
	/* QRESYNC: expunges are reported as VANISHED UIDs. */
	r = run(c, "b", "STORE 2 +FLAGS.SILENT (\\Deleted)");
	/* CONDSTORE: even .SILENT tells the new MODSEQ (RFC 7162 3.1.3). */
	assert_untagged(r, "* 2 FETCH (UID 2 MODSEQ (5))", NULL);
	resp_free(&r);
	r = run(c, "c", "EXPUNGE");
	assert_untagged(r, "* VANISHED 2", "* 2 RECENT", NULL);
	assert_tagged(r, "c OK [HIGHESTMODSEQ 6] Expunge completed.");
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_select_with_qresync_needs_enable)
{
	struct conn *c = login();

	run_only(c, "a", "SELECT INBOX (QRESYNC (1 1))", "a BAD QRESYNC is "
	    "not enabled (ENABLE QRESYNC first).");
	logout(&c);
}
END_TEST

START_TEST(test_imap_unselect_expunges_nothing)
{
	struct conn *c = selected();
	struct resp *r;

	run_only(c, "a", "STORE 1 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	run_only(c, "b", "UNSELECT", "b OK Unselect completed.");
	run_only(c, "c", "UNSELECT", "c BAD No mailbox selected.");
	r = run(c, "d", "SELECT INBOX");
	assert_has(r, "* 3 EXISTS");
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_close_expunges_silently)
{
	struct conn *c = selected();
	struct resp *r;

	run_only(c, "a", "STORE 1 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	run_only(c, "b", "CLOSE", "b OK Close completed.");
	r = run(c, "c", "SELECT INBOX");
	assert_has(r, "* 2 EXISTS");
	resp_free(&r);
	logout(&c);
}
END_TEST

START_TEST(test_imap_close_after_examine_expunges_nothing)
{
	struct conn *c = selected(), *d = login();
	struct resp *r;

	run_only(c, "a", "STORE 1 +FLAGS.SILENT (\\Deleted)",
	    "a OK Store completed.");
	ok(d, "e", "EXAMINE INBOX", "e OK [READ-ONLY] Examine completed.");
	run_only(d, "b", "CLOSE", "b OK Close completed.");
	r = run(d, "c", "STATUS INBOX (MESSAGES)");
	assert_untagged(r, "* STATUS INBOX (MESSAGES 3)", NULL);
	assert_tagged(r, "c OK Status completed.");
	resp_free(&r);
	logout(&d);
	logout(&c);
}
END_TEST

static Suite *
imap_suite(void)
{
	Suite *s = suite_create("server_imap");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_imap_greeting_lists_capabilities_before_login);
	tcase_add_test(tc,
	    test_imap_greeting_offers_starttls_with_a_certificate);
	tcase_add_test(tc, test_imap_capability_grows_after_login);
	tcase_add_test(tc,
	    test_imap_unknown_command_is_bad_and_the_connection_stays);
	tcase_add_test(tc,
	    test_imap_too_long_line_is_refused_and_the_connection_stays);
	tcase_add_test(tc, test_imap_id_and_namespace);
	tcase_add_test(tc, test_imap_logout_says_bye_and_closes);
	tcase_add_test(tc, test_imap_server_shutdown_says_bye);
	tcase_add_test(tc, test_imap_lock_says_bye_with_how_to_unlock);
	tcase_add_test(tc, test_imap_login_with_the_local_password);
	tcase_add_test(tc, test_imap_login_with_a_literal_password);
	tcase_add_test(tc, test_imap_login_with_a_wrong_password_is_refused);
	tcase_add_test(tc, test_imap_login_of_an_unknown_user_is_refused);
	tcase_add_test(tc, test_imap_failed_logins_wait_longer_each_time);
	tcase_add_test(tc, test_imap_third_failed_login_closes_the_connection);
	tcase_add_test(tc, test_imap_login_refused_while_locked_until_unlocked);
	tcase_add_test(tc,
	    test_imap_authenticate_plain_with_an_initial_response);
	tcase_add_test(tc, test_imap_authenticate_plain_with_a_continuation);
	tcase_add_test(tc,
	    test_imap_authenticate_plain_for_another_user_is_refused);
	tcase_add_test(tc, test_imap_authenticate_cram_md5);
	tcase_add_test(tc,
	    test_imap_authenticate_cram_md5_has_no_initial_response);
	tcase_add_test(tc, test_login_failures_in_pop3_slow_down_imap);
	tcase_add_test(tc, test_login_success_in_imap_resets_pop3s_delay);
	tcase_add_test(tc, test_imap_list_shows_the_hierarchy);
	tcase_add_test(tc, test_imap_create_of_an_existing_mailbox_is_refused);
	tcase_add_test(tc, test_imap_mailbox_names_are_modified_utf7);
	tcase_add_test(tc, test_imap_rename_takes_the_children_along);
	tcase_add_test(tc,
	    test_imap_delete_refuses_inbox_and_unknown_mailboxes);
	tcase_add_test(tc, test_imap_subscribe_shows_in_lsub);
	tcase_add_test(tc, test_imap_select_reports_the_mailbox);
	tcase_add_test(tc,
	    test_imap_select_with_condstore_reports_highestmodseq);
	tcase_add_test(tc, test_imap_examine_is_read_only);
	tcase_add_test(tc,
	    test_imap_select_of_an_unknown_mailbox_leaves_none_selected);
	tcase_add_test(tc, test_imap_append_with_a_synchronizing_literal);
	tcase_add_test(tc,
	    test_imap_append_with_literal_plus_to_the_selected_mailbox);
	tcase_add_test(tc,
	    test_imap_append_to_an_unknown_mailbox_says_trycreate);
	tcase_add_test(tc, test_imap_fetch_flags_by_sequence_number);
	tcase_add_test(tc, test_imap_uid_fetch_names_the_uid);
	tcase_add_test(tc, test_imap_store_adds_and_removes_flags);
	tcase_add_test(tc, test_imap_store_silent_answers_nothing_but_stores);
	tcase_add_test(tc, test_imap_store_of_a_new_keyword_announces_it);
	tcase_add_test(tc, test_imap_copy_answers_copyuid);
	tcase_add_test(tc, test_imap_copy_to_an_unknown_mailbox_says_trycreate);
	tcase_add_test(tc, test_imap_move_expunges_and_answers_copyuid);
	tcase_add_test(tc, test_imap_expunge_removes_deleted_messages);
	tcase_add_test(tc, test_imap_uid_expunge_removes_only_the_given_uids);
	tcase_add_test(tc, test_imap_search_by_flags_and_uids);
	tcase_add_test(tc, test_imap_esearch_returns_min_max_count_and_all);
	tcase_add_test(tc, test_imap_idle_is_woken_by_another_sessions_append);
	tcase_add_test(tc,
	    test_imap_idle_reports_another_sessions_flag_change);
	tcase_add_test(tc, test_imap_noop_reports_another_sessions_expunge);
	tcase_add_test(tc, test_imap_fetch_holds_back_another_sessions_expunge);
	tcase_add_test(tc, test_imap_enable_condstore_and_qresync);
	tcase_add_test(tc, test_imap_select_with_qresync_needs_enable);
	tcase_add_test(tc, test_imap_unselect_expunges_nothing);
	tcase_add_test(tc, test_imap_close_expunges_silently);
	tcase_add_test(tc, test_imap_close_after_examine_expunges_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(imap_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
