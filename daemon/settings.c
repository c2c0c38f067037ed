/*
 * settings: the daemon's settings, those that are not per account (the
 * ports, the listen address, the poll interval, the log level, what a
 * POP3 delete does). They live in the store, sealed like every other
 * setting, under the key "config.NAME", and every value is checked
 * against its key's rule before it is saved, so the daemon never starts
 * on a value it cannot use.
 *
 * The ports and the listen address are also copied, in plain text, to
 * the ports file "<store>.ports" (nothing secret in it), so a daemon
 * that starts locked, without the key to read the settings, listens
 * where they say. The file is written whole to a temporary name and
 * renamed, so a reader never sees half of it.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon_int.h"
#include "lib/net.h"
#include "lib/util.h"
#include "store/store.h"

enum rule_kind { RULE_PORT, RULE_LISTEN, RULE_SECONDS, RULE_CHOICE };

/* A setting and the rule its values follow. */
struct rule {
	struct daemon_setting s;
	enum rule_kind	 kind;
	const char	*choices;	/* RULE_CHOICE: "a|b|c" */
};

/* The first four are the listeners, in the ports file's order. */
static const struct rule rules[] = {
	{ { "imap-port", "1143", 0,
	    "IMAP port with STARTTLS; 0 turns it off" }, RULE_PORT, NULL },
	{ { "imaps-port", "1993", 0,
	    "IMAP port with implicit TLS; 0 turns it off" }, RULE_PORT, NULL },
	{ { "pop3-port", "1110", 0,
	    "POP3 port with STLS; 0 turns it off" }, RULE_PORT, NULL },
	{ { "pop3s-port", "1995", 0,
	    "POP3 port with implicit TLS; 0 turns it off" }, RULE_PORT, NULL },
	{ { "listen", "127.0.0.1", 0,
	    "the loopback address to listen on" }, RULE_LISTEN, NULL },
	{ { "poll-interval", "300", 1,
	    "seconds between syncs when an upstream has no IDLE" },
	    RULE_SECONDS, NULL },
	{ { "log-level", "info", 1,
	    "how much the daemon logs" }, RULE_CHOICE,
	    "error|warn|info|debug" },
	{ { "pop3-delete", "hide", 1,
	    "what a POP3 DELE does: hide from POP3 only, or expunge" },
	    RULE_CHOICE, "hide|expunge" },
};

const struct daemon_setting *
daemon_setting_at(size_t i)
{
	return i < ARRAY_SIZE(rules) ? &rules[i].s : NULL;
}

const struct daemon_setting *
daemon_setting_find(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rules); i++)
		if (strcmp(rules[i].s.name, name) == 0)
			return &rules[i].s;
	return NULL;
}

/* The rule of s, which came from daemon_setting_at() or _find(). */
static const struct rule *
rule_of(const struct daemon_setting *s)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rules); i++)
		if (&rules[i].s == s)
			return &rules[i];
	return NULL;
}

static int
choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices, *bar;

	for (;;) {
		bar = strchr(p, '|');
		if ((size_t)((bar ? bar : p + strlen(p)) - p) == n &&
		    strncmp(p, v, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

int
daemon_setting_check(const struct daemon_setting *s, const char *v,
    char *err, size_t errlen)
{
	const struct rule *r = rule_of(s);
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t n;

	assert(r != NULL);
	switch (r->kind) {
	case RULE_PORT:
		if (parse_u64(v, 65535, &n) == 0)
			return 0;
		return seterr(err, errlen, -1, "%s must be a port number from "
		    "0 to 65535 (0 turns the listener off), not '%s'",
		    s->name, v);
	case RULE_SECONDS:
		if (parse_u64(v, 86400, &n) == 0 && n >= 10)
			return 0;
		return seterr(err, errlen, -1, "%s must be a number of seconds "
		    "from 10 to 86400, not '%s'", s->name, v);
	case RULE_LISTEN:
		return net_parse_listen_addr(v, 0, &ss, &len, err, errlen) ==
		    0 ? 0 : -1;
	case RULE_CHOICE:
		if (choice_ok(r->choices, v))
			return 0;
		return seterr(err, errlen, -1, "%s must be one of %s, not '%s'",
		    s->name, r->choices, v);
	}
	return -1;
}

int
daemon_setting_get(struct store *st, const char *name, char **val_r)
{
	const struct daemon_setting *s = daemon_setting_find(name);
	char *key;
	int rc;

	if (s == NULL)
		return -1;
	key = xasprintf("config.%s", name);
	rc = store_config_get(st, key, val_r, NULL);
	free(key);
	if (rc == STORE_ENOENT) {
		*val_r = xstrdup(s->def);
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

int
daemon_setting_set(struct store *st, const struct daemon_setting *s,
    const char *value, char *err, size_t errlen)
{
	char *key;
	int rc;

	if (daemon_setting_check(s, value, err, errlen) < 0)
		return -1;
	key = xasprintf("config.%s", s->name);
	rc = store_config_set(st, key, value, strlen(value));
	free(key);
	if (rc < 0)
		return seterr(err, errlen, -1, "%s", store_errmsg(st));
	return 0;
}

static char *
ports_path(const char *store_path)
{
	return xasprintf("%s.ports", store_path);
}

int
daemon_ports_save(struct store *st)
{
	char *path = ports_path(store_path(st)), *tmp, *v;
	FILE *f;
	size_t i;
	int rc = 0;

	tmp = xasprintf("%s.tmp", path);
	f = fopen(tmp, "we");
	if (f == NULL) {
		free(tmp);
		free(path);
		return -1;
	}
	fprintf(f, "# Written by mailvault from 'mailvault config': the "
	    "listeners of a daemon\n# that starts locked. Edit with "
	    "'mailvault config set'.\n");
	for (i = 0; i < 4 && rc == 0; i++) {
		if (daemon_setting_get(st, rules[i].s.name, &v) < 0) {
			rc = -1;
			break;
		}
		fprintf(f, "%s %s\n", rules[i].s.name, v);
		free(v);
	}
	if (rc == 0 && daemon_setting_get(st, "listen", &v) == 0) {
		fprintf(f, "listen %s\n", v);
		free(v);
	}
	if (fclose(f) != 0 || rc < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		rc = -1;
	}
	free(tmp);
	free(path);
	return rc;
}

int
daemon_ports_read(const char *store, int ports[4], char **listen_r)
{
	char *path = ports_path(store), line[512], *sp;
	uint64_t n;
	size_t i;
	FILE *f;

	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return -1;
	for (i = 0; i < 4; i++)
		ports[i] = (int)strtol(rules[i].s.def, NULL, 10);
	*listen_r = NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || (sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		for (i = 0; i < 4; i++)
			if (strcmp(line, rules[i].s.name) == 0 &&
			    parse_u64(sp, 65535, &n) == 0)
				ports[i] = (int)n;
		if (strcmp(line, "listen") == 0 && *listen_r == NULL &&
		    sp[0] != '\0')
			*listen_r = xstrdup(sp);
	}
	fclose(f);
	if (*listen_r == NULL)
		*listen_r = xstrdup("127.0.0.1");
	return 0;
}
