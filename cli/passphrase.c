/*
 * passphrase: where the passphrase comes from. Never argv: a descriptor
 * (--passphrase-fd), a file (--passphrase-file or
 * $MAILVAULT_PASSPHRASE_FILE) whose first line is the passphrase, or a
 * prompt on the controlling terminal with echo turned off.
 *
 * The passphrase is held in memory only as long as it takes to unlock the
 * store, and wiped before it is freed. cli_open_store() is that whole
 * path for the commands that work on the store themselves.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"

#define PASS_MAX	4096

static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

void
cli_passphrase_free(char **pass, size_t len)
{
	if (*pass == NULL)
		return;
	wipe(*pass, len);
	free(*pass);
	*pass = NULL;
}

/* Read up to the first newline (or EOF) from fd. -1 on error or if empty. */
static int
read_line_fd(int fd, char **pass_r, size_t *len_r)
{
	char *p = xmalloc(PASS_MAX + 1);
	size_t n = 0;
	ssize_t r;
	char c;

	while (n < PASS_MAX) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		p[n++] = c;
	}
	if (n > 0 && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	if (n == 0) {
		cli_passphrase_free(&p, PASS_MAX + 1);
		return -1;
	}
	*pass_r = p;
	*len_r = n;
	return 0;
}

/*
 * The terminal whose echo is off while a prompt waits, so a signal that
 * ends the program (Ctrl-C, a hang-up, kill) turns echo back on first:
 * otherwise the shell is left typing blind.
 */
static int		tty_fd = -1;
static struct termios	tty_saved;
static const int	tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static struct sigaction	tty_oldact[ARRAY_SIZE(tty_signals)];

static void
tty_restore_and_die(int sig)
{
	struct sigaction dfl;
	ssize_t w;

	if (tty_fd >= 0) {
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		w = write(tty_fd, "\n", 1);
		(void)w;
	}
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	raise(sig);		/* delivered when this handler returns */
}

static void
tty_guard(int fd, const struct termios *old)
{
	struct sigaction sa;
	size_t i;

	tty_saved = *old;
	tty_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tty_restore_and_die;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(tty_signals); i++) {
		sigaction(tty_signals[i], NULL, &tty_oldact[i]);
		/* An ignored signal (nohup) stays ignored. */
		if (tty_oldact[i].sa_handler != SIG_IGN)
			sigaction(tty_signals[i], &sa, NULL);
	}
}

static void
tty_unguard(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tty_signals); i++)
		sigaction(tty_signals[i], &tty_oldact[i], NULL);
	tty_fd = -1;
}

/* The upstream password of `account add` has options of its own; any
 * other prompt asks for the store's passphrase. */
static int
is_password(const char *prompt)
{
	return strncmp(prompt, "Password", 8) == 0;
}

/*
 * Echo goes off before the prompt shows (as getpass does): what is typed
 * as soon as the prompt appears is then neither echoed nor thrown away
 * by the TCSAFLUSH. The line is ended after the answer, since the Enter
 * that was typed is not echoed either.
 */
static int
prompt_tty(const char *prompt, char **pass_r, size_t *len_r)
{
	struct termios old, quiet;
	int fd, rc;

	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (is_password(prompt))
			cli_error("no password given and no terminal to ask "
			    "it on: use --password-file FILE or "
			    "--password-fd N");
		else
			cli_error("no passphrase given and no terminal to "
			    "ask one on: use --passphrase-file FILE, "
			    "--passphrase-fd N or $MAILVAULT_PASSPHRASE_FILE");
		return -1;
	}
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return cli_error("cannot turn off echo on the terminal"), -1;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	tty_guard(fd, &old);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0 ||
	    write(fd, prompt, strlen(prompt)) < 0) {
		tcsetattr(fd, TCSAFLUSH, &old);
		tty_unguard();
		close(fd);
		return cli_error("cannot turn off echo on the terminal"), -1;
	}
	rc = read_line_fd(fd, pass_r, len_r);
	tcsetattr(fd, TCSAFLUSH, &old);
	tty_unguard();
	if (write(fd, "\n", 1) < 0)
		rc = rc < 0 ? rc : 0;
	close(fd);
	if (rc < 0)
		cli_error("an empty %s is not allowed",
		    is_password(prompt) ? "password" : "passphrase");
	return rc;
}

int
cli_read_passphrase(const struct cli_opts *o, const char *prompt,
    int confirm, char **pass_r, size_t *len_r)
{
	char *again;
	size_t alen;
	int fd, rc;

	if (o->pass_fd >= 0) {
		if (read_line_fd(o->pass_fd, pass_r, len_r) < 0)
			return cli_error("no passphrase could be read from "
			    "descriptor %d", o->pass_fd), -1;
		return 0;
	}
	if (o->pass_file != NULL && o->pass_file[0] != '\0') {
		fd = open(o->pass_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return cli_error("cannot read the passphrase file "
			    "%s: %s", o->pass_file, strerror(errno)), -1;
		rc = read_line_fd(fd, pass_r, len_r);
		close(fd);
		if (rc < 0)
			return cli_error("the passphrase file %s is empty",
			    o->pass_file), -1;
		return 0;
	}
	if (prompt_tty(prompt, pass_r, len_r) < 0)
		return -1;
	if (!confirm)
		return 0;
	if (prompt_tty("Again: ", &again, &alen) < 0) {
		cli_passphrase_free(pass_r, *len_r);
		return -1;
	}
	rc = (alen == *len_r && memcmp(again, *pass_r, alen) == 0) ? 0 : -1;
	cli_passphrase_free(&again, alen);
	if (rc < 0) {
		cli_passphrase_free(pass_r, *len_r);
		return cli_error("the two passphrases differ; nothing was "
		    "changed"), -1;
	}
	return 0;
}

int
cli_passphrase_available(const struct cli_opts *o)
{
	int fd;

	if (o->pass_fd >= 0 || (o->pass_file != NULL && o->pass_file[0]))
		return 1;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int
cli_open_store(const struct cli_opts *o, struct store **st_r)
{
	char err[STORE_ERRMSG_MAX], *path, *pass;
	size_t plen;
	int rc;

	path = cli_store_path(o);
	if (access(path, F_OK) != 0) {
		cli_error("there is no store at %s: create one with "
		    "'mailvault init', or name another with --store", path);
		free(path);
		return -1;
	}
	if (cli_read_passphrase(o, "Passphrase: ", 0, &pass, &plen) < 0) {
		free(path);
		return -1;
	}
	rc = store_open(path, pass, plen, st_r, err, sizeof(err));
	cli_passphrase_free(&pass, plen);
	free(path);
	if (rc < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}
