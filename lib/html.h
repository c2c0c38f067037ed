/*
 * html: HTML reduced to plain text for reading on a terminal, as `mailvault
 * show` does for a message that has no text/plain part.
 *
 * Not a browser and not a sanitizer for HTML output: it reads tags only to
 * know where lines break, drops what is never text (script, style, head,
 * comments), turns list items into "* " lines, keeps a link's address
 * after its text when they differ, decodes character references, and
 * squeezes white space as a browser would (except inside <pre>). Broken
 * HTML still gives text: an unclosed tag ends at the end of the input. The
 * output is UTF-8 when the input is; what it prints still goes through the
 * caller's own filter for control characters.
 */
#ifndef MAILVAULT_LIB_HTML_H
#define MAILVAULT_LIB_HTML_H

#include <stddef.h>

#include "lib/buf.h"

/* Append the text of html[0..n) to out. 0, or -1 if out's limit was hit
 * (out then holds a prefix). */
int	html_to_text(const char *html, size_t n, struct buf *out);

#endif
