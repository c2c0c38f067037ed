/*
 * Unit tests for lib/msg_summary (a content's summary record) and the
 * pieces it is made of, lib/search_norm and lib/imap_envelope: the record
 * holds what FETCH ENVELOPE and SEARCH FROM/TO/CC/BCC/SUBJECT/SENT* would
 * compute from the message, byte for byte, and a damaged or foreign
 * record is refused rather than misread.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/imap_envelope.h"
#include "lib/mime.h"
#include "lib/msg_summary.h"
#include "lib/rfc822.h"
#include "lib/search_norm.h"
#include "lib/util.h"

static const char MSG[] =
    "Date: Tue, 5 Mar 2019 10:00:00 +0100\r\n"
    "From: \"Zoë Müller\" <zoe@example.org>\r\n"
    "To: bob@example.org (Bob), =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
    "To: second@example.org\r\n"
    "Cc:\r\n"
    "Subject: =?utf-8?q?Caf=C3=A9?=   and\r\n"
    "\tTEA\r\n"
    "\r\n"
    "body\r\n";

static struct mime_part *
parse(const char *msg)
{
	return mime_parse(msg, strlen(msg));
}

/* What SEARCH computes for every occurrence of a field, NUL after each. */
static void
expected_text(const struct mime_part *root, const char *name,
    enum search_norm_mode mode, struct buf *out)
{
	struct rfc822_field f;
	struct buf t1, t2;
	size_t pos = 0;

	buf_init(&t1, 1 << 20);
	buf_init(&t2, 1 << 20);
	while (rfc822_header_next(root->header, (size_t)root->hdr_len, &pos,
	    &f) == 1) {
		if (f.name_len != strlen(name) ||
		    ascii_strncasecmp(f.name, name, f.name_len) != 0)
			continue;
		ck_assert_int_eq(search_norm_field(mode, f.value, f.value_len,
		    out, &t1, &t2), 0);
		ck_assert_int_eq(buf_addc(out, '\0'), 0);
	}
	buf_free(&t1);
	buf_free(&t2);
}

/* The record of root agrees with the envelope writer and SEARCH. */
static void
check_record(const struct mime_part *root, const char *what)
{
	static const struct {
		const char *name;
		enum search_norm_mode mode;
		enum msg_summary_field field;
	} texts[] = {
		{ "From", SEARCH_NORM_ADDRESS, MSG_SUMMARY_FROM },
		{ "To", SEARCH_NORM_ADDRESS, MSG_SUMMARY_TO },
		{ "Cc", SEARCH_NORM_ADDRESS, MSG_SUMMARY_CC },
		{ "Bcc", SEARCH_NORM_ADDRESS, MSG_SUMMARY_BCC },
		{ "Subject", SEARCH_NORM_LWSP, MSG_SUMMARY_SUBJECT },
	};
	struct msg_summary sum;
	struct buf rec, want;
	const char *date = root->env[MIME_ENV_DATE];
	size_t i;

	buf_init(&rec, MSG_SUMMARY_MAX);
	buf_init(&want, 1 << 20);
	ck_assert_msg(msg_summary_build(root, &rec) == 0, "%s: no record",
	    what);
	ck_assert_int_eq(msg_summary_parse(rec.data, rec.len, &sum), 0);
	ck_assert_int_eq(imap_envelope_of(&want, root), 0);
	ck_assert_msg(sum.len[MSG_SUMMARY_ENVELOPE] == want.len &&
	    memcmp(sum.v[MSG_SUMMARY_ENVELOPE], want.data, want.len) == 0,
	    "%s: envelope differs", what);
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		buf_reset(&want);
		expected_text(root, texts[i].name, texts[i].mode, &want);
		ck_assert_msg(sum.len[texts[i].field] == want.len &&
		    memcmp(sum.v[texts[i].field], want.len ? want.data : "",
		    want.len) == 0, "%s: %s text differs", what,
		    texts[i].name);
		ck_assert_int_eq(msg_summary_text_field(texts[i].name,
		    texts[i].mode), (int)texts[i].field);
	}
	ck_assert_str_eq(sum.v[MSG_SUMMARY_DATE], date != NULL ? date : "");
	buf_free(&rec);
	buf_free(&want);
}

