/*
 * cmd_msg: `mailvault mv|cp|rm|flag`, messages managed without a mail
 * client.
 *
 *	mailvault mv   ACCOUNT/MAILBOX UIDS|--search QUERY ACCOUNT/MAILBOX
 *	mailvault cp   ACCOUNT/MAILBOX UIDS|--search QUERY ACCOUNT/MAILBOX
 *	mailvault rm   ACCOUNT/MAILBOX UIDS|--search QUERY
 *	mailvault flag ACCOUNT/MAILBOX UIDS|--search QUERY +FLAG|-FLAG...
 *
 * The messages are named as `ls` shows them: by UID, in a set written as
 * IMAP writes one ("42", "42:45", "1,3,7:*", '*' being the highest UID),
 * or by an IMAP SEARCH query evaluated by the server's own evaluator
 * (server_search_uids()), so "FROM bob UNSEEN" means here what it means
 * to a mail client. --dry-run says which messages it would touch.
 *
 * Every change goes through the store functions IMAP's UID MOVE, UID
 * COPY, UID STORE and UID EXPUNGE use, in one transaction per command:
 * a client idling on the mailbox is told at once (the store's change
 * feed, or its data_version poll from another process), and the sync
 * engine pushes the change upstream on its next run, since it finds
 * local changes by comparing the store with what it last agreed. rm is
 * what a client does to delete: \Deleted, then an expunge of just those
 * messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/buf.h"
#include "lib/imap_seqset.h"
#include "lib/util.h"
#include "server/server.h"
#include "store/store.h"

#define FLAGS_MAX	STORE_MAX_KEYWORDS	/* +FLAG/-FLAG words */

enum msg_op { OP_MV, OP_CP, OP_RM, OP_FLAG };

struct msg_cmd {
	const struct cli_opts *o;
	enum msg_op	 op;
	const char	*name;		/* "mv", ... for messages */
	const char	*src, *dst;	/* ACCOUNT/MAILBOX */
	const char	*uids;		/* a UID set, or NULL */
	const char	*query;		/* --search, or NULL */
	int		 dry_run;
	/* flag: the changes, as given */
	uint32_t	 add, del;
	const char	*kw_add[FLAGS_MAX], *kw_del[FLAGS_MAX];
	size_t		 nkw_add, nkw_del;
};

/* ---- the flags of `flag` --------------------------------------------------- */

static const struct {
	const char	*name;
	uint32_t	 bit;
} sysflags[] = {
	{ "Seen", STORE_F_SEEN },
	{ "Answered", STORE_F_ANSWERED },
	{ "Flagged", STORE_F_FLAGGED },
	{ "Deleted", STORE_F_DELETED },
	{ "Draft", STORE_F_DRAFT },
};

/* 1 if s is an IMAP atom a keyword may be (RFC 3501 flag-keyword). */
static int
keyword_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("(){%*\"\\]", *s) != NULL)
			return 0;
	return 1;
}

/*
 * One "+NAME" or "-NAME": a system flag by its name (any case, with or
 * without the backslash), else a keyword. 0, or a usage error.
 */
static int
take_flag(struct msg_cmd *m, const char *arg)
{
	const char *name = arg + 1;
	int add = arg[0] == '+';
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sysflags); i++) {
		if (ascii_strcasecmp(name + (name[0] == '\\'),
		    sysflags[i].name) != 0)
			continue;
		*(add ? &m->add : &m->del) |= sysflags[i].bit;
		if (m->add & m->del & sysflags[i].bit)
			return cli_usage("flag", "both +%s and -%s",
			    sysflags[i].name, sysflags[i].name);
		return 0;
	}
	if (name[0] == '\\')
		return cli_usage("flag", "'%s' is not a system flag: give "
		    "Seen, Answered, Flagged, Deleted or Draft, or a keyword",
		    name);
	if (!keyword_ok(name))
		return cli_usage("flag", "'%s' cannot be a keyword (an IMAP "
		    "atom: no spaces, brackets, quotes or '%%*\\')", name);
	if ((add ? m->nkw_add : m->nkw_del) >= FLAGS_MAX)
		return cli_usage("flag", "too many keywords at once");
	if (add)
		m->kw_add[m->nkw_add++] = name;
	else
		m->kw_del[m->nkw_del++] = name;
	return 0;
}

