/*
 * pop3_cmd: the POP3 command-line parser (RFC 1939, 2449, 2595, 5034),
 * pure: one line in, a command out, no I/O and no state, so the server's
 * session and the fuzzer use the same code.
 *
 * A line is a keyword and arguments separated by spaces. Keywords are
 * matched case-insensitively; each known command's arguments are checked
 * here (how many, message numbers made of digits, an APOP digest of 32
 * hex digits), so the session sees only well-formed commands and answers
 * everything else with the sentence in *why_r. USER and PASS take the
 * rest of the line as their one argument, so names and passwords may
 * hold spaces (RFC 1939 section 7 allows it for PASS).
 *
 * Whether a command is allowed in the current state is the session's
 * business, not the parser's.
 */
#ifndef MAILVAULT_LIB_POP3_CMD_H
#define MAILVAULT_LIB_POP3_CMD_H

#include <stddef.h>
#include <stdint.h>

/*
 * The longest command line we accept, line end included. RFC 2449 says
 * 255 octets, but allows more for AUTH (RFC 5034 section 4), whose
 * initial response is base64 of a name and a password.
 */
#define POP3_CMD_LINE_MAX	1024
#define POP3_CMD_ARG_MAX	255	/* octets per argument (RFC 2449) */
#define POP3_CMD_ARGS_MAX	2
#define POP3_CMD_KEYWORD_MAX	4	/* RFC 1939: 3 or 4 characters */
#define POP3_CMD_NUM_MAX	0xffffffffu	/* largest number accepted */

enum pop3_cmd_id {
	POP3_CMD_UNKNOWN = 0,
	POP3_CMD_APOP,
	POP3_CMD_AUTH,
	POP3_CMD_CAPA,
	POP3_CMD_DELE,
	POP3_CMD_LIST,
	POP3_CMD_NOOP,
	POP3_CMD_PASS,
	POP3_CMD_QUIT,
	POP3_CMD_RETR,
	POP3_CMD_RSET,
	POP3_CMD_STAT,
	POP3_CMD_STLS,
	POP3_CMD_TOP,
	POP3_CMD_UIDL,
	POP3_CMD_USER,
	POP3_CMD_COUNT
};

/* Results of pop3_cmd_parse(). */
#define POP3_CMD_OK		0
#define POP3_CMD_EUNKNOWN	(-1)	/* not a POP3 command we know */
#define POP3_CMD_ESYNTAX	(-2)	/* a known command, bad arguments */

struct pop3_cmd {
	enum pop3_cmd_id id;
	/* The keyword uppercased (cut at 4 characters, non-printing bytes
	 * shown as '?'), for replies and logs. */
	char		 keyword[POP3_CMD_KEYWORD_MAX + 1];
	size_t		 nargs;
	/* Arguments, NUL-terminated inside the caller's line, which the
	 * parser changes; valid as long as the line. */
	char		*arg[POP3_CMD_ARGS_MAX];
	size_t		 arglen[POP3_CMD_ARGS_MAX];
	/* Arguments that are numbers (message numbers, TOP's line count),
	 * parsed; 0 where an argument is not a number or absent. */
	uint32_t	 num[POP3_CMD_ARGS_MAX];
};

/*
 * Parse one command line of len bytes (a final LF or CRLF is dropped).
 * line must have room for len + 1 bytes: it is modified in place (NULs
 * end the keyword's arguments) and *cmd points into it. Returns
 * POP3_CMD_OK; POP3_CMD_EUNKNOWN (cmd->keyword says what was sent); or
 * POP3_CMD_ESYNTAX with cmd->id set. On an error *why_r is a static
 * sentence for the -ERR reply, e.g. "RETR needs a message number".
 */
int	pop3_cmd_parse(char *line, size_t len, struct pop3_cmd *cmd,
	    const char **why_r);

/* The keyword of a command id ("RETR"); "?" for POP3_CMD_UNKNOWN. */
const char	*pop3_cmd_name(enum pop3_cmd_id id);

/* A SASL PLAIN message (RFC 4616), split. Pointers into the message. */
struct pop3_cmd_plain {
	const char	*authzid;	/* may be empty */
	size_t		 authzid_len;
	const char	*authcid;
	size_t		 authcid_len;
	const char	*passwd;
	size_t		 passwd_len;
};

/*
 * Split a decoded SASL PLAIN message "authzid NUL authcid NUL passwd".
 * 0, or -1 when it does not have exactly two NULs, authcid or passwd is
 * empty, or a part is longer than POP3_CMD_ARG_MAX.
 */
int	pop3_cmd_sasl_plain(const char *msg, size_t len,
	    struct pop3_cmd_plain *out);

#endif
