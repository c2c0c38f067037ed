/*
 * progress: how long work shows itself. On a terminal, a bar redrawn in
 * place at most ten times a second (bytes, items, rate, time left); on a
 * pipe or file, a plain line every five seconds, so logs stay readable;
 * with --quiet, nothing but errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/util.h"

struct cli_progress {
	char	*what;
	uint64_t total;		/* bytes; 0 if unknown */
	uint64_t done;
	uint64_t items;
	int64_t	 start_ms, last_ms;
	int	 tty;
	int	 quiet;
	int	 drawn;
};

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
	return p;
}

static void
human_bytes(uint64_t n, char *out, size_t len)
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

static void
draw(struct cli_progress *p, int64_t now)
{
	char done[32], rate[32], left[32] = "";
	double secs = (double)(now - p->start_ms) / 1000.0;
	double bps = secs > 0 ? (double)p->done / secs : 0;
	int width = 30, fill = 0, i;

	human_bytes(p->done, done, sizeof(done));
	human_bytes((uint64_t)bps, rate, sizeof(rate));
	if (p->total > 0 && bps > 0 && p->done <= p->total)
		snprintf(left, sizeof(left), ", %.0f s left",
		    (double)(p->total - p->done) / bps);
	if (!p->tty) {
		fprintf(stderr, "%s: %llu messages, %s, %s/s%s\n", p->what,
		    (unsigned long long)p->items, done, rate, left);
		return;
	}
	if (p->total > 0)
		fill = (int)((double)p->done * width / (double)p->total);
	if (fill > width)
		fill = width;
	fprintf(stderr, "\r%s [", p->what);
	for (i = 0; i < width; i++)
		fputc(i < fill ? '#' : '-', stderr);
	fprintf(stderr, "] %llu msgs %s %s/s%s\033[K",
	    (unsigned long long)p->items, done, rate, left);
	p->drawn = 1;
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
	if (now - p->last_ms < (p->tty ? 100 : 5000))
		return;
	p->last_ms = now;
	draw(p, now);
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
	free(p->what);
	free(p);
	*pp = NULL;
}