/* ---- arguments ------------------------------------------------------------- */

static int
parse_args(struct msg_cmd *m, int argc, char **argv)
{
	const char *pos[3], *v;
	int i, npos = 0, opts = 1, want = m->op == OP_MV || m->op == OP_CP ?
	    3 : 2;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts && strcmp(a, "--") == 0)
			opts = 0;
		else if (opts && cli_opt_value(argc, argv, &i, "--search", &v)) {
			if (v[0] == '\0')
				return cli_usage(m->name, "--search needs an "
				    "IMAP SEARCH query, such as 'FROM bob'");
			m->query = v;
		} else if (opts && strcmp(a, "--dry-run") == 0)
			m->dry_run = 1;
		else if (m->op == OP_FLAG && npos >= 1 && (a[0] == '+' ||
		    (a[0] == '-' && a[1] != '-')) && a[1] != '\0') {
			if (take_flag(m, a) != 0)
				return -1;
		} else if (opts && a[0] == '-' && a[1] != '\0')
			return cli_usage(m->name, "unknown option '%s'", a);
		else if (npos < 3)
			pos[npos++] = a;
		else
			return cli_usage(m->name, "unexpected '%s'", a);
	}
	/* The UID set is the second word unless --search names them. */
	if (npos != want - (m->query != NULL))
		return cli_usage(m->name, "give ACCOUNT/MAILBOX, then UIDs or "
		    "--search QUERY%s", want == 3 ? ", then the destination "
		    "ACCOUNT/MAILBOX" : "");
	m->src = pos[0];
	m->uids = m->query == NULL ? pos[1] : NULL;
	m->dst = want == 3 ? pos[npos - 1] : NULL;
	if (m->op == OP_FLAG && m->add == 0 && m->del == 0 &&
	    m->nkw_add == 0 && m->nkw_del == 0)
		return cli_usage("flag", "say what to change: +Seen, -Flagged, "
		    "+$Label1, ...");
	if (m->dst != NULL && strchr(m->dst, '/') == NULL)
		return cli_usage(m->name, "give the destination as "
		    "ACCOUNT/MAILBOX, not '%s'", m->dst);
	return 0;
}

/* ---- which messages -------------------------------------------------------- */

/* The UIDs of mailbox mbox named by m (a set or a search), ascending,
 * in *uids_r (the caller frees). 0, or -1 after saying why. */
static int
select_uids(struct msg_cmd *m, struct store *st, int64_t acct, int64_t mbox,
    uint32_t **uids_r, size_t *n_r)
{
	struct imap_seqset *set = NULL;
	struct store_msg *msgs = NULL;
	uint32_t *v = NULL;
	size_t n = 0, k = 0, i;
	char err[256];

	if (m->query != NULL) {
		if (server_search_uids(st, acct, mbox, m->query, uids_r, n_r,
		    err, sizeof(err)) != 0)
			return cli_error("%s", err), -1;
		return 0;
	}
	if (store_msg_list(st, mbox, 0, &msgs, &n) != 0)
		return cli_error("%s", store_errmsg(st)), -1;
	if (imap_seqset_parse(m->uids, n > 0 ? msgs[n - 1].uid : 0, &set,
	    err, sizeof(err)) != 0) {
		free(msgs);
		return cli_usage(m->name, "'%s' is not a UID set such as 42, "
		    "42:45 or 1,3,7:*", m->uids), -1;
	}
	if (n > 0)
		v = xreallocarray(NULL, n, sizeof(*v));
	for (i = 0; i < n; i++)
		if (imap_seqset_contains(set, msgs[i].uid))
			v[k++] = msgs[i].uid;
	imap_seqset_free(&set);
	free(msgs);
	*uids_r = v;
	*n_r = k;
	return 0;
}

/* The compact form of uids ("12:15,20"), leaving out zeros (a message
 * another client expunged meanwhile has no new UID); the caller frees
 * it. */
