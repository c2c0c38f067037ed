/*
 * test_html: HTML reduced to text for `mailvault show`: what mail HTML
 * looks like (paragraphs, line breaks, lists, tables, links, entities,
 * styles and scripts, comments), and broken HTML still giving text.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/html.h"
#include "lib/util.h"

struct vec {
	const char	*html;
	const char	*text;
};

static const struct vec vecs[] = {
	{ "<p>Hello <b>world</b></p><p>Second   para\ngraph</p>",
	  "Hello world\n\nSecond para graph\n" },
	{ "one<br>two<br/><br>three", "one\ntwo\n\nthree\n" },
	{ "<html><head><title>T</title><style>p{color:red}</style></head>"
	  "<body><script>alert(1)</script>Body</body></html>", "Body\n" },
	{ "a <!-- hidden <p> --> b", "a b\n" },
	{ "<ul><li>one</li><li>two</li></ul>after", "* one\n* two\n\nafter\n" },
	{ "<table><tr><td>A</td><td>B</td></tr><tr><td>C</td></tr></table>",
	  "A B\nC\n" },
	{ "See <a href=\"https://example.org/x?a=1&amp;b=2\">the page</a>.",
	  "See the page <https://example.org/x?a=1&b=2>.\n" },
	{ "<a href='https://example.org/'>https://example.org/</a>",
	  "https://example.org/\n" },
	{ "<a href=\"mailto:bob@example.org\">Bob</a>",
	  "Bob <bob@example.org>\n" },
	{ "<a href=\"#top\">up</a>", "up\n" },
	{ "&lt;tag&gt; &amp; &quot;q&quot; &#65;&#x42; &euro;&nbsp;5 &bogus;",
	  "<tag> & \"q\" AB \xe2\x82\xac 5 &bogus;\n" },
	{ "<pre>  keep\n    this</pre>", "  keep\n    this\n" },
	{ "x < y and <unclosed", "x < y and\n" },
	{ "<div>a</div><div>b</div><hr>c", "a\nb\n----\nc\n" },
	{ "<img src=x alt=\"Logo\"> <img src=pixel>Hi", "[Logo] Hi\n" },
	{ "", "" },
	{ "<p></p>   <br>", "" },
};

START_TEST(test_html_to_text_vectors)
{
	const struct vec *v = &vecs[_i];
	struct buf b;

	buf_init(&b, 1 << 20);
	ck_assert_int_eq(html_to_text(v->html, strlen(v->html), &b), 0);
	ck_assert_msg(strcmp(b.data != NULL ? b.data : "", v->text) == 0,
	    "html: %s\n got: [%s]\nwant: [%s]", v->html,
	    b.data != NULL ? b.data : "", v->text);
	buf_free(&b);
}
END_TEST

/* A limit that is hit gives -1 and a prefix, never more. */
START_TEST(test_html_to_text_limit)
{
	const char *html = "<p>a long enough paragraph of words</p>";
	struct buf b;

	buf_init(&b, 10);
	ck_assert_int_eq(html_to_text(html, strlen(html), &b), -1);
	ck_assert_uint_le(b.len, 10);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("html");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_html_to_text_vectors, 0,
	    (int)ARRAY_SIZE(vecs));
	tcase_add_test(tc, test_html_to_text_limit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
