/*
 * commands: the IMAP command table and the dispatcher.
 *
 * The dispatcher, not the handlers, reads the tag, strips "UID", answers
 * BAD to unknown commands and to commands in the wrong state, masks
 * secrets in the debug log, reports the selected mailbox's changes before
 * the tagged reply (holding EXPUNGE back during FETCH, STORE and SEARCH,
 * RFC 3501 7.4.1), writes that reply, and skips the rest of a line that
 * failed so the connection stays usable.
 */
#include "server/imap/imapd_int.h"

#include <stdio.h>
#include <string.h>

#include "lib/util.h"

static const struct imapd_command commands[] = {
	/* name		handler			valid in	flags */
	{ "APPEND",	imapd_cmd_append,	IMAPD_S_AUTHED,	0 },
	{ "AUTHENTICATE", imapd_cmd_authenticate, IMAPD_S_NOAUTH,
	    IMAPD_CMD_SECRET },
	{ "CAPABILITY",	imapd_cmd_capability,	IMAPD_S_ANY,	0 },
	{ "CHECK",	imapd_cmd_check,	IMAPD_S_SELECTED, 0 },
	{ "CLOSE",	imapd_cmd_close,	IMAPD_S_SELECTED,
	    IMAPD_CMD_NOUPDATES },
	{ "COPY",	imapd_cmd_copy,		IMAPD_S_SELECTED, IMAPD_CMD_UID },
	{ "CREATE",	imapd_cmd_create,	IMAPD_S_AUTHED,	0 },
	{ "DELETE",	imapd_cmd_delete,	IMAPD_S_AUTHED,	0 },
	{ "ENABLE",	imapd_cmd_enable,	IMAPD_S_AUTHED,	0 },
	{ "EXAMINE",	imapd_cmd_examine,	IMAPD_S_AUTHED,
	    IMAPD_CMD_NOUPDATES },
	{ "EXPUNGE",	imapd_cmd_expunge,	IMAPD_S_SELECTED, IMAPD_CMD_UID },
	{ "FETCH",	imapd_cmd_fetch,	IMAPD_S_SELECTED,
	    IMAPD_CMD_UID | IMAPD_CMD_NOEXPUNGE },
	{ "ID",		imapd_cmd_id,		IMAPD_S_ANY,	0 },
	{ "IDLE",	imapd_cmd_idle,		IMAPD_S_AUTHED,	0 },
	{ "LIST",	imapd_cmd_list,		IMAPD_S_AUTHED,	0 },
	{ "LOGIN",	imapd_cmd_login,	IMAPD_S_NOAUTH,	IMAPD_CMD_SECRET },
	{ "LOGOUT",	imapd_cmd_logout,	IMAPD_S_ANY,	IMAPD_CMD_NOUPDATES },
	{ "LSUB",	imapd_cmd_lsub,		IMAPD_S_AUTHED,	0 },
	{ "MOVE",	imapd_cmd_move,		IMAPD_S_SELECTED, IMAPD_CMD_UID },
	{ "NAMESPACE",	imapd_cmd_namespace,	IMAPD_S_AUTHED,	0 },
	{ "NOOP",	imapd_cmd_noop,		IMAPD_S_ANY,	0 },
	{ "RENAME",	imapd_cmd_rename,	IMAPD_S_AUTHED,	0 },
	{ "SEARCH",	imapd_cmd_search,	IMAPD_S_SELECTED,
	    IMAPD_CMD_UID | IMAPD_CMD_NOEXPUNGE },
	{ "SELECT",	imapd_cmd_select,	IMAPD_S_AUTHED,
	    IMAPD_CMD_NOUPDATES },
	{ "STARTTLS",	imapd_cmd_starttls,	IMAPD_S_NOAUTH,	0 },
	{ "STATUS",	imapd_cmd_status,	IMAPD_S_AUTHED,	0 },
	{ "STORE",	imapd_cmd_store,	IMAPD_S_SELECTED,
	    IMAPD_CMD_UID | IMAPD_CMD_NOEXPUNGE },
	{ "SUBSCRIBE",	imapd_cmd_subscribe,	IMAPD_S_AUTHED,	0 },
	{ "UNSELECT",	imapd_cmd_unselect,	IMAPD_S_SELECTED,
	    IMAPD_CMD_NOUPDATES },
	{ "UNSUBSCRIBE", imapd_cmd_unsubscribe,	IMAPD_S_AUTHED,	0 },
};

