/*
 * cmd_show: `mailvault show ACCOUNT/MAILBOX UID [--raw]`, one message.
 *
 * --raw writes the message's bytes exactly as stored (the CRLF wire
 * form), streamed from the store a chunk at a time, for a pipe or a
 * file. Without it the message is rendered for reading: the header
 * fields a person looks at (From, To, Cc, Date, Subject) decoded, then
 * the text, then a list of the attachments with their names, types and
 * sizes. The text is the first text/plain part that is not an
 * attachment, or else the first text/html part reduced to text
 * (lib/html.c); its transfer encoding is undone and its charset
 * converted to UTF-8 (lib/mime). Everything shown passes
 * cli_printable(): a message cannot send escape sequences to the
 * terminal. --json gives the same rendering as one JSON object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/charset.h"
#include "lib/html.h"
#include "lib/mime.h"
#include "lib/util.h"
#include "store/store.h"

#define TEXT_READ_MAX	(16u << 20)	/* encoded bytes of text shown */
#define TEXT_OUT_MAX	(64u << 20)	/* after decoding and conversion */

/* The header fields shown, in this order. */
static const char *const shown_fields[] = { "From", "To", "Cc", "Date",
	"Subject" };

/* ---- the parts --------------------------------------------------------------- */

static int
is_type(const struct mime_part *p, const char *type, const char *subtype)
{
	return ascii_strcasecmp(p->type, type) == 0 && (subtype == NULL ||
	    ascii_strcasecmp(p->subtype, subtype) == 0);
}

static int
is_attachment(const struct mime_part *p)
{
	return p->disposition != NULL &&
	    ascii_strcasecmp(p->disposition, "attachment") == 0;
}

/* The first part of type text/subtype that is not an attachment, outside
 * attached messages; NULL if none. */
static const struct mime_part *
find_text(const struct mime_part *p, const char *subtype)
{
	const struct mime_part *hit;
	size_t i;

	if (is_type(p, "message", "rfc822") || is_attachment(p))
		return NULL;
	if (is_type(p, "text", subtype))
		return p;
	for (i = 0; i < p->nchildren; i++)
		if ((hit = find_text(&p->children[i], subtype)) != NULL)
			return hit;
	return NULL;
}

/* The name an attachment is shown with: its file name, its type's name
 * parameter, or NULL. Borrowed from p. */
static const char *
part_name(const struct mime_part *p)
{
	const struct mime_param *m;

	m = mime_param_get(p->disp_params, p->ndisp_params, "filename");
	if (m == NULL)
		m = mime_param_get(p->params, p->nparams, "name");
	if (m == NULL)
		return NULL;
	return m->decoded != NULL ? m->decoded : m->value;
}

/* The size of a part once decoded: exact for identity encodings, for
 * base64 from its length less its line ends (within two bytes). */
static uint64_t
decoded_size(const struct mime_part *p)
{
	uint64_t n = p->body_len, ends = 2 * p->body_lines;

	if (p->encoding != NULL && ascii_strcasecmp(p->encoding, "base64") ==
	    0)
		return (n > ends ? n - ends : 0) * 3 / 4;
	return n;
}

/* The attachments: every leaf that is not the text shown and not an
 * alternative to it; an attached message counts as one. */
static void
collect_attachments(const struct mime_part *p, const struct mime_part *text,
    const struct mime_part ***v, size_t *n)
{
	size_t i;

	if (p == text)
		return;
	if (p->nchildren == 0 || is_type(p, "message", "rfc822")) {
		if (p->body_len == 0 && part_name(p) == NULL)
			return;		/* an empty preamble part */
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = p;
		return;
	}
	/* The other forms of the text shown are not attachments. */
	if (is_type(p, "multipart", "alternative") && text != NULL &&
	    text->body_off >= p->body_off &&
	    text->body_off < p->body_off + p->body_len)
		return;
	for (i = 0; i < p->nchildren; i++)
		collect_attachments(&p->children[i], text, v, n);
}

/* ---- the text ---------------------------------------------------------------- */

/* Read part p's body (at most TEXT_READ_MAX bytes) into raw; 1 if it was
 * cut, 0, or -1 after saying why. */
static int
read_body(struct store *st, int64_t content, const struct mime_part *p,
    struct buf *raw)
{
	struct store_reader *rd;
	char chunk[65536];
	uint64_t left = p->body_len;
	ssize_t n = 0;
	int cut = left > TEXT_READ_MAX;

