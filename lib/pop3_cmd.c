/*
 * pop3_cmd: splitting and checking POP3 command lines; see pop3_cmd.h.
 *
 * One table row per command says how its arguments look; the parser
 * finds the row by keyword, splits the rest of the line at spaces (runs
 * of spaces and a trailing space are tolerated, as real clients send
 * them) and checks the arguments against the row. Nothing here
 * allocates.
 */
#include "lib/pop3_cmd.h"

#include <string.h>

#include "lib/util.h"

enum arg_kind {
	A_NONE,		/* no arguments */
	A_REST,		/* one argument: the rest of the line, verbatim */
	A_NUMS,		/* min..max decimal numbers */
	A_WORDS,	/* min..max words */
	A_APOP,		/* a name and a 32-hex-digit digest */
};

struct syntax {
	const char	*name;
	enum pop3_cmd_id id;
	enum arg_kind	 kind;
	unsigned char	 min, max;
	const char	*usage;		/* the -ERR text for bad arguments */
};

static const struct syntax syntaxes[] = {
	/* name		id		kind	min max	usage */
	{ "APOP", POP3_CMD_APOP, A_APOP, 2, 2,
	  "APOP needs a name and a digest of 32 hex digits" },
	{ "AUTH", POP3_CMD_AUTH, A_WORDS, 0, 2,
	  "AUTH takes a mechanism and an optional initial response" },
	{ "CAPA", POP3_CMD_CAPA, A_NONE, 0, 0, "CAPA takes no arguments" },
	{ "DELE", POP3_CMD_DELE, A_NUMS, 1, 1,
	  "DELE needs one message number" },
	{ "LIST", POP3_CMD_LIST, A_NUMS, 0, 1,
	  "LIST takes at most one message number" },
	{ "NOOP", POP3_CMD_NOOP, A_NONE, 0, 0, "NOOP takes no arguments" },
	{ "PASS", POP3_CMD_PASS, A_REST, 1, 1, "PASS needs a password" },
	{ "QUIT", POP3_CMD_QUIT, A_NONE, 0, 0, "QUIT takes no arguments" },
	{ "RETR", POP3_CMD_RETR, A_NUMS, 1, 1,
	  "RETR needs one message number" },
	{ "RSET", POP3_CMD_RSET, A_NONE, 0, 0, "RSET takes no arguments" },
	{ "STAT", POP3_CMD_STAT, A_NONE, 0, 0, "STAT takes no arguments" },
	{ "STLS", POP3_CMD_STLS, A_NONE, 0, 0, "STLS takes no arguments" },
	{ "TOP", POP3_CMD_TOP, A_NUMS, 2, 2,
	  "TOP needs a message number and a number of lines" },
	{ "UIDL", POP3_CMD_UIDL, A_NUMS, 0, 1,
	  "UIDL takes at most one message number" },
	{ "USER", POP3_CMD_USER, A_REST, 1, 1, "USER needs a name" },
};

const char *
pop3_cmd_name(enum pop3_cmd_id id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(syntaxes); i++)
		if (syntaxes[i].id == id)
			return syntaxes[i].name;
	return "?";
}

/* The keyword, uppercased and printable, into cmd->keyword. */
static void
copy_keyword(struct pop3_cmd *cmd, const char *p, size_t n)
{
	size_t i;
	char c;

	if (n > POP3_CMD_KEYWORD_MAX)
		n = POP3_CMD_KEYWORD_MAX;
	for (i = 0; i < n; i++) {
		c = p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c < 0x21 || c > 0x7e)
			c = '?';
		cmd->keyword[i] = c;
	}
	cmd->keyword[n] = '\0';
}

static const struct syntax *
find_syntax(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(syntaxes); i++)
		if (strlen(syntaxes[i].name) == n &&
		    ascii_strncasecmp(syntaxes[i].name, p, n) == 0)
			return &syntaxes[i];
	return NULL;
}

/* A number of at most 10 digits and POP3_CMD_NUM_MAX; 0 or -1. */
static int
parse_num(const char *s, size_t n, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > POP3_CMD_NUM_MAX)
		return -1;
	*v_r = (uint32_t)v;
	return 0;
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

