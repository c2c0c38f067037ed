/*
 * up_imap_conn: the upstream connection shared by the IMAP and the POP3
 * driver (see sync/up_int.h), plus the small helpers both need: logging,
 * the OAuth token command, wiping secrets.
 *
 * The TLS rules live here and nowhere else. Plain text needs tls none AND
 * a host whose every address is loopback AND a peer that really is
 * loopback once connected, so a DNS answer that changes between the check
 * and the connect cannot send a password over the network in the clear.
 * A certificate failure is reported with the fingerprint of what the
 * server showed: the person can check it and pin it with --pin-sha256.
 */
#include "sync/up_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/net.h"
#include "lib/tls.h"
#include "lib/util.h"

#define UP_DEFAULT_TIMEOUT_MS	60000
#define UP_TOKEN_MAX		16384

void
up_log(const struct sync_account_cfg *cfg, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (cfg->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cfg->log(cfg->log_arg, level, msg);
}

void
up_secret_free(char **s)
{
	if (*s == NULL)
		return;
	explicit_bzero(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

static int
account_err(struct sync_error *err, enum sync_retry retry,
    enum sync_errkind kind, const char *msg)
{
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, retry, kind, "%s", msg);
}

/* Sort net_connect()'s sentence into a kind, by how it begins. */
static int
connect_err(struct sync_error *err, const char *msg)
{
	if (strncmp(msg, "host not found", 14) == 0)
		return account_err(err, SYNC_RETRY_LATER, SYNC_EK_HOST, msg);
	if (strncmp(msg, "cannot look up", 14) == 0)
		return account_err(err, SYNC_RETRY_LATER, SYNC_EK_HOST, msg);
	if (strncmp(msg, "timed out", 9) == 0)
		return account_err(err, SYNC_RETRY_LATER, SYNC_EK_TIMEOUT,
		    msg);
	return account_err(err, SYNC_RETRY_LATER, SYNC_EK_CONNECT, msg);
}

/* 1 if every address host resolves to is loopback. */
static int
host_is_loopback(const char *host)
{
	struct addrinfo hints, *res, *ai;
	int ok = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (!net_is_loopback_addr(ai->ai_addr))
			ok = 0;
	freeaddrinfo(res);
	return ok;
}

static int
peer_is_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return net_is_loopback_addr((struct sockaddr *)&ss);
}

/* The handshake, and a sentence with the fingerprint when it fails. */
static int
handshake(struct up_conn *c, struct sync_error *err)
{
	char fp[TLS_FINGERPRINT_LEN];
	const char *why;
	int rc;

	rc = tls_stream_connect_client(c->s, c->ctx, c->cfg->host,
	    c->timeout_ms);
	if (rc == 0)
		return 0;
	why = tls_stream_errmsg(c->s);
	if (rc == TLS_ETIMEOUT)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_LATER, SYNC_EK_TIMEOUT, "TLS handshake with %s "
		    "timed out", c->where);
	if (rc == TLS_ECANCEL)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_LATER, SYNC_EK_CANCELLED, "cancelled");
	if (tls_stream_peer_fingerprint(c->s, fp) == 0 &&
	    strstr(why, fp) == NULL)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "TLS with %s failed: %s "
		    "(the server's certificate has SHA-256 fingerprint %s)",
		    c->where, why, fp);
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NEVER,
	    SYNC_EK_TLS, "TLS with %s failed: %s", c->where, why);
}

int
up_conn_open(struct up_conn *c, const struct sync_account_cfg *cfg,
    const char *proto, unsigned plain_port, unsigned tls_port,
    struct sync_error *err)
{
	struct tls_ctx *ctx = c->ctx;	/* kept from an earlier connect */
	char msg[512];
	int fd, one = 1;