static char *
uid_text(const uint32_t *uids, size_t n)
{
	uint32_t *v = xreallocarray(NULL, n + 1, sizeof(*v));
	struct buf b;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (uids[i] != 0)
			v[k++] = uids[i];
	buf_init(&b, 64u << 20);
	if (k > 0 && imap_seqset_format(v, k, &b) != 0)
		buf_adds(&b, "(too many to list)");
	free(v);
	return buf_steal(&b, NULL);
}

/* ---- the changes ----------------------------------------------------------- */

static int
do_flags(struct msg_cmd *m, struct store *st, int64_t mbox,
    const uint32_t *uids, size_t n, size_t *changed_r)
{
	struct store_flag_change add = { STORE_FLAGS_ADD, m->add, m->kw_add,
	    m->nkw_add, 0 };
	struct store_flag_change del = { STORE_FLAGS_REMOVE, m->del, m->kw_del,
	    m->nkw_del, 0 };
	uint32_t *c1 = NULL, *c2 = NULL;
	size_t n1 = 0, n2 = 0, i, j, both;
	int rc;

	rc = store_txn_begin(st);
	if (rc == 0 && (m->add != 0 || m->nkw_add > 0))
		rc = store_msg_set_flags(st, mbox, uids, n, &add, &c1, &n1,
		    NULL, NULL);
	if (rc == 0 && (m->del != 0 || m->nkw_del > 0))
		rc = store_msg_set_flags(st, mbox, uids, n, &del, &c2, &n2,
		    NULL, NULL);
	if (rc == 0)
		rc = store_txn_commit(st);
	else
		store_txn_rollback(st);
	/* Messages changed by either step, each counted once. */
	for (i = j = both = 0; i < n1 && j < n2;) {
		if (c1[i] == c2[j])
			both++;
		if (c1[i] <= c2[j])
			i++;
		else
			j++;
	}
	*changed_r = n1 + n2 - both;
	free(c1);
	free(c2);
	return rc;
}

static int
do_rm(struct store *st, int64_t mbox, const uint32_t *uids, size_t n)
{
	struct store_flag_change del = { STORE_FLAGS_ADD, STORE_F_DELETED,
	    NULL, 0, 0 };
	int rc = store_txn_begin(st);

	if (rc == 0)
		rc = store_msg_set_flags(st, mbox, uids, n, &del, NULL, NULL,
		    NULL, NULL);
	if (rc == 0)
		rc = store_msg_expunge(st, mbox, uids, n);
	if (rc == 0)
		return store_txn_commit(st);
	store_txn_rollback(st);
	return rc;
}

/* ---- what was done --------------------------------------------------------- */

static const char *const verbs[] = { "Moved", "Copied", "Removed",
	"Changed the flags of" };
static const char *const dry_verbs[] = { "move", "copy", "remove",
	"change the flags of" };
static const char *const json_keys[] = { "moved", "copied", "removed",
	"flagged" };

static void
report(const struct msg_cmd *m, const uint32_t *uids, size_t n,
    const uint32_t *newuids, size_t changed)
{
	char *set = uid_text(uids, n), *nset = NULL;

	if (newuids != NULL)
		nset = uid_text(newuids, n);
	if (m->o->json) {
		printf("{\"%s\":%zu,\"dry_run\":%s,\"uids\":", json_keys[m->op],
		    m->op == OP_FLAG && !m->dry_run ? changed : n,
		    m->dry_run ? "true" : "false");
		cli_json_string(set);
		if (nset != NULL) {
			fputs(",\"newuids\":", stdout);
			cli_json_string(nset);
		}
		if (m->op == OP_FLAG)
			printf(",\"matched\":%zu", n);
		fputs("}\n", stdout);
	} else if (m->dry_run)
		printf("Would %s %zu message%s of %s: UID %s\n",
		    dry_verbs[m->op], n, n == 1 ? "" : "s", m->src, set);
	else if (!m->o->quiet && m->op == OP_FLAG)
		printf("%s %zu of %zu message%s in %s (UID %s)\n",
		    verbs[m->op], changed, n, n == 1 ? "" : "s", m->src, set);
	else if (!m->o->quiet)
		printf("%s %zu message%s %s %s%s%s (UID %s%s%s)\n",
		    verbs[m->op], n, n == 1 ? "" : "s",
		    m->op == OP_RM ? "from" : "of", m->src,
		    m->dst != NULL ? " to " : "", m->dst != NULL ? m->dst : "",
		    set, nset != NULL ? ", now " : "", nset != NULL ? nset : "");
	free(set);
	free(nset);
}