static const struct imapd_command *
find_command(const char *name)
{
	size_t lo = 0, hi = ARRAY_SIZE(commands), mid;
	int cmp;

	/* The table is sorted by name. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		cmp = ascii_strcasecmp(name, commands[mid].name);
		if (cmp == 0)
			return &commands[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* A tag is astring characters except '+' (RFC 3501 9). */
static int
valid_tag(const char *t, size_t len)
{
	size_t i;

	if (len == 0 || len > IMAPD_TAG_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr("+%*\\", t[i]) != NULL)
			return 0;
	return 1;
}

/* Answer a line that failed before its tag was known. */
static void
untagged_bad(struct imapd_session *s, const char *text)
{
	imapd_printf(s, "* BAD %s\r\n", text);
	imap_lex_skip_line(s->lx);
}

static void
write_tagged(struct imapd_session *s, struct imapd_cmdctx *c, const char *kind)
{
	if (c->code[0] != '\0')
		imapd_printf(s, "%s %s [%s] %s\r\n", c->tag, kind, c->code,
		    c->text);
	else
		imapd_printf(s, "%s %s %s\r\n", c->tag, kind, c->text);
}

/* Answer a syntax error: the lexer's if it has one. */
static void
reply_bad(struct imapd_session *s, struct imapd_cmdctx *c)
{
	switch (imap_lex_errcode(s->lx)) {
	case IMAP_LEX_EOK:
		if (c->text[0] == '\0')
			snprintf(c->text, sizeof(c->text), "Syntax error.");
		c->code[0] = '\0';
		write_tagged(s, c, "BAD");
		break;
	case IMAP_LEX_ETOOBIG:
		imapd_printf(s, "%s NO [TOOBIG] %s\r\n", c->tag,
		    imap_lex_error(s->lx));
		break;
	default:
		imapd_printf(s, "%s BAD %s\r\n", c->tag,
		    imap_lex_error(s->lx));
		break;
	}
}

static int
finish(struct imapd_session *s, struct imapd_cmdctx *c, int rc)
{
	int allow_expunge;

	if (rc == IMAPD_CLOSE || s->dead)
		return -1;
	switch (rc) {
	case IMAPD_BAD:
		reply_bad(s, c);
		break;
	case IMAPD_OK:
	case IMAPD_NO:
		if (s->view != NULL && c->cmd != NULL &&
		    !(c->cmd->flags & IMAPD_CMD_NOUPDATES)) {
			allow_expunge = c->uid ||
			    !(c->cmd->flags & IMAPD_CMD_NOEXPUNGE);
			if (imapd_view_report(s, allow_expunge) < 0)
				return -1;
		}
		write_tagged(s, c, rc == IMAPD_OK ? "OK" : "NO");
		break;
	default:
		break;
	}
	imap_lex_skip_line(s->lx);
	if (s->dead || s->state == IMAPD_S_LOGOUT)
		return -1;
	return 0;
}

/* Read "[UID] name" after the tag; 0, or IMAPD_BAD with c->text. */
static int
read_command(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct imap_tok tok;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Error in IMAP command.");
	if (tok.kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "Missing command.");
	if (tok.kind != IMAP_TOK_ATOM || tok.sp != 1)
		return imapd_bad(c, "Error in IMAP command.");
	if (ascii_strcasecmp(tok.s, "UID") == 0) {
		c->uid = 1;
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Error in IMAP command.");
		if (tok.kind != IMAP_TOK_ATOM || tok.sp != 1)
			return imapd_bad(c, "Missing the command after UID.");
	}
	c->cmd = find_command(tok.s);
	if (c->cmd == NULL)
		return imapd_bad(c, "Unknown command %.40s.", tok.s);
	if (c->uid && !(c->cmd->flags & IMAPD_CMD_UID)) {
		c->cmd = NULL;
		return imapd_bad(c, "Unknown command UID %.40s.", tok.s);
	}
	if (!(c->cmd->states & s->state)) {
		const char *why = s->state == IMAPD_S_NOAUTH ?
		    "Log in first." : (c->cmd->states & IMAPD_S_SELECTED) &&
		    !(c->cmd->states & IMAPD_S_AUTH) ? "No mailbox selected." :
		    "Already logged in.";

		c->cmd = NULL;
		return imapd_bad(c, "%s", why);
	}
	return 0;
}

int
imapd_dispatch(struct imapd_session *s)
{
	struct imapd_cmdctx c;
	struct imap_tok tok;
	int rc;

	memset(&c, 0, sizeof(c));
	if (imapd_tok_astring(s, &tok) < 0) {
		if (s->dead)
			return -1;
		untagged_bad(s, imap_lex_error(s->lx));
		return 0;
	}
	if (tok.kind == IMAP_TOK_CRLF)
		return 0;	/* an empty line: nothing to answer */
	if (tok.kind != IMAP_TOK_ATOM || !valid_tag(tok.s, tok.len)) {
		untagged_bad(s, "Error in IMAP command received by server: "
		    "bad tag.");
		return 0;
	}
	memcpy(c.tag, tok.s, tok.len + 1);
	rc = read_command(s, &c);
	if (rc == 0) {
		if (s->cfg->debug)
			imapd_log(s, "%s %s%s%s", c.tag, c.uid ? "UID " : "",
			    c.cmd->name, (c.cmd->flags & IMAPD_CMD_SECRET) ?
			    " ********" : "");
		rc = c.cmd->fn(s, &c);
	}
	return finish(s, &c, rc);
}
