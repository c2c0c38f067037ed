/*
 * progress: how long work shows itself. On a terminal, a bar redrawn in
 * place at most ten times a second (bytes, items, rate, time left), cut
 * to the terminal's width; its first frame is drawn at once, it comes
 * back at once after a message erased it, and its last frame is left on
 * its own line at the end, so even work that takes a moment shows where
 * it started and where it ended. On a pipe or file, a plain line every
 * five seconds, so logs stay readable; with --quiet, nothing but errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"

#define FRAME_MAX	512	/* one frame, for any width */

/* The bar drawn last on the terminal, erased before an error message so
 * the message starts a line of its own; NULL when none is showing. */
static struct cli_progress *on_screen;

struct cli_progress {
	char	*what;
	uint64_t total;		/* bytes; 0 if unknown */
	uint64_t done;
	uint64_t items;
	uint64_t items_total;	/* 0 if unknown */
	char	 label[128];	/* what is being worked on now, or "" */
	int64_t	 start_ms, last_ms;
	int	 tty;
	int	 quiet;
	int	 drawn;
};

void
cli_human_bytes(uint64_t n, char *out, size_t len)
{
	static const char *units[] = { "B", "KB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

/* The terminal's width, asked on each redraw so a resize is followed. */
static int
term_cols(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Format into line; 1 if the result is at most cols wide. */
static int __attribute__((format(printf, 3, 4)))
fits(char *line, int cols, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, FRAME_MAX, fmt, ap);
	va_end(ap);
	return n >= 0 && n <= cols;
}

/*
 * One frame of the bar, at most cols - 1 wide: a line as wide as the
 * terminal would wrap, and the next carriage return would then redraw
 * only the wrapped part, leaving a trail of old frames. When room runs
 * short the time left goes first, then the bar, then the name and the
 * sizes; numbers are never cut (a cut "1000" would read "100"). With no
 * total known (a Maildir, a folder of .eml files) there is no bar at
 * all: one that never fills would say nothing.
 */
static void
draw_tty(struct cli_progress *p, const char *counts, const char *left)
{
	char line[FRAME_MAX];
	int cols = term_cols() - 1, width;
	/* "what [" + "] counts": all but the bar and the estimate */
	int room = cols - (int)(strlen(p->what) + strlen(counts)) - 4;

	if (room - (int)strlen(left) < 10)
		left = "";		/* the bar rather than the estimate */
	width = room - (int)strlen(left);
	if (width > 30)
		width = 30;
	if (p->total > 0 && width >= 10) {
		char bar[31];
		int fill, i;

		fill = (int)((double)p->done * width / (double)p->total);
		for (i = 0; i < width; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[width] = '\0';
		(void)fits(line, cols, "%s [%s] %s%s", p->what, bar, counts,
		    left);
	} else if (!fits(line, cols, "%s: %s%s", p->what, counts, left) &&
	    !fits(line, cols, "%s: %s", p->what, counts) &&
	    !fits(line, cols, "%s: %llu msgs", p->what,
	    (unsigned long long)p->items) &&
	    !fits(line, cols, "%llu msgs", (unsigned long long)p->items))
		line[0] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	p->drawn = 1;
	on_screen = p;
}

void
cli_progress_clear(void)
{
	if (on_screen == NULL)
		return;
	fputs("\r\033[K", stderr);
	on_screen->drawn = 0;
	on_screen = NULL;
}

static void
draw(struct cli_progress *p, int64_t now)
{
	char done[32], rate[32], left[32] = "", counts[96], tail[192];
	double secs = (double)(now - p->start_ms) / 1000.0;
	double bps = secs > 0 ? (double)p->done / secs : 0;

	cli_human_bytes(p->done, done, sizeof(done));
	cli_human_bytes((uint64_t)bps, rate, sizeof(rate));
	if (p->total > 0 && bps > 0 && p->done <= p->total)
		snprintf(left, sizeof(left), ", %.0f s left",
		    (double)(p->total - p->done) / bps);
	if (p->items_total > 0)
		snprintf(counts, sizeof(counts), "%llu/%llu",
		    (unsigned long long)p->items,
		    (unsigned long long)p->items_total);
	else
		snprintf(counts, sizeof(counts), "%llu",
		    (unsigned long long)p->items);
	if (!p->tty) {
		fprintf(stderr, "%s: %s%s%s messages, %s, %s/s%s\n", p->what,
		    p->label, p->label[0] ? ": " : "", counts, done, rate,
		    left);
		return;
	}
	snprintf(counts + strlen(counts), sizeof(counts) - strlen(counts),
	    " msgs %s %s/s", done, rate);
	/* the label goes with the estimate: the first to go when narrow */
	snprintf(tail, sizeof(tail), "%s%s%s", left, p->label[0] ? " " : "",
	    p->label);
	draw_tty(p, counts, tail);
}

struct cli_progress *
cli_progress_new(const struct cli_opts *o, const char *what,
    uint64_t total_bytes)
{
	struct cli_progress *p = xcalloc(1, sizeof(*p));

	p->what = xstrdup(what);
	p->total = total_bytes;
	p->start_ms = p->last_ms = now_ms();
	p->tty = isatty(STDERR_FILENO);
	p->quiet = o->quiet || o->json;
	if (p->tty && !p->quiet)
		draw(p, p->start_ms);
	return p;
}

void
cli_progress_update(struct cli_progress *p, uint64_t done_bytes,
    uint64_t items)
{
	int64_t now;

	p->done = done_bytes;
	p->items = items;
	if (p->quiet)
		return;
	now = now_ms();
	if (now - p->last_ms < (p->tty ? 100 : 5000) && !(p->tty && !p->drawn))
		return;
	p->last_ms = now;
	draw(p, now);
}

void
cli_progress_set(struct cli_progress *p, const char *label,
    uint64_t done_bytes, uint64_t total_bytes, uint64_t items,
    uint64_t items_total)
{
	snprintf(p->label, sizeof(p->label), "%s", label != NULL ? label : "");
	p->total = total_bytes;
	p->items_total = items_total;
	cli_progress_update(p, done_bytes, items);
}

void
cli_progress_done(struct cli_progress **pp, const char *summary)
{
	struct cli_progress *p = *pp;

	if (p == NULL)
		return;
	if (!p->quiet) {
		if (p->tty && p->drawn) {
			draw(p, now_ms());
			fputc('\n', stderr);
		}
		if (summary != NULL)
			printf("%s\n", summary);
	}
	if (on_screen == p)
		on_screen = NULL;
	free(p->what);
	free(p);
	*pp = NULL;
}
