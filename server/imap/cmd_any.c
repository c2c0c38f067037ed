/*
 * cmd_any: the commands valid in every state (RFC 3501 6.1): CAPABILITY,
 * NOOP, LOGOUT, and ID (RFC 2971), whose client fields we read and
 * forget (they are logged, bounded, as a courtesy to whoever debugs a
 * client).
 */
#include "server/imap/imapd_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#define ID_MAX_FIELDS	30	/* RFC 2971: at most 30 pairs */

int
imapd_cmd_capability(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct buf caps;
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	buf_init(&caps, 4096);
	imapd_capabilities(s, &caps);
	imapd_printf(s, "* CAPABILITY %s\r\n", caps.data);
	buf_free(&caps);
	return imapd_ok(c, NULL, "Capability completed.");
}

int
imapd_cmd_noop(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	return imapd_ok(c, NULL, "NOOP completed.");
}

int
imapd_cmd_logout(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	imapd_bye(s, "Logging out");
	s->state = IMAPD_S_LOGOUT;
	return imapd_ok(c, NULL, "Logout completed.");
}

/* Read the ID parameter list: NIL or ( string nstring ... ). */
static int
read_id_list(struct imapd_session *s, struct imapd_cmdctx *c, struct buf *log)
{
	struct imap_tok tok;
	char *str;
	size_t n = 0;
	int rc;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad ID argument.");
	if (tok.sp == 0 || tok.kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "ID needs NIL or a list.");
	if (imap_tok_atom_is(&tok, "NIL"))
		return 0;
	if (tok.kind != IMAP_TOK_LPAREN)
		return imapd_bad(c, "ID needs NIL or a list.");
	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad ID argument.");
		if (tok.kind == IMAP_TOK_RPAREN)
			return 0;
		if (imap_tok_atom_is(&tok, "NIL")) {
			str = xstrdup("NIL");
		} else if ((rc = imapd_tok_string(s, c, &tok, 0, &str,
		    NULL)) != 0)
			return rc;
		if (++n > 2 * ID_MAX_FIELDS) {
			free(str);
			return imapd_bad(c, "Too many ID fields.");
		}
		buf_printf(log, "%s%.60s", n == 1 ? "" : n % 2 ? ", " : "=",
		    str);
		free(str);
	}
}

int
imapd_cmd_id(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct buf log;
	int rc;

	buf_init(&log, 2048);
	rc = read_id_list(s, c, &log);
	if (rc == 0)
		rc = imapd_arg_end(s, c);
	if (rc == 0 && log.len > 0)
		imapd_log(s, "client ID: %s", log.data);
	buf_free(&log);
	if (rc != 0)
		return rc;
	imapd_puts(s, "* ID (\"name\" \"mailvault\" \"vendor\" \"mailvault\")"
	    "\r\n");
	return imapd_ok(c, NULL, "ID completed.");
}