	if (cut)
		left = TEXT_READ_MAX;
	if (store_reader_open(st, content, &rd) != 0)
		return cli_error("%s", store_errmsg(st)), -1;
	if (store_reader_seek(rd, p->body_off) != 0)
		left = 0, n = -1;
	while (left > 0 && (n = store_reader_read(rd, chunk, left <
	    sizeof(chunk) ? (size_t)left : sizeof(chunk))) > 0) {
		buf_add(raw, chunk, (size_t)n);
		left -= (uint64_t)n;
	}
	store_reader_close(&rd);
	if (n < 0)
		return cli_error("%s", store_errmsg(st)), -1;
	return cut;
}

/* Undo the transfer encoding of raw into out. */
static void
transfer_decode(const struct mime_part *p, const struct buf *raw,
    struct buf *out)
{
	const char *enc = p->encoding != NULL ? p->encoding : "7bit";
	struct base64_dec b64;
	struct mime_qp_dec qp;

	if (raw->len == 0)
		return;
	if (ascii_strcasecmp(enc, "base64") == 0) {
		base64_dec_init(&b64);
		base64_dec_feed(&b64, raw->data, raw->len, out);
	} else if (ascii_strcasecmp(enc, "quoted-printable") == 0) {
		mime_qp_dec_init(&qp);
		mime_qp_dec_feed(&qp, raw->data, raw->len, out);
		mime_qp_dec_finish(&qp, out);
	} else
		buf_add(out, raw->data, raw->len);
}

/* CRLF to LF, in place. */
static void
lf_only(struct buf *b)
{
	size_t i, o = 0;

	for (i = 0; i < b->len; i++)
		if (!(b->data[i] == '\r' && i + 1 < b->len &&
		    b->data[i + 1] == '\n'))
			b->data[o++] = b->data[i];
	b->len = o;
	if (b->data != NULL)
		b->data[o] = '\0';
}

/*
 * The text of part p for reading, UTF-8 and printable; the caller frees
 * it. *cut_r says whether it was too long to show whole. NULL after
 * saying why.
 */
static char *
part_text(struct store *st, int64_t content, const struct mime_part *p,
    int *cut_r)
{
	const struct mime_param *cs = mime_param_get(p->params, p->nparams,
	    "charset");
	struct buf raw, dec, utf8, txt;
	char *s;
	int rc;

	buf_init(&raw, TEXT_READ_MAX);
	buf_init(&dec, TEXT_OUT_MAX);
	buf_init(&utf8, TEXT_OUT_MAX);
	if ((rc = read_body(st, content, p, &raw)) < 0) {
		buf_free(&raw);
		return NULL;
	}
	*cut_r = rc;
	transfer_decode(p, &raw, &dec);
	buf_free(&raw);
	(void)charset_to_utf8(cs != NULL ? cs->value : NULL, dec.data != NULL ?
	    dec.data : "", dec.len, &utf8);
	buf_free(&dec);
	lf_only(&utf8);
	if (is_type(p, "text", "html")) {
		buf_init(&txt, TEXT_OUT_MAX);
		html_to_text(utf8.data != NULL ? utf8.data : "", utf8.len,
		    &txt);
		buf_free(&utf8);
		utf8 = txt;
	}
	s = buf_steal(&utf8, NULL);
	cli_printable(s, 1);
	return s;
}

/* ---- printing ---------------------------------------------------------------- */

struct rendering {
	char		*fields[ARRAY_SIZE(shown_fields)];
	char		*text;		/* NULL: no text part */
	int		 html, cut;
	const struct mime_part **att;
	size_t		 natt;
};

/* How an attachment is named in the list: its name; for an attached
 * message without one, its subject. The caller frees it. */
static char *
attachment_label(const struct mime_part *p)
{
	char *subj, *s;

	if (part_name(p) != NULL)
		return xstrdup(part_name(p));
	if (!is_type(p, "message", "rfc822") || p->nchildren == 0)
		return xstrdup("(no name)");
	subj = cli_header_text(&p->children[0], "Subject");
	s = xasprintf("(a message: %s)", subj[0] != '\0' ? subj :
	    "no subject");
	free(subj);
	return s;
}

static void
print_words(const struct rendering *r)
{
	char size[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shown_fields); i++)
		if (r->fields[i][0] != '\0')
			printf("%-8s %s\n", shown_fields[i], r->fields[i]);
	putchar('\n');
	if (r->text == NULL)
		printf("(This message has no text part.)\n");
	else {
		fputs(r->text, stdout);
		if (r->text[0] != '\0' && r->text[strlen(r->text) - 1] != '\n')
			putchar('\n');
	}
	if (r->cut)
		printf("[The text goes on: 'mailvault show --raw' gives all "
		    "of the message.]\n");
	if (r->natt > 0)
		printf("\nAttachments:\n");
	for (i = 0; i < r->natt; i++) {
		const struct mime_part *p = r->att[i];
		char *name = attachment_label(p);

		cli_printable(name, 0);
		cli_human_bytes(decoded_size(p), size, sizeof(size));
		printf("  %zu. %s  %s/%s  %s\n", i + 1, name, p->type,
		    p->subtype, size);
		free(name);
	}
}