/* Split rest (NUL-terminated, len n) into words; -1 if too many. */
static int
split_words(char *rest, size_t n, struct pop3_cmd *cmd)
{
	char *p = rest, *end = rest + n, *sp;

	while (p < end) {
		if (*p == ' ') {
			p++;
			continue;
		}
		if (cmd->nargs == POP3_CMD_ARGS_MAX)
			return -1;
		sp = memchr(p, ' ', (size_t)(end - p));
		if (sp == NULL)
			sp = end;
		*sp = '\0';
		cmd->arg[cmd->nargs] = p;
		cmd->arglen[cmd->nargs] = (size_t)(sp - p);
		cmd->nargs++;
		p = sp + 1;
	}
	return 0;
}

static int
check_args(const struct syntax *sx, struct pop3_cmd *cmd, const char **why_r)
{
	size_t i;

	*why_r = sx->usage;
	if (cmd->nargs < sx->min || cmd->nargs > sx->max)
		return POP3_CMD_ESYNTAX;
	for (i = 0; i < cmd->nargs; i++) {
		if (cmd->arglen[i] > POP3_CMD_ARG_MAX &&
		    sx->id != POP3_CMD_AUTH) {
			*why_r = "an argument is longer than 255 octets";
			return POP3_CMD_ESYNTAX;
		}
		if (sx->kind == A_NUMS &&
		    parse_num(cmd->arg[i], cmd->arglen[i], &cmd->num[i]) < 0) {
			*why_r = "message numbers and line counts are "
			    "decimal numbers";
			return POP3_CMD_ESYNTAX;
		}
	}
	if (sx->kind == A_APOP && (cmd->arglen[1] != 32 ||
	    !is_hex(cmd->arg[1], 32)))
		return POP3_CMD_ESYNTAX;
	return POP3_CMD_OK;
}

int
pop3_cmd_parse(char *line, size_t len, struct pop3_cmd *cmd,
    const char **why_r)
{
	const struct syntax *sx;
	size_t kwlen;
	char *rest;

	memset(cmd, 0, sizeof(*cmd));
	*why_r = NULL;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	for (kwlen = 0; kwlen < len && line[kwlen] != ' '; kwlen++)
		;
	copy_keyword(cmd, line, kwlen);
	if (kwlen == 0) {
		*why_r = "empty command line";
		return POP3_CMD_EUNKNOWN;
	}
	if ((sx = find_syntax(line, kwlen)) == NULL) {
		*why_r = "unknown command";
		return POP3_CMD_EUNKNOWN;
	}
	cmd->id = sx->id;
	if (memchr(line, '\0', len) != NULL) {
		*why_r = "a command line may not contain a NUL byte";
		return POP3_CMD_ESYNTAX;
	}
	rest = line + kwlen + (kwlen < len);
	if (sx->kind == A_REST) {
		/* Everything after the one space, spaces included. */
		if (kwlen < len) {
			cmd->arg[0] = rest;
			cmd->arglen[0] = (size_t)(line + len - rest);
			cmd->nargs = 1;
		}
		*why_r = sx->usage;
		if (cmd->nargs == 0 || cmd->arglen[0] == 0)
			return POP3_CMD_ESYNTAX;
		if (cmd->arglen[0] > POP3_CMD_ARG_MAX) {
			*why_r = "an argument is longer than 255 octets";
			return POP3_CMD_ESYNTAX;
		}
		return POP3_CMD_OK;
	}
	if (split_words(rest, (size_t)(line + len - rest), cmd) < 0) {
		*why_r = sx->usage;
		return POP3_CMD_ESYNTAX;
	}
	return check_args(sx, cmd, why_r);
}

int
pop3_cmd_sasl_plain(const char *msg, size_t len, struct pop3_cmd_plain *out)
{
	const char *nul1, *nul2, *end = msg + len;

	if ((nul1 = memchr(msg, '\0', len)) == NULL)
		return -1;
	if ((nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1))) == NULL)
		return -1;
	if (memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)) != NULL)
		return -1;
	out->authzid = msg;
	out->authzid_len = (size_t)(nul1 - msg);
	out->authcid = nul1 + 1;
	out->authcid_len = (size_t)(nul2 - nul1 - 1);
	out->passwd = nul2 + 1;
	out->passwd_len = (size_t)(end - nul2 - 1);
	if (out->authcid_len == 0 || out->passwd_len == 0 ||
	    out->authzid_len > POP3_CMD_ARG_MAX ||
	    out->authcid_len > POP3_CMD_ARG_MAX ||
	    out->passwd_len > POP3_CMD_ARG_MAX)
		return -1;
	return 0;
}