	up_conn_close(c);
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->cfg = cfg;
	c->proto = proto;
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms :
	    UP_DEFAULT_TIMEOUT_MS;
	c->port = cfg->port ? cfg->port : cfg->tls == SYNC_TLS_IMPLICIT ?
	    tls_port : plain_port;
	snprintf(c->where, sizeof(c->where), "%s:%u", cfg->host, c->port);
	if (cfg->tls == SYNC_TLS_NONE && !host_is_loopback(cfg->host))
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "refusing to talk %s in "
		    "plain text to %s: without TLS only a loopback address "
		    "is allowed", proto, cfg->host);
	if (cfg->tls != SYNC_TLS_NONE && c->ctx == NULL) {
		c->ctx = tls_client_ctx_new(cfg->ca_file, cfg->pin_sha256, msg,
		    sizeof(msg));
		if (c->ctx == NULL)
			return account_err(err, SYNC_RETRY_NEVER, SYNC_EK_TLS,
			    msg);
	}
	fd = net_connect(cfg->host, c->port, c->timeout_ms, msg, sizeof(msg));
	if (fd < 0)
		return connect_err(err, msg);
	if (cfg->tls == SYNC_TLS_NONE && !peer_is_loopback(fd)) {
		close(fd);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "refusing to talk %s in "
		    "plain text: %s is not a loopback address", proto,
		    c->where);
	}
	/* output is gathered into whole commands already: no Nagle delay */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->s = tls_stream_new(fd);
	tls_stream_set_cancel_fd(c->s, cfg->cancel_fd);
	tls_stream_set_write_timeout(c->s, c->timeout_ms);
	if (cfg->tls == SYNC_TLS_IMPLICIT && handshake(c, err) < 0) {
		up_conn_close(c);
		return -1;
	}
	return 0;
}

int
up_conn_starttls(struct up_conn *c, struct sync_error *err)
{
	if (handshake(c, err) < 0) {
		up_conn_close(c);
		return -1;
	}
	return 0;
}

static int
io_err(struct up_conn *c, long rc, const char *what, struct sync_error *err)
{
	const char *why = c->s != NULL ? tls_stream_errmsg(c->s) : "";

	if (rc == 0)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
		    SYNC_EK_NET, "%s closed the connection while %s",
		    c->where, what);
	if (rc == TLS_ETIMEOUT)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_LATER, SYNC_EK_TIMEOUT, "%s did not answer "
		    "within %d s while %s", c->where, c->timeout_ms / 1000,
		    what);
	if (rc == TLS_ECANCEL)
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_LATER, SYNC_EK_CANCELLED, "cancelled while %s",
		    what);
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
	    SYNC_EK_NET, "connection to %s lost while %s%s%s", c->where, what,
	    why[0] ? ": " : "", why);
}

const char *
up_conn_read(struct up_conn *c, size_t *len_r, int wake_fd, int *woken_r,
    const char *what, struct sync_error *err)
{
	const char *p;
	long rc;

	if (c->s == NULL) {
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
		    SYNC_EK_NET, "not connected to %s", c->where);
		return NULL;
	}
	p = tls_stream_rdata(c->s, len_r);
	if (*len_r > 0)
		return p;
	rc = tls_stream_fill(c->s, c->timeout_ms, wake_fd);
	if (rc == TLS_EWAKE && woken_r != NULL) {
		*woken_r = 1;
		return NULL;
	}
	if (rc <= 0) {
		io_err(c, rc, what, err);
		up_conn_close(c);
		return NULL;
	}
	return tls_stream_rdata(c->s, len_r);
}

long
up_conn_wait(struct up_conn *c, int timeout_ms, int wake_fd)
{
	size_t len;

	if (c->s == NULL)
		return TLS_EIO;
	tls_stream_rdata(c->s, &len);
	if (len > 0)
		return (long)len;
	return tls_stream_fill(c->s, timeout_ms, wake_fd);
}

void
up_conn_consume(struct up_conn *c, size_t n)
{
	tls_stream_consume(c->s, n);
}

static int
write_err(struct up_conn *c, int rc, struct sync_error *err)
{
	io_err(c, rc, "sending", err);
	up_conn_close(c);
	return -1;
}

int
up_conn_write(struct up_conn *c, const void *p, size_t n,
    struct sync_error *err)
{
	int rc;

	if (c->s == NULL)
		return write_err(c, TLS_EIO, err);
	rc = tls_stream_write(c->s, p, n);
	return rc == 0 ? 0 : write_err(c, rc, err);
}