static void
print_json(const struct rendering *r, uint32_t uid)
{
	size_t i;

	printf("{\"uid\":%u", uid);
	for (i = 0; i < ARRAY_SIZE(shown_fields); i++) {
		printf(",\"%c%s\":", shown_fields[i][0] + 32,
		    shown_fields[i] + 1);
		cli_json_string(r->fields[i]);
	}
	fputs(",\"text\":", stdout);
	cli_json_string(r->text != NULL ? r->text : "");
	printf(",\"html\":%s,\"cut\":%s,\"attachments\":[", r->html ? "true" :
	    "false", r->cut ? "true" : "false");
	for (i = 0; i < r->natt; i++) {
		const char *name = part_name(r->att[i]);

		fputs(i > 0 ? ",{\"name\":" : "{\"name\":", stdout);
		cli_json_string(name != NULL ? name : "");
		printf(",\"type\":\"%s/%s\",\"size\":%llu}", r->att[i]->type,
		    r->att[i]->subtype,
		    (unsigned long long)decoded_size(r->att[i]));
	}
	fputs("]}\n", stdout);
}

/* ---- the command ------------------------------------------------------------- */

static int
show_rendered(const struct cli_opts *o, struct store *st,
    const struct store_msg *msg)
{
	struct rendering r;
	struct mime_part *root = NULL;
	const struct mime_part *text;
	size_t i;
	int rc = CLI_OK;

	if (store_content_mime(st, msg->content, &root) != 0)
		return cli_error("%s", store_errmsg(st));
	memset(&r, 0, sizeof(r));
	for (i = 0; i < ARRAY_SIZE(shown_fields); i++) {
		r.fields[i] = cli_header_text(root, shown_fields[i]);
		cli_printable(r.fields[i], 0);
	}
	if ((text = find_text(root, "plain")) == NULL &&
	    (text = find_text(root, "html")) != NULL)
		r.html = 1;
	if (text != NULL && (r.text = part_text(st, msg->content, text,
	    &r.cut)) == NULL)
		rc = CLI_FAIL;
	collect_attachments(root, text, &r.att, &r.natt);
	if (rc == CLI_OK && o->json)
		print_json(&r, msg->uid);
	else if (rc == CLI_OK)
		print_words(&r);
	for (i = 0; i < ARRAY_SIZE(shown_fields); i++)
		free(r.fields[i]);
	free(r.text);
	free(r.att);
	mime_part_free(&root);
	return rc;
}

static int
show_raw(struct store *st, const struct store_msg *msg)
{
	struct store_reader *rd;
	char buf[65536];
	ssize_t n;

	if (store_reader_open(st, msg->content, &rd) < 0)
		return cli_error("%s", store_errmsg(st));
	while ((n = store_reader_read(rd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
	store_reader_close(&rd);
	if (n < 0)
		return cli_error("%s", store_errmsg(st));
	if (fflush(stdout) != 0)
		return cli_error("cannot write the message out");
	return CLI_OK;
}

int
cli_cmd_show(const struct cli_opts *o, int argc, char **argv)
{
	struct store_mailbox mb;
	struct store_msg msg;
	struct store *st;
	const char *pos[2];
	int64_t acct;
	uint64_t uid;
	int i, npos = 0, raw = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			raw = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage("show", "unknown option '%s'",
			    argv[i]);
		else if (npos < 2)
			pos[npos++] = argv[i];
		else
			return cli_usage("show", "unexpected '%s'", argv[i]);
	}
	if (npos != 2)
		return cli_usage("show", "give ACCOUNT/MAILBOX and a UID");
	if (parse_u64(pos[1], UINT32_MAX, &uid) < 0 || uid == 0)
		return cli_usage("show", "'%s' is not a UID", pos[1]);
	if (cli_open_store(o, &st) < 0)
		return CLI_FAIL;
	if (cli_find_mailbox(st, pos[0], &acct, &mb) < 0) {
		store_close(&st);
		return CLI_FAIL;
	}
	if (store_msg_get(st, mb.id, (uint32_t)uid, &msg) < 0)
		rc = cli_error("%s has no message with UID %llu: 'mailvault "
		    "ls %s' lists them", pos[0], (unsigned long long)uid,
		    pos[0]);
	else
		rc = raw ? show_raw(st, &msg) : show_rendered(o, st, &msg);
	store_mailbox_clear(&mb);
	store_close(&st);
	return rc;
}
