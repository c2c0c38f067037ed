/*
 * cmd_credentials: what a mail client needs to log in to the local
 * server: the user names (one per account), the store's local password,
 * the host and ports (as `mailvault config` sets them), and the SHA-256
 * fingerprint of the server's certificate (made now if the store has none
 * yet). --cert prints the certificate itself in PEM, for clients that
 * trust a file (mbsync's CertificateFile, curl --cacert, Python's ssl).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"

#define FINGERPRINT_MAX	128

/* A port setting of `mailvault config` (its default when unset). */
static int
config_port(struct store *st, const char *name, int def)
{
	uint64_t n;
	char *v;
	int port = def;

	if (daemon_setting_get(st, name, &v) < 0)
		return def;
	if (parse_u64(v, 65535, &n) == 0)
		port = (int)n;
	free(v);
	return port;
}

/* The listen address setting; the caller frees it. */
static char *
config_host(struct store *st)
{
	char *v;

	if (daemon_setting_get(st, "listen", &v) == 0)
		return v;
	return xstrdup("127.0.0.1");
}

/* The four listener ports, as `serve` will use them. */
struct ports {
	int	imap, imaps, pop3, pop3s;
};

static void
print_json(const struct store_account *accts, size_t n, const char *pw,
    const char *host, const struct ports *p, const char *fp)
{
	size_t i;

	printf("{\"users\":[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			putchar(',');
		cli_json_string(accts[i].name);
	}
	printf("],\"password\":");
	cli_json_string(pw);
	printf(",\"host\":");
	cli_json_string(host);
	printf(",\"imap_port\":%d,\"imaps_port\":%d,\"pop3_port\":%d,"
	    "\"pop3s_port\":%d,\"fingerprint\":", p->imap, p->imaps, p->pop3,
	    p->pop3s);
	cli_json_string(fp);
	printf("}\n");
}

static void
print_text(const struct store_account *accts, size_t n, const char *pw,
    const char *host, const struct ports *p, const char *fp)
{
	size_t i;

	printf("Users (one per account):");
	for (i = 0; i < n; i++)
		printf(" %s", accts[i].name);
	printf("%s\nPassword: %s\n", n == 0 ? " (none yet)" : "", pw);
	printf("Host: %s\n", host);
	if (p->imap != 0)
		printf("IMAP port: %d (STARTTLS)\n", p->imap);
	if (p->imaps != 0)
		printf("IMAPS port: %d (TLS)\n", p->imaps);
	if (p->pop3 != 0)
		printf("POP3 port: %d (STLS)\n", p->pop3);
	if (p->pop3s != 0)
		printf("POP3S port: %d (TLS)\n", p->pop3s);
	printf("Certificate SHA-256 fingerprint: %s\n", fp);
}

int
cli_cmd_credentials(const struct cli_opts *o, int argc, char **argv)
{
	struct store_account *accts;
	char fp[FINGERPRINT_MAX], err[512], *cert = NULL, *host;
	struct store *st;
	struct ports p;
	int want_cert = 0, i, rc = CLI_OK;
	size_t n;
	char *pw;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cert") == 0)
			want_cert = 1;
		else
			return cli_usage("credentials", "unexpected '%s'",
			    argv[i]);
	}
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (server_cert_ensure(st, &cert, fp, sizeof(fp), err,
	    sizeof(err)) < 0) {
		store_close(&st);
		return cli_error("%s", err);
	}
	if (want_cert) {
		fputs(cert, stdout);
		free(cert);
		store_close(&st);
		return CLI_OK;
	}
	free(cert);
	if (store_local_password(st, &pw) < 0 ||
	    store_account_list(st, &accts, &n) < 0) {
		cli_error("%s", store_errmsg(st));
		store_close(&st);
		return CLI_FAIL;
	}
	host = config_host(st);
	p.imap = config_port(st, "imap-port", SERVER_IMAP_PORT);
	p.imaps = config_port(st, "imaps-port", SERVER_IMAPS_PORT);
	p.pop3 = config_port(st, "pop3-port", SERVER_POP3_PORT);
	p.pop3s = config_port(st, "pop3s-port", SERVER_POP3S_PORT);
	if (o->json)
		print_json(accts, n, pw, host, &p, fp);
	else
		print_text(accts, n, pw, host, &p, fp);
	free(host);
	store_secret_free(&pw);
	store_account_list_free(&accts, n);
	store_close(&st);
	return rc;
}