START_TEST(test_msg_summary_holds_envelope_texts_and_date)
{
	struct mime_part *root = parse(MSG);
	struct msg_summary sum;
	struct buf rec;

	check_record(root, "MSG");
	buf_init(&rec, MSG_SUMMARY_MAX);
	ck_assert_int_eq(msg_summary_build(root, &rec), 0);
	ck_assert_int_eq(msg_summary_parse(rec.data, rec.len, &sum), 0);
	/* two To fields: two texts, each ended by a NUL; decoded,
	 * decomposed, folded */
	ck_assert_ptr_nonnull(memmem(sum.v[MSG_SUMMARY_TO],
	    sum.len[MSG_SUMMARY_TO], "ju\xcc\x88rgen", 7));
	ck_assert_int_eq(sum.v[MSG_SUMMARY_TO][sum.len[MSG_SUMMARY_TO] - 1],
	    '\0');
	ck_assert_ptr_nonnull(memchr(sum.v[MSG_SUMMARY_TO], '\0',
	    sum.len[MSG_SUMMARY_TO] - 1));
	/* an empty Cc is there (a lone NUL); Bcc is absent (nothing) */
	ck_assert_uint_eq(sum.len[MSG_SUMMARY_CC], 1);
	ck_assert_uint_eq(sum.len[MSG_SUMMARY_BCC], 0);
	/* decoded, squeezed, folded */
	ck_assert_ptr_nonnull(memmem(sum.v[MSG_SUMMARY_SUBJECT],
	    sum.len[MSG_SUMMARY_SUBJECT], "cafe\xcc\x81 and tea", 13));
	ck_assert_str_eq(sum.v[MSG_SUMMARY_DATE],
	    "Tue, 5 Mar 2019 10:00:00 +0100");
	ck_assert_uint_eq(sum.len[MSG_SUMMARY_DATE], 30);
	buf_free(&rec);
	mime_part_free(&root);
}
END_TEST

/* Every corpus message: the record says what the writers say. */
START_TEST(test_msg_summary_corpus_agrees_with_writers)
{
	DIR *dir = opendir("tests/corpus");
	struct dirent *de;
	struct mime_part *root;
	char path[512], *data;
	size_t n, count = 0;
	FILE *fp;

	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)) != NULL) {
		if (strstr(de->d_name, ".eml") == NULL)
			continue;
		snprintf(path, sizeof(path), "tests/corpus/%s", de->d_name);
		fp = fopen(path, "rb");
		ck_assert_ptr_nonnull(fp);
		data = xmalloc(4 << 20);
		n = fread(data, 1, 4 << 20, fp);
		fclose(fp);
		root = mime_parse(data, n);
		if (root->header != NULL) {
			check_record(root, de->d_name);
			count++;
		}
		mime_part_free(&root);
		free(data);
	}
	closedir(dir);
	ck_assert_uint_ge(count, 50);
}
END_TEST

START_TEST(test_msg_summary_needs_a_kept_header_and_fits_the_cap)
{
	struct mime_part *root = parse(MSG);
	struct buf rec, msg;
	char *keep;
	int i;

	buf_init(&rec, MSG_SUMMARY_MAX);
	keep = root->header;
	root->header = NULL;
	ck_assert_int_eq(msg_summary_build(root, &rec), -1);
	ck_assert_uint_eq(rec.len, 0);
	root->header = keep;
	mime_part_free(&root);
	/* a Subject of 20,000 bytes does not fit a record */
	buf_init(&msg, 1 << 20);
	ck_assert_int_eq(buf_adds(&msg, "From: a@b\r\nSubject: "), 0);
	for (i = 0; i < 2000; i++)
		ck_assert_int_eq(buf_adds(&msg, "abcdefghi "), 0);
	ck_assert_int_eq(buf_adds(&msg, "\r\n\r\nx\r\n"), 0);
	root = mime_parse(msg.data, msg.len);
	ck_assert_ptr_nonnull(root->header);
	ck_assert_int_eq(buf_adds(&rec, "prefix"), 0);
	ck_assert_int_eq(msg_summary_build(root, &rec), -1);
	ck_assert_str_eq(rec.data, "prefix");	/* left as it was */
	mime_part_free(&root);
	buf_free(&msg);
	buf_free(&rec);
}
END_TEST

