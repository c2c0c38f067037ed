/*
 * imap_lex: the IMAP lexical layer, shared by the server (commands) and the
 * sync client (responses).
 *
 * No I/O: the caller feeds the bytes it read, then pulls tokens. The state
 * is an explicit enum and every byte is looked at once, so the lexer
 * resumes at any byte: fed all at once or one byte at a time, it returns the
 * same tokens. A call that returns 0 has used up all the input; feed more
 * and make the same call again.
 *
 * Tokens. Spaces are not tokens: each token says how many SP bytes came
 * right before it (tok->sp), so a parser can insist on exactly one where the
 * grammar wants one and tell "BODY[" from "BODY [". The kinds:
 *
 *   ATOM	  1*ATOM-CHAR, '%' and '*' included (so "1:*", "INBOX.%" and
 *		  the untagged "*" are atoms), optionally after one leading
 *		  backslash ("\Seen", "\*"). NIL and numbers are atoms: the
 *		  parser knows where it wants them (parse_u64 on tok->s).
 *		  "+" at the start of a continuation request is an atom too.
 *   QUOTED	  a quoted string, unescaped; 8-bit bytes allowed (UTF-8).
 *   LITERAL_START {n}, {n+} (RFC 7888) or ~{n} (RFC 3516) and its CRLF
 *		  were read; the caller must now choose what to do with the n
 *		  bytes (see "Literals" below).
 *   LITERAL_DATA a piece of a literal being streamed.
 *   LITERAL	  a whole small literal, gathered as one string on request.
 *   LPAREN RPAREN '(' ')', nesting checked against a limit.
 *   LBRACKET RBRACKET '[' ']'.
 *   TEXT	  the rest of a line, read on request (imap_lex_text).
 *   CRLF	  the end of a line (a bare LF is taken as one too).
 *
 * Brackets. imap_lex_next() ends an atom at '[' or ']' and returns those as
 * tokens, which is what both FETCH and response codes want:
 *
 *   BODY.PEEK[HEADER.FIELDS (From To)]<0.100>
 *	ATOM "BODY.PEEK", LBRACKET (sp 0), ATOM "HEADER.FIELDS", LPAREN
 *	(sp 1), ATOM "From", ATOM "To" (sp 1), RPAREN, RBRACKET, ATOM
 *	"<0.100>" (sp 0)
 *   * OK [UIDVALIDITY 3857529045] UIDs valid
 *	ATOM "*", ATOM "OK", LBRACKET, ATOM "UIDVALIDITY", ATOM
 *	"3857529045", RBRACKET, then imap_lex_text() gives "UIDs valid"
 *
 * A FETCH parser takes an atom, and if the next token is an LBRACKET with
 * sp 0 reads a section up to the RBRACKET, then looks for an atom with
 * sp 0 starting with '<' (the partial). Where the grammar wants an astring
 * or a list-mailbox (user names, passwords, mailbox names such as
 * "[Gmail]/Sent"), call imap_lex_astring() instead: there '[' and ']' are
 * ordinary atom characters.
 *
 * Literals. After LITERAL_START the caller must call exactly one of:
 *   imap_lex_literal_stream()  the bytes come as LITERAL_DATA tokens, each
 *				a borrowed slice, so a 64 MB APPEND never sits
 *				in memory; tok->lit_left says how many bytes
 *				are still to come, and the piece with
 *				lit_left == 0 is the last (a zero-length
 *				literal gives one empty piece);
 *   imap_lex_literal_collect() the next call returns the whole literal as
 *				one LITERAL token, for small strings (a LOGIN
 *				password, a SEARCH string);
 *   imap_lex_literal_skip()    the bytes are read and thrown away, and
 *				the line goes on after them;
 *   imap_lex_skip_line()	refuse it: for a synchronizing literal the
 *				client sends nothing more on that line, for a
 *				LITERAL+ the bytes are skipped, then the rest
 *				of the line.
 * A server sends "+ OK" for a synchronizing literal only after choosing
 * to stream, collect or skip it.
 *
 * Errors and recovery. -1 means a grammar or limit violation; the lexer then
 * returns -1 until imap_lex_skip_line(), which discards the rest of the
 * current line and so keeps the connection usable. Skipping understands
 * literal headers: the data of a LITERAL+ is skipped by its size and never
 * read as lines, and a synchronizing literal header ends the line (its
 * client waits for a "+" that does not come). A literal larger than the
 * limit is IMAP_LEX_ETOOBIG (answer NO [TOOBIG]); the other errors are
 * syntax (answer BAD).
 *
 * Bounds: every line (without literal data) is at most max_line bytes, so
 * is every token; a collected literal too; paren nesting is at most
 * max_depth; fed but unread input at most IMAP_LEX_FEED_MAX bytes.
 */
#ifndef MAILVAULT_LIB_IMAP_LEX_H
#define MAILVAULT_LIB_IMAP_LEX_H

#include <stddef.h>
#include <stdint.h>

/* Line limits for a server: tighter before login. */
#define IMAP_LEX_LINE_NOAUTH	(8 * 1024)
#define IMAP_LEX_LINE_AUTH	(64 * 1024)
/* Paren nesting: commands need a few levels, BODYSTRUCTURE more. */
#define IMAP_LEX_DEPTH_MAX	64
/* Most input that may be fed and not yet read as tokens. */
#define IMAP_LEX_FEED_MAX	(1024 * 1024)

struct imap_lex;

struct imap_lex_limits {
	size_t		max_line;	/* bytes per line, literal data not
					 * counted; >= 64 */
	uint64_t	max_literal;	/* largest literal accepted */
	unsigned	max_depth;	/* paren nesting */
};

