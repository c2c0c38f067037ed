/*
 * cmd_credentials: what a mail client needs to log in to the local
 * server: the user names (one per account), the store's local password,
 * the host and ports, and the SHA-256 fingerprint of the server's
 * certificate (made now if the store has none yet). --cert prints the
 * certificate itself in PEM, for clients that trust a file (mbsync's
 * CertificateFile, curl --cacert, Python's ssl); the same certificate is
 * in the file STORE.cert.pem beside the store, which the ready-made
 * settings name.
 *
 * The ports are the running daemon's when one serves the store (asked
 * over its control socket: `serve --imap-port N` may differ from the
 * settings), else the settings of `mailvault config`.
 *
 * --for thunderbird|neomutt|mbsync|fetchmail prints settings for that
 * client, ready to paste: the values to type into Thunderbird's manual
 * setup, a muttrc snippet, an IMAPAccount/IMAPStore block, a .fetchmailrc
 * poll line. They trust the certificate by its file or fingerprint and
 * prefer implicit TLS (IMAPS, POP3S) to STARTTLS. Clients that match the
 * host only against the certificate's DNS names (fetchmail, mutt) are
 * given 127.0.0.1 when the certificate names it so (new ones do), else
 * localhost. --renew-cert makes a new certificate (every client must
 * then trust the new one) - the way an older store's certificate gets
 * the DNS:127.0.0.1 name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/daemon.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"

enum { P_IMAP, P_IMAPS, P_POP3, P_POP3S };

/* Everything a client's settings are made of. */
struct creds {
	struct store_account *accts;
	size_t	 n;
	char	*pw;			/* the local password (secret) */
	char	*host;			/* the address listened on */
	const char *tls_host;		/* host, or "localhost" when the
					 * certificate does not name host */
	int	 ports[4];		/* IMAP, IMAPS, POP3, POP3S; 0: off */
	int	 from_daemon;		/* the ports are the daemon's */
	char	 fp[TLS_FINGERPRINT_LEN];	/* SHA-256 */
	char	 md5[TLS_FINGERPRINT_LEN];	/* for fetchmail */
	char	*cert_path;		/* STORE.cert.pem */
	const char *only;		/* --account, or NULL */
};

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

/* The ports and address of the daemon serving the store, if one does:
 * 1, else 0. */
static int
running_ports(const struct cli_opts *o, struct creds *c)
{
	char *reply = NULL, addr[128];
	int p[4], ok;

	if (cli_ctl_same_store(o) != 1 ||
	    cli_ctl_request(o, DAEMON_CTL_PORTS, 10, &reply) != 0)
		return 0;
	ok = sscanf(reply, DAEMON_CTL_OK " %d %d %d %d %127s", &p[0], &p[1],
	    &p[2], &p[3], addr) == 5;
	free(reply);
	if (!ok)
		return 0;
	memcpy(c->ports, p, sizeof(p));
	c->host = xstrdup(addr);
	return 1;
}

static void
config_ports(struct store *st, struct creds *c)
{
	if (daemon_setting_get(st, "listen", &c->host) < 0)
		c->host = xstrdup("127.0.0.1");
	c->ports[P_IMAP] = config_port(st, "imap-port", SERVER_IMAP_PORT);
	c->ports[P_IMAPS] = config_port(st, "imaps-port", SERVER_IMAPS_PORT);
	c->ports[P_POP3] = config_port(st, "pop3-port", SERVER_POP3_PORT);
	c->ports[P_POP3S] = config_port(st, "pop3s-port", SERVER_POP3S_PORT);
}

static void
creds_free(struct creds *c)
{
	store_account_list_free(&c->accts, c->n);
	store_secret_free(&c->pw);
	free(c->host);
	free(c->cert_path);
}

/* ---- plain and JSON ---- */

