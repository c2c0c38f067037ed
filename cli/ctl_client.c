/*
 * ctl_client: the CLI's half of the control socket of a running daemon
 * (daemon.h describes the protocol; daemon/control.c answers it).
 *
 * One request per connection: connect to daemon_ctl_path() of the store
 * the command was given (each store has its own daemon), send the
 * command line (and UNLOCK's passphrase line), read the whole answer
 * until the daemon closes. A daemon that is not there is not an error
 * here but CLI_CTL_DOWN, so each command decides what that means (`sync`
 * then syncs by itself, `status` says "not running", `lock` fails).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/buf.h"
#include "lib/net.h"
#include "lib/util.h"

/* The control socket of the store o names; NULL when there is no store
 * (then no daemon serves it either). The caller frees it. */
static char *
ctl_path(const struct cli_opts *o)
{
	char *path = cli_store_path(o), *abs = realpath(path, NULL), *ctl;

	free(path);
	if (abs == NULL)
		return NULL;
	ctl = daemon_ctl_path(abs);
	free(abs);
	return ctl;
}

/* A socket connected to the daemon of the store o names: its descriptor,
 * CLI_CTL_DOWN, or -1. */
static int
ctl_connect(const struct cli_opts *o)
{
	struct sockaddr_un sa;
	char *path = ctl_path(o);
	int fd, rc;

	if (path == NULL)
		return CLI_CTL_DOWN;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		free(path);
		return CLI_CTL_DOWN;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	free(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = (errno == ENOENT || errno == ECONNREFUSED) ?
		    CLI_CTL_DOWN : -1;
		close(fd);
		return rc;
	}
	return fd;
}

/* Send cmd, and data when not NULL, each as a line. 0, or -1. */
static int
send_request(int fd, const char *cmd, const char *data, size_t len)
{
	if (net_write_all(fd, cmd, strlen(cmd), -1, -1) < 0 ||
	    net_write_all(fd, "\n", 1, -1, -1) < 0)
		return -1;
	if (data != NULL && (net_write_all(fd, data, len, -1, -1) < 0 ||
	    net_write_all(fd, "\n", 1, -1, -1) < 0))
		return -1;
	return 0;
}

/* Where streamed data lines go: line(arg, text), or stdout. */
struct sink {
	void	(*line)(void *arg, const char *text);
	void	*arg;
};

/* Hand on the complete data lines at the start of in and drop them. */
static void
print_data(struct buf *in, const struct sink *k)
{
	const size_t mark = strlen(DAEMON_CTL_DATA);
	char *nl;
	size_t used = 0;

	while (used < in->len && (nl = memchr(in->data + used, '\n',
	    in->len - used)) != NULL && strncmp(in->data + used,
	    DAEMON_CTL_DATA, mark) == 0) {
		if (k->line != NULL) {
			*nl = '\0';
			k->line(k->arg, in->data + used + mark);
		} else
			fwrite(in->data + used + mark, 1, (size_t)(nl -
			    in->data) - used - mark + 1, stdout);
		used = (size_t)(nl - in->data) + 1;
	}
	fflush(stdout);
	if (used > 0) {
		memmove(in->data, in->data + used, in->len - used);
		in->len -= used;
		in->data[in->len] = '\0';
	}
}

/* Read the answer until the daemon closes; 0 and in filled, or -1. With
 * k, data lines go there as they come. */
static int
read_reply(int fd, const struct sink *k, struct buf *in)
{
	char chunk[4096];
	ssize_t r;

	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf_add(in, chunk, (size_t)r) < 0)
			return -1;
		if (k != NULL)
			print_data(in, k);
	}
	return r < 0 || in->len == 0 ? -1 : 0;
}

static int
request(const struct cli_opts *o, const char *cmd, const char *data,
    size_t len, int timeout_secs, const struct sink *k, char **reply_r)
{
	struct timeval tv = { timeout_secs, 0 };
	struct buf in;
	int fd, rc;

	if ((fd = ctl_connect(o)) < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send_request(fd, cmd, data, len) < 0) {
		close(fd);
		return -1;
	}
	buf_init(&in, DAEMON_CTL_REPLY_MAX);
	rc = read_reply(fd, k, &in);
	close(fd);
	if (rc < 0) {
		buf_free(&in);
		return -1;
	}
	*reply_r = buf_steal(&in, NULL);
	return 0;
}

int
cli_ctl_request_data(const struct cli_opts *o, const char *cmd,
    const char *data, size_t len, int timeout_secs, int stream,
    char **reply_r)
{
	struct sink out = { NULL, NULL };

	return request(o, cmd, data, len, timeout_secs, stream ? &out : NULL,
	    reply_r);
}

int
cli_ctl_request_lines(const struct cli_opts *o, const char *cmd,
    int timeout_secs, void (*line)(void *arg, const char *text), void *arg,
    char **reply_r)
{
	struct sink k = { line, arg };

	return request(o, cmd, NULL, 0, timeout_secs, &k, reply_r);
}

int
cli_ctl_request(const struct cli_opts *o, const char *cmd, int timeout_secs,
    char **reply_r)
{
	return cli_ctl_request_data(o, cmd, NULL, 0, timeout_secs, 0,
	    reply_r);
}

int
cli_ctl_print_reply(const char *reply)
{
	const size_t mark = strlen(DAEMON_CTL_DATA);
	const size_t err = strlen(DAEMON_CTL_ERR);
	const char *line = reply, *nl;
	int ok = 0;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		if (strncmp(line, DAEMON_CTL_DATA, mark) == 0)
			printf("%.*s\n", (int)(nl ? nl - line - (long)mark :
			    (long)strlen(line + mark)), line + mark);
		else if (strncmp(line, DAEMON_CTL_OK, 2) == 0)
			ok = 1;
		else if (strncmp(line, DAEMON_CTL_ERR, err) == 0)
			cli_error("%.*s", (int)(nl ? nl - line - (long)err :
			    (long)strlen(line + err)), line + err);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return ok ? 0 : -1;
}

int
cli_ctl_same_store(const struct cli_opts *o)
{
	char *path = cli_store_path(o), *abs, *reply = NULL;
	int rc;

	abs = realpath(path, NULL);
	free(path);
	rc = cli_ctl_request(o, DAEMON_CTL_STORE, 10, &reply);
	if (rc < 0 || abs == NULL) {
		free(abs);
		if (rc == 0)
			free(reply);
		return rc == CLI_CTL_DOWN ? CLI_CTL_DOWN : 0;
	}
	reply[strcspn(reply, "\n")] = '\0';
	rc = strncmp(reply, DAEMON_CTL_OK " ", 3) == 0 &&
	    strcmp(reply + 3, abs) == 0;
	free(reply);
	free(abs);
	return rc;
}