enum imap_tok_kind {
	IMAP_TOK_ATOM,
	IMAP_TOK_QUOTED,
	IMAP_TOK_LITERAL_START,
	IMAP_TOK_LITERAL_DATA,
	IMAP_TOK_LITERAL,
	IMAP_TOK_LPAREN,
	IMAP_TOK_RPAREN,
	IMAP_TOK_LBRACKET,
	IMAP_TOK_RBRACKET,
	IMAP_TOK_TEXT,
	IMAP_TOK_CRLF,
};

struct imap_tok {
	enum imap_tok_kind kind;
	/*
	 * The token's bytes, borrowed from the lexer and valid until the
	 * next call on it. NUL-terminated except for LITERAL_DATA (and a
	 * literal8 may hold NULs, so use len).
	 */
	const char	*s;
	size_t		 len;
	size_t		 sp;		/* SP bytes right before the token */
	uint64_t	 lit_size;	/* LITERAL_START: announced size */
	uint64_t	 lit_left;	/* LITERAL_DATA: bytes after this one */
	int		 lit_sync;	/* LITERAL_START: 1 {n}, 0 {n+} */
	int		 lit8;		/* LITERAL_START: 1 for ~{n} */
};

enum imap_lex_err {
	IMAP_LEX_EOK = 0,
	IMAP_LEX_ESYNTAX,	/* not IMAP syntax: BAD */
	IMAP_LEX_ELINE,		/* line longer than max_line: BAD */
	IMAP_LEX_EDEPTH,	/* parens nested too deep: BAD */
	IMAP_LEX_ETOOBIG,	/* literal over max_literal: NO [TOOBIG] */
};

/* A new lexer at the start of a line; free it with imap_lex_free(). */
struct imap_lex *imap_lex_new(const struct imap_lex_limits *lim);
void	imap_lex_free(struct imap_lex **lx);

/*
 * Change the limits (a server raises them after login). Call it between
 * lines, when the last token was a CRLF.
 */
void	imap_lex_set_limits(struct imap_lex *lx,
	    const struct imap_lex_limits *lim);

/*
 * Append n bytes of input (copied). 0, or -1 if more than
 * IMAP_LEX_FEED_MAX bytes would then wait unread (nothing is added): feed
 * when a call has returned 0 and all input is used.
 */
int	imap_lex_feed(struct imap_lex *lx, const void *p, size_t n);

/* Bytes fed and not yet read (a server checks it is 0 at STARTTLS). */
size_t	imap_lex_pending(const struct imap_lex *lx);

/*
 * Return the next token. 1: *tok is filled. 0: feed more bytes first.
 * -1: grammar or limit violation; imap_lex_error() says which. The caller
 * answers BAD (or NO [TOOBIG]) and skips the line. tok->s is borrowed from
 * the lexer and valid until the next call; a large literal comes in parts,
 * so APPEND never holds a whole message in memory. Must not be called
 * between LITERAL_START and the choice of what to do with the literal.
 */
int	imap_lex_next(struct imap_lex *lx, struct imap_tok *tok);

/*
 * Like imap_lex_next(), where the grammar wants an astring or a
 * list-mailbox: an atom there may contain '[' and ']'.
 */
int	imap_lex_astring(struct imap_lex *lx, struct imap_tok *tok);

/*
 * Read the rest of the line as one TEXT token (without its CRLF, which is
 * the next token): the human text after a status response, a "+ "
 * continuation, an AUTHENTICATE response line. One SP before the text is
 * skipped (tok->sp says whether there was one); the text may be empty and
 * holds any bytes but NUL, CR and LF. imap_lex_code_text() stops before a
 * ']' too, for the free text of an unknown response code. Returns as
 * imap_lex_next().
 */
int	imap_lex_text(struct imap_lex *lx, struct imap_tok *tok);
int	imap_lex_code_text(struct imap_lex *lx, struct imap_tok *tok);

/* After LITERAL_START: hand the literal out in LITERAL_DATA pieces. */
void	imap_lex_literal_stream(struct imap_lex *lx);
/*
 * After LITERAL_START: have the next call return the literal as one
 * LITERAL token. 0, or -1 if it is longer than max or than max_line; then
 * nothing changed and the caller still has to choose. A literal that is
 * not a literal8 must not contain NUL (an error with the next call).
 */
int	imap_lex_literal_collect(struct imap_lex *lx, size_t max);
/* After LITERAL_START: discard the literal; the line goes on after it. */
void	imap_lex_literal_skip(struct imap_lex *lx);

/*
 * Discard the rest of the current line (see the top of this file) and
 * clear an error. A no-op right after a CRLF token, so it is always safe
 * after a command failed. Skipping happens in the following calls, which
 * then return the first token of the next line.
 */
void	imap_lex_skip_line(struct imap_lex *lx);

/* The last error: a sentence for a BAD reply, and its class. */
const char *imap_lex_error(const struct imap_lex *lx);
enum imap_lex_err imap_lex_errcode(const struct imap_lex *lx);

/* 1 if tok is an atom equal to word, ignoring ASCII case ("NIL"). */
int	imap_tok_atom_is(const struct imap_tok *tok, const char *word);
/* 1 if tok is a string: QUOTED or LITERAL. */
int	imap_tok_is_string(const struct imap_tok *tok);
/* A constant name for a kind ("ATOM", "CRLF", ...), for messages. */
const char *imap_tok_kind_name(enum imap_tok_kind kind);

#endif