static void
print_json(const struct creds *c)
{
	size_t i;

	printf("{\"users\":[");
	for (i = 0; i < c->n; i++) {
		if (i > 0)
			putchar(',');
		cli_json_string(c->accts[i].name);
	}
	printf("],\"password\":");
	cli_json_string(c->pw);
	printf(",\"host\":");
	cli_json_string(c->host);
	printf(",\"imap_port\":%d,\"imaps_port\":%d,\"pop3_port\":%d,"
	    "\"pop3s_port\":%d,\"ports_from\":\"%s\",\"fingerprint\":",
	    c->ports[P_IMAP], c->ports[P_IMAPS], c->ports[P_POP3],
	    c->ports[P_POP3S], c->from_daemon ? "daemon" : "config");
	cli_json_string(c->fp);
	printf(",\"certificate_file\":");
	cli_json_string(c->cert_path);
	printf("}\n");
}

static void
print_text(const struct creds *c)
{
	size_t i;

	printf("Users (one per account):");
	for (i = 0; i < c->n; i++)
		printf(" %s", c->accts[i].name);
	printf("%s\nPassword: %s\n", c->n == 0 ? " (none yet)" : "", c->pw);
	printf("Host: %s\n", c->host);
	if (c->ports[P_IMAP] != 0)
		printf("IMAP port: %d (STARTTLS)\n", c->ports[P_IMAP]);
	if (c->ports[P_IMAPS] != 0)
		printf("IMAPS port: %d (TLS)\n", c->ports[P_IMAPS]);
	if (c->ports[P_POP3] != 0)
		printf("POP3 port: %d (STLS)\n", c->ports[P_POP3]);
	if (c->ports[P_POP3S] != 0)
		printf("POP3S port: %d (TLS)\n", c->ports[P_POP3S]);
	printf("(ports of the %s)\n", c->from_daemon ? "running daemon" :
	    "settings; no daemon serves this store now");
	printf("Certificate SHA-256 fingerprint: %s\n", c->fp);
	printf("Certificate file: %s\n", c->cert_path);
	if (strcmp(c->tls_host, c->host) != 0)
		printf("Clients that check the host name against the "
		    "certificate (fetchmail, mutt) should use %s; "
		    "'mailvault credentials --renew-cert' makes a certificate "
		    "that names %s too.\n", c->tls_host, c->host);
	printf("Ready-made settings: mailvault credentials --for "
	    "thunderbird|neomutt|mbsync|fetchmail\n");
}

/* ---- settings for one client ---- */

/* s in double quotes, '"' and '\\' escaped: how fetchmail, mbsync and
 * neomutt read a string that may hold spaces (an account name). */
static void
quoted(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
	putchar('"');
}

/* An mbsync section name for the account: letters, digits, '.', '_'
 * and '-' only. */
static void
section_name(const char *user)
{
	fputs("mailvault-", stdout);
	for (; *user != '\0'; user++)
		putchar((*user >= 'a' && *user <= 'z') || (*user >= 'A' &&
		    *user <= 'Z') || (*user >= '0' && *user <= '9') ||
		    *user == '.' || *user == '_' || *user == '-' ? *user : '-');
}

/* The IMAP port to use and whether it is implicit TLS; 0 if IMAP is off. */
static int
imap_port(const struct creds *c, int *implicit)
{
	*implicit = c->ports[P_IMAPS] != 0;
	return *implicit ? c->ports[P_IMAPS] : c->ports[P_IMAP];
}

static int
for_thunderbird(const struct creds *c, const char *user)
{
	int tls, port = imap_port(c, &tls);

	printf("Thunderbird, account %s: Account Settings > Account Actions > "
	    "Add Mail Account,\nthen \"Configure manually\":\n", user);
	printf("  Incoming server:        IMAP\n");
	printf("  Hostname:               %s\n", c->host);
	printf("  Port:                   %d\n", port);
	printf("  Connection security:    %s\n", tls ? "SSL/TLS" :
	    "STARTTLS");
	printf("  Authentication method:  Normal password\n");
	printf("  Username:               %s\n", user);
	printf("  Password:               %s\n", c->pw);
	printf("  Outgoing server:        keep your provider's (mailvault "
	    "does not send mail)\n");
	printf("On the first connection Thunderbird asks to confirm a "
	    "security exception\nfor the certificate: accept it permanently "
	    "when its SHA-256 fingerprint is\n  %s\n", c->fp);
	return 0;
}