/* ---- the commands ---------------------------------------------------------- */

/* Carry out m on the messages uids[0..n) of src (and dst). */
static int
apply(struct msg_cmd *m, struct store *st, const struct store_mailbox *src,
    const struct store_mailbox *dst, const uint32_t *uids, size_t n)
{
	uint32_t *newuids = NULL;
	size_t changed = 0;
	int rc = 0;

	if (m->dry_run) {
		report(m, uids, n, NULL, 0);
		return 0;
	}
	if (m->op == OP_MV || m->op == OP_CP) {
		newuids = xreallocarray(NULL, n, sizeof(*newuids));
		rc = (m->op == OP_MV ? store_msg_move : store_msg_copy)(st,
		    src->id, uids, n, dst->id, newuids);
	} else if (m->op == OP_RM)
		rc = do_rm(st, src->id, uids, n);
	else
		rc = do_flags(m, st, src->id, uids, n, &changed);
	if (rc != 0)
		cli_error("%s: %s", m->src, store_errmsg(st));
	else
		report(m, uids, n, newuids, changed);
	free(newuids);
	return rc;
}

static int
run(struct msg_cmd *m, int argc, char **argv)
{
	struct store_mailbox src = { 0 }, dst = { 0 };
	struct store *st;
	uint32_t *uids = NULL;
	size_t n = 0;
	int64_t acct, dacct;
	int rc = CLI_FAIL;

	if (parse_args(m, argc, argv) != 0)
		return CLI_USAGE;
	if (cli_open_store(m->o, &st) < 0)
		return CLI_FAIL;
	if (cli_find_mailbox(st, m->src, &acct, &src) < 0 ||
	    (m->dst != NULL && cli_find_mailbox(st, m->dst, &dacct,
	    &dst) < 0))
		goto out;
	if (m->dst != NULL && dst.id == src.id) {
		cli_error("%s is where the messages are already", m->dst);
		goto out;
	}
	if (select_uids(m, st, acct, src.id, &uids, &n) != 0)
		goto out;
	if (n == 0 && m->query == NULL) {
		cli_error("%s has no message with UID %s: 'mailvault ls %s' "
		    "lists them", m->src, m->uids, m->src);
		goto out;
	}
	if (n == 0) {
		if (m->o->json)
			printf("{\"%s\":0,\"dry_run\":%s,\"uids\":\"\"}\n",
			    json_keys[m->op], m->dry_run ? "true" : "false");
		else if (!m->o->quiet)
			printf("No message in %s matches the search.\n",
			    m->src);
		rc = CLI_OK;
		goto out;
	}
	rc = apply(m, st, &src, &dst, uids, n) == 0 ? CLI_OK : CLI_FAIL;
out:
	free(uids);
	store_mailbox_clear(&src);
	store_mailbox_clear(&dst);
	store_close(&st);
	return rc;
}

int
cli_cmd_mv(const struct cli_opts *o, int argc, char **argv)
{
	struct msg_cmd m = { .o = o, .op = OP_MV, .name = "mv" };

	return run(&m, argc, argv);
}

int
cli_cmd_cp(const struct cli_opts *o, int argc, char **argv)
{
	struct msg_cmd m = { .o = o, .op = OP_CP, .name = "cp" };

	return run(&m, argc, argv);
}

int
cli_cmd_rm(const struct cli_opts *o, int argc, char **argv)
{
	struct msg_cmd m = { .o = o, .op = OP_RM, .name = "rm" };

	return run(&m, argc, argv);
}

int
cli_cmd_flag(const struct cli_opts *o, int argc, char **argv)
{
	struct msg_cmd m = { .o = o, .op = OP_FLAG, .name = "flag" };

	return run(&m, argc, argv);
}