int
up_conn_printf(struct up_conn *c, struct sync_error *err, const char *fmt,
    ...)
{
	va_list ap;
	int rc;

	if (c->s == NULL)
		return write_err(c, TLS_EIO, err);
	va_start(ap, fmt);
	rc = tls_stream_vprintf(c->s, fmt, ap);
	va_end(ap);
	return rc == 0 ? 0 : write_err(c, rc, err);
}

int
up_conn_flush(struct up_conn *c, struct sync_error *err)
{
	int rc;

	if (c->s == NULL)
		return write_err(c, TLS_EIO, err);
	rc = tls_stream_flush(c->s);
	return rc == 0 ? 0 : write_err(c, rc, err);
}

int
up_conn_is_tls(const struct up_conn *c)
{
	return c->s != NULL && tls_stream_is_tls(c->s);
}

void
up_conn_close(struct up_conn *c)
{
	tls_stream_free(&c->s);
}

void
up_conn_free(struct up_conn *c)
{
	up_conn_close(c);
	tls_ctx_free(&c->ctx);
}

/* ---- OAuth ------------------------------------------------------------- */

/*
 * The token command runs as /bin/sh -c CMD with stdin from /dev/null,
 * stderr shared with ours (its complaints reach the person), and stdout a
 * pipe read into our own buffer, so the token sits in no stdio buffer and
 * is wiped after use. A command that hangs is killed after the account's
 * timeout. The command line is not repeated in errors: it may name a
 * secret store.
 */
static pid_t
token_spawn(const char *cmd, int *fd_r)
{
	int p[2], devnull;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(p[1], 1) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*fd_r = p[0];
	return pid;
}

/* Read the command's output (up to UP_TOKEN_MAX - 1 bytes; the rest is
 * drained) until EOF or the deadline; 1 if the deadline passed. */
static int
token_read(int fd, char *line, size_t *len_r, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct pollfd pfd = { fd, POLLIN, 0 };
	char drain[512];
	size_t len = 0;
	ssize_t n;
	int64_t left;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return 1;
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (len < UP_TOKEN_MAX - 1)
			n = read(fd, line + len, UP_TOKEN_MAX - 1 - len);
		else
			n = read(fd, drain, sizeof(drain));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < UP_TOKEN_MAX - 1)
			len += (size_t)n;
	}
	explicit_bzero(drain, sizeof(drain));
	*len_r = len;
	return 0;
}

char *
up_oauth_token(const struct sync_account_cfg *cfg, struct sync_error *err)
{
	char *line = xcalloc(1, UP_TOKEN_MAX);
	size_t len = 0, n;
	int fd = -1, st = 0, late;
	pid_t pid;

	pid = token_spawn(cfg->oauth_token_command, &fd);
	if (pid < 0) {
		free(line);
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_AUTH, "cannot run the OAuth token command "
		    "(oauth-token-command): %s", strerror(errno));
		return NULL;
	}
	late = token_read(fd, line, &len, cfg->timeout_ms > 0 ?
	    cfg->timeout_ms : UP_DEFAULT_TIMEOUT_MS);
	close(fd);
	if (late)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	line[len] = '\0';
	n = strcspn(line, "\r\n");
	explicit_bzero(line + n, len - n);
	line[n] = '\0';
	if (!late && WIFEXITED(st) && WEXITSTATUS(st) == 0 && n > 0)
		return line;
	up_secret_free(&line);
	if (late)
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_AUTH, "the OAuth token command "
		    "(oauth-token-command) "
		    "did not finish within %d s; it was stopped",
		    (cfg->timeout_ms > 0 ? cfg->timeout_ms :
		    UP_DEFAULT_TIMEOUT_MS) / 1000);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NEVER,
		    SYNC_EK_AUTH, "the OAuth token command "
		    "(oauth-token-command) "
		    "could not be run (exit status 127: command not found?)");
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_AUTH, "the OAuth token command "
		    "(oauth-token-command) "
		    "failed with exit status %d; no token to log in with",
		    WEXITSTATUS(st));
	else if (!WIFEXITED(st))
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_AUTH, "the OAuth token command "
		    "(oauth-token-command) "
		    "was killed by signal %d; no token to log in with",
		    WTERMSIG(st));
	else
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_AUTH, "the OAuth token command "
		    "(oauth-token-command) "
		    "printed no token: its first line of output is empty");
	return NULL;
}