static int
for_neomutt(const struct creds *c, const char *user)
{
	int tls, port = imap_port(c, &tls);

	printf("# neomutt: mailvault account %s (put in your neomuttrc)\n",
	    user);
	printf("set folder = \"%s://%s:%d/\"\n", tls ? "imaps" : "imap",
	    c->tls_host, port);
	printf("set spoolfile = \"+INBOX\"\n");
	fputs("set imap_user = ", stdout);
	quoted(user);
	printf("\nset imap_pass = \"%s\"\n", c->pw);
	fputs("set certificate_file = ", stdout);
	quoted(c->cert_path);
	putchar('\n');
	printf("set ssl_force_tls = yes\n");
	printf("set imap_check_subscribed = yes\n");
	return 0;
}

static int
for_mbsync(const struct creds *c, const char *user)
{
	int tls, port = imap_port(c, &tls);

	printf("# mbsync: mailvault account %s (put in ~/.mbsyncrc, then "
	    "add a MaildirStore\n# and a Channel whose Far is :", user);
	section_name(user);
	fputs(":)\nIMAPAccount ", stdout);
	section_name(user);
	printf("\nHost %s\nPort %d\nUser ", c->host, port);
	quoted(user);
	printf("\nPass \"%s\"\n", c->pw);
	printf("SSLType %s\n", tls ? "IMAPS" : "STARTTLS");
	fputs("CertificateFile ", stdout);
	quoted(c->cert_path);
	fputs("\n\nIMAPStore ", stdout);
	section_name(user);
	fputs("\nAccount ", stdout);
	section_name(user);
	putchar('\n');
	return 0;
}

/* fetchmail: POP3 (what it is most used with), implicit TLS first. */
static void
fetchmail_poll(const struct creds *c, const char *user)
{
	int pop3 = c->ports[P_POP3S] != 0 || c->ports[P_POP3] != 0;
	int tls = c->ports[P_POP3S] != 0, port;

	if (pop3)
		port = tls ? c->ports[P_POP3S] : c->ports[P_POP3];
	else
		port = imap_port(c, &tls);
	fputs("poll ", stdout);
	quoted(c->host);	/* "::1" must be quoted */
	printf(" protocol %s port %d\n", pop3 ? "pop3" : "imap", port);
	fputs("  user ", stdout);
	quoted(user);
	printf(" password \"%s\"\n", c->pw);
	printf("  %ssslproto tls1.2+ sslcertck sslcertfile ", tls ? "ssl " :
	    "");
	quoted(c->cert_path);
	printf("\n  sslfingerprint \"%s\"\n", c->md5);
	if (strcmp(c->tls_host, c->host) != 0)
		printf("  sslcommonname \"%s\"\n", c->tls_host);
	printf("  keep\n");
}

static int
for_fetchmail(const struct creds *c, const char *user)
{
	printf("# fetchmail: mailvault account %s (put in ~/.fetchmailrc, "
	    "mode 0600;\n# without 'keep' fetchmail deletes what it fetched, "
	    "which mailvault then\n# hides from POP3: 'mailvault config set "
	    "pop3-delete')\n", user);
	fetchmail_poll(c, user);
	return 0;
}

static const struct client {
	const char *name;
	int	(*fn)(const struct creds *c, const char *user);
} clients[] = {
	{ "fetchmail",	for_fetchmail },
	{ "mbsync",	for_mbsync },
	{ "neomutt",	for_neomutt },
	{ "thunderbird", for_thunderbird },
};