START_TEST(test_msg_summary_parse_refuses_damage_and_other_versions)
{
	struct mime_part *root = parse(MSG);
	struct msg_summary sum;
	struct buf rec;
	char *copy;
	size_t cut;

	buf_init(&rec, MSG_SUMMARY_MAX);
	ck_assert_int_eq(msg_summary_build(root, &rec), 0);
	copy = xmalloc(rec.len);
	for (cut = 0; cut < rec.len; cut++) {
		memcpy(copy, rec.data, cut);
		ck_assert_int_eq(msg_summary_parse(copy, cut, &sum), -1);
	}
	memcpy(copy, rec.data, rec.len);
	copy[0] = MSG_SUMMARY_VERSION + 1;
	ck_assert_int_eq(msg_summary_parse(copy, rec.len, &sum), -1);
	memcpy(copy, rec.data, rec.len);
	copy[1] ^= 1;		/* the envelope's length */
	ck_assert_int_eq(msg_summary_parse(copy, rec.len, &sum), -1);
	ck_assert_int_eq(msg_summary_parse(rec.data, rec.len, &sum), 0);
	free(copy);
	buf_free(&rec);
	mime_part_free(&root);
}
END_TEST

START_TEST(test_msg_summary_text_field_only_for_what_it_holds)
{
	ck_assert_int_eq(msg_summary_text_field("from", SEARCH_NORM_ADDRESS),
	    MSG_SUMMARY_FROM);
	ck_assert_int_eq(msg_summary_text_field("SUBJECT", SEARCH_NORM_LWSP),
	    MSG_SUMMARY_SUBJECT);
	/* HEADER FROM x reads the raw value: not the summary's text */
	ck_assert_int_eq(msg_summary_text_field("From", SEARCH_NORM_PLAIN), -1);
	ck_assert_int_eq(msg_summary_text_field("Reply-To",
	    SEARCH_NORM_ADDRESS), -1);
	ck_assert_int_eq(msg_summary_text_field("Date", SEARCH_NORM_PLAIN), -1);
}
END_TEST

/* The normal form never holds a NUL, so NUL can separate texts. */
START_TEST(test_search_norm_has_no_nul)
{
	static const char in[] = "a\0B\xff\xc3\xa9\0";
	char out[SEARCH_NORM_MAX(sizeof(in))];
	size_t n, used;

	n = search_norm_utf8(out, (const unsigned char *)in, sizeof(in) - 1,
	    1, &used);
	ck_assert_uint_eq(used, sizeof(in) - 1);
	ck_assert_ptr_null(memchr(out, '\0', n));
	ck_assert_mem_eq(out, "a" SEARCH_NORM_REPLACEMENT "b", 5);
}
END_TEST

static Suite *
msg_summary_suite(void)
{
	Suite *s = suite_create("msg_summary");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_msg_summary_holds_envelope_texts_and_date);
	tcase_add_test(tc, test_msg_summary_corpus_agrees_with_writers);
	tcase_add_test(tc, test_msg_summary_needs_a_kept_header_and_fits_the_cap);
	tcase_add_test(tc,
	    test_msg_summary_parse_refuses_damage_and_other_versions);
	tcase_add_test(tc, test_msg_summary_text_field_only_for_what_it_holds);
	tcase_add_test(tc, test_search_norm_has_no_nul);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(msg_summary_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
