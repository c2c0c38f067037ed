/*
 * libFuzzer target for the POP3 command parser (lib/pop3_cmd) and the
 * SASL PLAIN splitter, and MD5 as APOP uses it.
 *
 * The input is cut into lines at LF the way the session does (lines
 * longer than POP3_CMD_LINE_MAX are skipped) and each line is parsed in
 * a buffer of exactly len + 1 bytes, so ASan catches any read or write
 * past it. Every result must keep the header's promises: a known id for
 * OK and ESYNTAX, a sentence for errors, arguments inside the line and
 * NUL-terminated, numbers that match their digits, a printable keyword.
 * The whole input is also split as a SASL PLAIN message, whose parts
 * must lie inside it, and hashed whole and byte by byte, which must agree.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"
#include "lib/pop3_cmd.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const char *src, size_t len)
{
	struct pop3_cmd cmd;
	const char *why;
	char *line = xmalloc(len + 1);
	uint64_t v;
	size_t i, k;
	int rc;

	memcpy(line, src, len);
	rc = pop3_cmd_parse(line, len, &cmd, &why);
	assert(rc == POP3_CMD_OK || rc == POP3_CMD_EUNKNOWN ||
	    rc == POP3_CMD_ESYNTAX);
	assert(strlen(cmd.keyword) <= POP3_CMD_KEYWORD_MAX);
	for (k = 0; cmd.keyword[k] != '\0'; k++)
		assert(cmd.keyword[k] > 0x20 && cmd.keyword[k] < 0x7f);
	if (rc != POP3_CMD_OK)
		assert(why != NULL && why[0] != '\0');
	if (rc == POP3_CMD_EUNKNOWN) {
		assert(cmd.id == POP3_CMD_UNKNOWN);
		free(line);
		return;
	}
	assert(cmd.id > POP3_CMD_UNKNOWN && cmd.id < POP3_CMD_COUNT);
	assert(strcmp(pop3_cmd_name(cmd.id), "?") != 0);
	assert(cmd.nargs <= POP3_CMD_ARGS_MAX);
	for (i = 0; i < cmd.nargs; i++) {
		assert(cmd.arg[i] >= line && cmd.arg[i] + cmd.arglen[i] <=
		    line + len);
		assert(cmd.arg[i][cmd.arglen[i]] == '\0');
		if (rc != POP3_CMD_OK)
			continue;
		if (cmd.id == POP3_CMD_USER || cmd.id == POP3_CMD_PASS)
			assert(cmd.arglen[i] > 0 &&
			    cmd.arglen[i] <= POP3_CMD_ARG_MAX);
		if (cmd.id == POP3_CMD_LIST || cmd.id == POP3_CMD_RETR ||
		    cmd.id == POP3_CMD_DELE || cmd.id == POP3_CMD_TOP ||
		    cmd.id == POP3_CMD_UIDL) {
			assert(parse_u64(cmd.arg[i], 0xffffffffu, &v) == 0);
			assert(v == cmd.num[i]);
		}
	}
	if (rc == POP3_CMD_OK && cmd.id == POP3_CMD_APOP)
		assert(cmd.nargs == 2 && cmd.arglen[1] == 32);
	free(line);
}

static void
check_sasl(const uint8_t *data, size_t size)
{
	struct pop3_cmd_plain pl;
	const char *p = (const char *)data, *end = p + size;

	if (pop3_cmd_sasl_plain(p, size, &pl) != 0)
		return;
	assert(pl.authcid_len > 0 && pl.passwd_len > 0);
	assert(pl.authzid == p && pl.passwd + pl.passwd_len == end);
	assert(pl.authcid == pl.authzid + pl.authzid_len + 1);
	assert(pl.passwd == pl.authcid + pl.authcid_len + 1);
	assert(memchr(pl.authcid, '\0', pl.authcid_len) == NULL);
	assert(memchr(pl.passwd, '\0', pl.passwd_len) == NULL);
}

static void
check_md5(const uint8_t *data, size_t size)
{
	unsigned char a[DIGEST_MD5_LEN], b[DIGEST_MD5_LEN];
	struct digest_md5 *m;
	size_t i, step;

	assert(digest_md5(data, size, a) == 0);
	m = digest_md5_new();
	step = size > 0 ? 1 + data[0] % 97 : 1;
	for (i = 0; i < size; i += step)
		digest_md5_update(m, data + i, size - i < step ? size - i :
		    step);
	assert(digest_md5_final(&m, b) == 0);
	assert(memcmp(a, b, sizeof(a)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *lf;
	size_t len;

	while (p < end) {
		lf = memchr(p, '\n', (size_t)(end - p));
		len = lf != NULL ? (size_t)(lf - p) + 1 : (size_t)(end - p);
		if (len <= POP3_CMD_LINE_MAX)
			check_line(p, len);
		p += len;
	}
	check_sasl(data, size);
	check_md5(data, size);
	return 0;
}