static int
print_for(const struct creds *c, const char *name)
{
	const struct client *cl = NULL;
	size_t i;
	int any = 0, tls;

	for (i = 0; i < ARRAY_SIZE(clients); i++)
		if (strcmp(clients[i].name, name) == 0)
			cl = &clients[i];
	if (cl == NULL)
		return cli_usage("credentials", "--for knows thunderbird, "
		    "neomutt, mbsync and fetchmail, not '%s'", name);
	if (imap_port(c, &tls) == 0 && (strcmp(name, "fetchmail") != 0 ||
	    (c->ports[P_POP3] == 0 && c->ports[P_POP3S] == 0)))
		return cli_error("IMAP is off (imap-port and imaps-port are "
		    "0): turn one on with 'mailvault config set imaps-port "
		    "%d'", SERVER_IMAPS_PORT);
	for (i = 0; i < c->n; i++) {
		if (c->only != NULL && strcmp(c->accts[i].name, c->only) != 0)
			continue;
		if (any++ > 0)
			putchar('\n');
		cl->fn(c, c->accts[i].name);
	}
	if (any == 0 && c->only != NULL)
		return cli_error("there is no account named %s ('mailvault "
		    "account list' shows them)", c->only);
	if (any == 0)
		return cli_error("there is no account yet, so no user to log "
		    "in as: add one with 'mailvault account add' or "
		    "'mailvault import'");
	return CLI_OK;
}

/* ---- the command ---- */

/* The certificate (made, or renewed), its fingerprints and file. */
static int
load_cert(struct store *st, int renew, char **cert_r, struct creds *c)
{
	char err[512];
	int rc;

	rc = renew ? server_cert_renew(st, cert_r, c->fp, sizeof(c->fp), err,
	    sizeof(err)) : server_cert_ensure(st, cert_r, c->fp,
	    sizeof(c->fp), err, sizeof(err));
	if (rc < 0)
		return cli_error("%s", err);
	if (tls_cert_fingerprint_md5(*cert_r, c->md5) < 0)
		snprintf(c->md5, sizeof(c->md5), "(MD5 is not available)");
	c->cert_path = server_cert_path(store_path(st));
	return 0;
}

static int
gather(const struct cli_opts *o, struct store *st, const char *cert,
    struct creds *c)
{
	if (store_local_password(st, &c->pw) < 0 ||
	    store_account_list(st, &c->accts, &c->n) < 0)
		return cli_error("%s", store_errmsg(st));
	c->from_daemon = running_ports(o, c);
	if (!c->from_daemon)
		config_ports(st, c);
	c->tls_host = tls_cert_names_dns(cert, c->host) == 1 ? c->host :
	    "localhost";
	return 0;
}

int
cli_cmd_credentials(const struct cli_opts *o, int argc, char **argv)
{
	struct creds c;
	struct store *st;
	const char *for_client = NULL, *v;
	char *cert = NULL;
	int want_cert = 0, renew = 0, i, rc = CLI_FAIL;

	memset(&c, 0, sizeof(c));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--cert") == 0)
			want_cert = 1;
		else if (strcmp(argv[i], "--renew-cert") == 0)
			renew = 1;
		else if (cli_opt_value(argc, argv, &i, "--for", &v))
			for_client = v;
		else if (cli_opt_value(argc, argv, &i, "--account", &v))
			c.only = v;
		else
			return cli_usage("credentials", "unexpected '%s'",
			    argv[i]);
	}
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (load_cert(st, renew, &cert, &c) < 0)
		goto out;
	if (renew && !o->quiet)
		fprintf(stderr, "mailvault: a new certificate, SHA-256 "
		    "fingerprint %s: mail clients must trust this one now, "
		    "and a running daemon serves it after a restart "
		    "('mailvault daemon stop', then start)\n", c.fp);
	rc = CLI_OK;
	if (want_cert)
		fputs(cert, stdout);
	else if (gather(o, st, cert, &c) != 0)
		rc = CLI_FAIL;
	else if (for_client != NULL)
		rc = print_for(&c, for_client);
	else if (o->json)
		print_json(&c);
	else
		print_text(&c);
out:
	free(cert);
	creds_free(&c);
	store_close(&st);
	return rc;
}
