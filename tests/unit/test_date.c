/*
 * test_date: lib/date, the calendar and the IMAP date forms.
 *
 * Known answers (the epoch, leap days, the century years 1900, 2000 and
 * 2100, zones east and west, the first and last second a four-digit year
 * can write); every day from 1970 to 2100 walked by hand and compared
 * with the C library's timegm() and gmtime_r(), an oracle that shares no
 * code with lib/date; each rule of the IMAP date-time parser broken once;
 * and the parser against a model of what the two parsers it replaced
 * accepted (the sync client's and APPEND's, until 2026-12), over every
 * combination of a set of spellings of each field: whatever either
 * accepted is still read, to the same time and zone, and the only new
 * readings are the ones date.h documents.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/date.h"
#include "lib/util.h"

/* The first and last seconds of years 0000 and 9999, UTC. */
#define T_YEAR0		(-62167219200LL)
#define T_YEAR9999_END	253402300799LL

/* timegm() of a UTC date and time: the oracle. */
static int64_t
oracle(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* ---- the calendar ------------------------------------------------------ */

START_TEST(test_date_known_days)
{
	static const struct {
		int64_t		 y;
		unsigned	 m, d;
		int64_t		 days;
		unsigned	 wday;
	} v[] = {
		{ 1970, 1, 1, 0, 4 },
		{ 1969, 12, 31, -1, 3 },
		{ 1972, 2, 29, 789, 2 },
		{ 1972, 3, 1, 790, 3 },
		{ 1900, 2, 28, -25509, 3 },
		{ 1900, 3, 1, -25508, 4 },	/* 1900 is no leap year */
		{ 2000, 2, 29, 11016, 2 },	/* 2000 is one */
		{ 2000, 3, 1, 11017, 3 },
		{ 2100, 2, 28, 47540, 0 },
		{ 2100, 3, 1, 47541, 1 },	/* 2100 is none */
		{ 2026, 12, 7, 20794, 1 },
		{ 0, 1, 1, -719528, 6 },
		{ 0, 2, 29, -719469, 2 },	/* year 0 is a leap year */
		{ 9999, 12, 31, 2932896, 5 },
		{ -1, 12, 31, -719529, 5 },
	};
	int64_t y;
	unsigned m, d;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ck_assert_int_eq(date_days_from_civil(v[i].y, v[i].m, v[i].d),
		    v[i].days);
		date_civil_from_days(v[i].days, &y, &m, &d);
		ck_assert_int_eq(y, v[i].y);
		ck_assert_uint_eq(m, v[i].m);
		ck_assert_uint_eq(d, v[i].d);
		ck_assert_uint_eq(date_weekday(v[i].days), v[i].wday);
	}
	/* a day past the month's end counts on */
	ck_assert_int_eq(date_days_from_civil(2021, 2, 31),
	    date_days_from_civil(2021, 3, 3));
}
END_TEST

static unsigned
month_days(int64_t y, unsigned m)
{
	static const unsigned n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return n[m - 1] + (m == 2 && leap);
}

/*
 * Every day of 1970..2100, counted up from 0: the day number both ways,
 * the weekday, timegm() of its noon, and the IMAP form of a time on that
 * day against gmtime_r() and strftime().
 */
START_TEST(test_date_every_day_1970_2100)
{
	char want[64], got[DATE_IMAP_LEN];
	int64_t n = 0, y, t, local;
	int32_t tz;
	unsigned m, d, gm, gd;
	struct tm tm;
	time_t tt;

	for (y = 1970; y <= 2100; y++) {
		for (m = 1; m <= 12; m++) {
			for (d = 1; d <= month_days(y, m); d++, n++) {
				ck_assert_int_eq(date_days_from_civil(y, m, d), n);
				date_civil_from_days(n, &t, &gm, &gd);
				ck_assert(t == y && gm == m && gd == d);
				ck_assert_uint_eq(date_weekday(n),
				    (unsigned)((n + 4) % 7));
				t = oracle((int)y, (int)m, (int)d, 12, 0, 0);
				ck_assert_int_eq(t, n * 86400 + 43200);
				/* a time of day and a zone (-14:00..+14:00)
				 * that change from day to day */
				tz = (int32_t)(n % 1681) - 840;
				local = n * 86400 + n * 7919 % 86400;
				tt = (time_t)local;
				ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
				strftime(want, sizeof(want), "%d-%b-%Y %H:%M:%S", &tm);
				snprintf(want + strlen(want), 8, " %c%02d%02d",
				    tz < 0 ? '-' : '+', abs(tz) / 60, abs(tz) % 60);
				ck_assert_int_eq(date_imap_format(local -
				    (int64_t)tz * 60, tz, got), 0);
				ck_assert_str_eq(got, want);
				ck_assert_int_eq(date_day_of(local -
				    (int64_t)tz * 60, tz), n);
			}
		}
	}
}
END_TEST

/* Day numbers far either side: from and to the civil date agree. */
START_TEST(test_date_round_trip_far)
{
	int64_t n, y;
	unsigned m, d;

	for (n = -3000000; n <= 3000000; n += 97) {
		date_civil_from_days(n, &y, &m, &d);
		ck_assert(m >= 1 && m <= 12 && d >= 1 && d <= month_days(y, m));
		ck_assert_int_eq(date_days_from_civil(y, m, d), n);
	}
}
END_TEST

START_TEST(test_date_split_and_join)
{
	struct date_tm tm;

	date_split(837596665, -420, &tm);
	ck_assert(tm.year == 1996 && tm.mon == 7 && tm.day == 17 &&
	    tm.hour == 2 && tm.min == 44 && tm.sec == 25 && tm.wday == 3);
	ck_assert_int_eq(date_join(&tm, -420), 837596665);
	date_split(-1, 0, &tm);
	ck_assert(tm.year == 1969 && tm.mon == 12 && tm.day == 31 &&
	    tm.hour == 23 && tm.min == 59 && tm.sec == 59);
	/* second 60 is the next minute's first */
	tm.sec = 60;
	ck_assert_int_eq(date_join(&tm, 0), 0);
	/* no int64_t time or int32_t zone overflows (UBSan watches) */
	date_split(INT64_MAX, INT32_MAX, &tm);
	date_split(INT64_MIN, INT32_MIN, &tm);
	ck_assert(tm.mon >= 1 && tm.mon <= 12 && tm.hour < 24);
	ck_assert_int_eq(date_day_of(-1, 0), -1);
	ck_assert_int_eq(date_day_of(-86400, 0), -1);
	ck_assert_int_eq(date_day_of(-86401, 0), -2);
	ck_assert_int_eq(date_day_of(86399, 1), 1);
}
END_TEST

START_TEST(test_date_names)
{
	ck_assert_str_eq(date_month_name(1), "Jan");
	ck_assert_str_eq(date_month_name(12), "Dec");
	ck_assert_str_eq(date_weekday_name(0), "Sun");
	ck_assert_str_eq(date_weekday_name(6), "Sat");
	ck_assert_int_eq(date_month_from_name("sEp"), 9);
	ck_assert_int_eq(date_month_from_name("Sept"), 9);
	ck_assert_int_eq(date_month_from_name("Spt"), -1);
	ck_assert_int_eq(date_weekday_from_name("THU"), 4);
	ck_assert_int_eq(date_weekday_from_name("Jan"), -1);
}
END_TEST

/* ---- IMAP date-time ---------------------------------------------------- */

START_TEST(test_date_imap_format_known)
{
	static const struct {
		int64_t		 t;
		int32_t		 tz;
		const char	*want;		/* NULL: -1 */
	} v[] = {
		{ 837596665, -420, "17-Jul-1996 02:44:25 -0700" },
		{ 837596665 - 10 * 86400, 330, "07-Jul-1996 15:14:25 +0530" },
		{ 0, 0, "01-Jan-1970 00:00:00 +0000" },
		{ -1, 0, "31-Dec-1969 23:59:59 +0000" },
		{ 0, -1, "31-Dec-1969 23:59:00 -0001" },
		{ 1709229600, 330, "29-Feb-2024 23:30:00 +0530" },
		{ 951782400, 0, "29-Feb-2000 00:00:00 +0000" },
		{ 4107456000LL, 0, "28-Feb-2100 00:00:00 +0000" },
		{ T_YEAR0, 0, "01-Jan-0000 00:00:00 +0000" },
		{ T_YEAR0 - 1, 0, NULL },
		{ T_YEAR0 - 60, 1, "01-Jan-0000 00:00:00 +0001" },
		{ T_YEAR9999_END, 0, "31-Dec-9999 23:59:59 +0000" },
		{ T_YEAR9999_END + 1, 0, NULL },
		{ T_YEAR9999_END + 1, -1, "31-Dec-9999 23:59:00 -0001" },
		{ 0, DATE_ZONE_MAX, "05-Jan-1970 03:59:00 +9959" },
		{ 0, -DATE_ZONE_MAX, "27-Dec-1969 20:01:00 -9959" },
		{ 0, DATE_ZONE_MAX + 1, NULL },
		{ 0, -DATE_ZONE_MAX - 1, NULL },
		{ INT64_MAX, 0, NULL },
		{ INT64_MIN, 0, NULL },
	};
	char out[DATE_IMAP_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		memset(out, 'x', sizeof(out));
		if (v[i].want == NULL) {
			ck_assert_int_eq(date_imap_format(v[i].t, v[i].tz, out),
			    -1);
			ck_assert_int_eq(out[0], 'x');
			continue;
		}
		ck_assert_int_eq(date_imap_format(v[i].t, v[i].tz, out), 0);
		ck_assert_str_eq(out, v[i].want);
	}
}
END_TEST

START_TEST(test_date_imap_parse_known)
{
	static const struct {
		const char	*s;
		int64_t		 t;
		int32_t		 tz;
	} v[] = {
		{ "17-Jul-1996 02:44:25 -0700", 837596665, -420 },
		{ " 1-Jan-1970 00:00:00 +0000", 0, 0 },
		{ "1-jan-1970 00:00:00 +0000", 0, 0 },
		{ " 01-JAN-1970 00:00:00 -0000", 0, 0 },
		{ "29-Feb-2024 23:30:00 +0530", 1709229600, 330 },
		{ "31-Dec-1969 23:59:59 +0000", -1, 0 },
		{ "31-Dec-1969 23:59:60 +0000", 0, 0 },
		{ "01-Jan-0000 00:00:00 +0000", T_YEAR0, 0 },
		{ "31-Dec-9999 23:59:59 +0000", T_YEAR9999_END, 0 },
		{ "05-Jan-1970 03:59:00 +9959", 0, DATE_ZONE_MAX },
		{ "31-Feb-2021 00:00:00 +0000", 1614729600, 0 },
	};
	int64_t t;
	int32_t tz;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ck_assert_msg(date_imap_parse(v[i].s, strlen(v[i].s), &t,
		    &tz) == 0, "'%s'", v[i].s);
		ck_assert_int_eq(t, v[i].t);
		ck_assert_int_eq(tz, v[i].tz);
	}
}
END_TEST

/* One rule broken at a time. */
START_TEST(test_date_imap_parse_rejects)
{
	static const char *const bad[] = {
		"",
		"17-Jul-1996",				/* no time */
		"17-Jul-1996 02:44:25",			/* no zone */
		"17-Foo-1996 02:44:25 -0700",		/* month */
		"17-Ju-1996 02:44:25 -0700",
		"17/Jul/1996 02:44:25 -0700",		/* separators */
		"17-Jul-1996T02:44:25 -0700",
		"17-Jul-1996 02-44-25 -0700",
		"17-Jul-1996 02:44:25-0700",
		"17-Jul-1996  02:44:25 -0700",
		"0-Jul-1996 02:44:25 -0700",		/* day */
		"00-Jul-1996 02:44:25 -0700",
		"32-Jul-1996 02:44:25 -0700",
		"117-Jul-1996 02:44:25 -0700",
		"  7-Jul-1996 02:44:25 -0700",		/* two spaces */
		"x7-Jul-1996 02:44:25 -0700",
		"17-Jul-996 02:44:25 -0700",		/* year */
		"17-Jul-19960 02:44:25 -0700",
		"17-Jul-19x6 02:44:25 -0700",
		"17-Jul-1996 24:44:25 -0700",		/* hour */
		"17-Jul-1996 2:44:25 -0700",
		"17-Jul-1996 02:60:25 -0700",		/* minute */
		"17-Jul-1996 02:44:61 -0700",		/* second */
		"17-Jul-1996 02:44 -0700",
		"17-Jul-1996 02:44:25 0700",		/* zone */
		"17-Jul-1996 02:44:25 -070",
		"17-Jul-1996 02:44:25 -07000",
		"17-Jul-1996 02:44:25 -0760",
		"17-Jul-1996 02:44:25 -07a0",
		"17-Jul-1996 02:44:25 PDT",
		"17-Jul-1996 02:44:25 -0700x",		/* trailing bytes */
		"17-Jul-1996 02:44:25 -0700 ",
	};
	int64_t t = 7;
	int32_t tz = 7;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(date_imap_parse(bad[i], strlen(bad[i]), &t,
		    &tz) == -1, "'%s' was read", bad[i]);
	/* the length counts: a NUL is not an end */
	ck_assert_int_eq(date_imap_parse("17-Jul-1996 02:44:25 -0700\0",
	    27, &t, &tz), -1);
	ck_assert(t == 7 && tz == 7);
}
END_TEST

/*
 * The spellings the equality test combines; "valid" says what the field
 * reads as when it is well-formed, as the old parsers judged it.
 */
struct spelling {
	const char	*s;
	int		 v1, v2, v3;	/* its numbers (day; h m s; sign hh mm) */
	int		 ok;		/* well-formed on its own */
};

static const char *const pres[] = { "", " ", "  " };
static const struct spelling day_s[] = {
	{ "7", 7, 0, 0, 1 }, { "07", 7, 0, 0, 1 }, { "17", 17, 0, 0, 1 },
	{ "31", 31, 0, 0, 1 }, { "1", 1, 0, 0, 1 }, { "0", 0, 0, 0, 0 },
	{ "00", 0, 0, 0, 0 }, { "32", 32, 0, 0, 0 }, { "117", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 }, { "x7", 0, 0, 0, 0 },
};
static const struct spelling mon_s[] = {
	{ "Jan", 1, 0, 0, 1 }, { "feb", 2, 0, 0, 1 }, { "DEC", 12, 0, 0, 1 },
	{ "Jul", 7, 0, 0, 1 }, { "Foo", 0, 0, 0, 0 }, { "Ja", 0, 0, 0, 0 },
};
static const struct spelling year_s[] = {
	{ "1970", 1970, 0, 0, 1 }, { "0000", 0, 0, 0, 1 },
	{ "9999", 9999, 0, 0, 1 }, { "2024", 2024, 0, 0, 1 },
	{ "197", 0, 0, 0, 0 }, { "19700", 0, 0, 0, 0 },
};
static const struct spelling time_s[] = {
	{ "00:00:00", 0, 0, 0, 1 }, { "23:59:59", 23, 59, 59, 1 },
	{ "23:59:60", 23, 59, 60, 1 }, { "24:00:00", 0, 0, 0, 0 },
	{ "12:60:00", 0, 0, 0, 0 }, { "12:00:61", 0, 0, 0, 0 },
	{ "1:00:00", 0, 0, 0, 0 }, { "12:00", 0, 0, 0, 0 },
};
static const struct spelling zone_s[] = {
	{ "+0000", 1, 0, 0, 1 }, { "-0000", -1, 0, 0, 1 },
	{ "-0700", -1, 7, 0, 1 }, { "+0530", 1, 5, 30, 1 },
	{ "+2359", 1, 23, 59, 1 }, { "+2400", 1, 24, 0, 1 },
	{ "-9959", -1, 99, 59, 1 }, { "+0060", 0, 0, 0, 0 },
	{ "0700", 0, 0, 0, 0 }, { "+070", 0, 0, 0, 0 },
	{ "+07000", 0, 0, 0, 0 },
};
static const char *const seps[] = { "-", "/" };

#define NSPELL(a)	((int)ARRAY_SIZE(a))

/*
 * Did the old parsers read it? client: lib/imap_resp's (the day 1 or 2
 * digits after an optional space, zone hours up to 23); append: APPEND's
 * (" d" or "dd", any zone hour). Both wanted the rest well-formed.
 */
static void
old_verdicts(int pre, const struct spelling *d, int sep, int rest_ok,
    const struct spelling *z, int *client_r, int *append_r)
{
	size_t dl = strlen(d->s);

	*client_r = pre < 2 && d->ok && sep == 0 && rest_ok && z->ok &&
	    z->v2 <= 23;
	*append_r = d->ok && sep == 0 && rest_ok && z->ok &&
	    ((pre == 1 && dl == 1 && d->v1 >= 1) || (pre == 0 && dl == 2));
}

START_TEST(test_date_imap_parse_keeps_old_readings)
{
	const struct spelling *d, *mo, *y, *ti, *z;
	int p, i, j, k, l, m, sep, client, append, now, rest_ok;
	long old_read = 0, new_read = 0;
	char s[64];
	int64_t t, want;
	int32_t tz;

	for (p = 0; p < NSPELL(pres); p++)
	for (i = 0; i < NSPELL(day_s); i++)
	for (sep = 0; sep < NSPELL(seps); sep++)
	for (j = 0; j < NSPELL(mon_s); j++)
	for (k = 0; k < NSPELL(year_s); k++)
	for (l = 0; l < NSPELL(time_s); l++)
	for (m = 0; m < NSPELL(zone_s); m++) {
		d = &day_s[i], mo = &mon_s[j], y = &year_s[k];
		ti = &time_s[l], z = &zone_s[m];
		snprintf(s, sizeof(s), "%s%s%s%s%s%s %s %s", pres[p], d->s,
		    seps[sep], mo->s, seps[sep], y->s, ti->s, z->s);
		rest_ok = mo->ok && y->ok && ti->ok;
		old_verdicts(p, d, sep, rest_ok, z, &client, &append);
		now = date_imap_parse(s, strlen(s), &t, &tz) == 0;
		/* what date.h documents: either day form, any zone hour */
		ck_assert_msg(now == (p < 2 && d->ok && sep == 0 && rest_ok &&
		    z->ok), "'%s': %d", s, now);
		if (client || append)
			ck_assert_msg(now, "'%s' was read before", s);
		old_read += client || append;
		new_read += now;
		if (!now)
			continue;
		want = oracle(y->v1, mo->v1, d->v1, ti->v1, ti->v2, ti->v3) -
		    (int64_t)z->v1 * (z->v2 * 60 + z->v3) * 60;
		ck_assert_msg(t == want, "'%s': %lld", s, (long long)t);
		ck_assert_int_eq(tz, z->v1 * (z->v2 * 60 + z->v3));
	}
	/* the combinations reach both old parsers and the new readings */
	ck_assert_int_gt(old_read, 1000);
	ck_assert_int_gt(new_read, old_read);
}
END_TEST

/* What the formatter writes, the parser reads back, for any zone. */
START_TEST(test_date_imap_round_trip)
{
	char out[DATE_IMAP_LEN];
	int64_t t, t2;
	int32_t tz, tz2;
	long i = 0;

	for (t = T_YEAR0; t < T_YEAR9999_END; t += 86399LL * 997 + 7) {
		tz = (int32_t)(i++ * 61 % (2 * DATE_ZONE_MAX + 1)) -
		    DATE_ZONE_MAX;
		if (date_imap_format(t, tz, out) < 0) {
			/* only near the ends can the local year leave the form */
			ck_assert(t < T_YEAR0 + 86400 * 5 ||
			    t > T_YEAR9999_END - 86400 * 5);
			continue;
		}
		ck_assert_int_eq(date_imap_parse(out, strlen(out), &t2, &tz2),
		    0);
		ck_assert(t2 == t && tz2 == tz);
	}
}
END_TEST

/* ---- IMAP SEARCH date -------------------------------------------------- */

START_TEST(test_date_imap_parse_day)
{
	static const struct {
		const char	*s;
		int64_t		 days;		/* INT64_MIN: -1 */
	} v[] = {
		{ "1-Jan-1970", 0 },
		{ "01-jan-1970", 0 },
		{ "7-Dec-2026", 20794 },
		{ "29-Feb-2000", 11016 },
		{ "31-Dec-1969", -1 },
		{ "1-Jan-0000", -719528 },
		{ "", INT64_MIN },
		{ " 7-Dec-2026", INT64_MIN },
		{ "0-Dec-2026", INT64_MIN },
		{ "32-Dec-2026", INT64_MIN },
		{ "107-Dec-2026", INT64_MIN },
		{ "7-Dez-2026", INT64_MIN },
		{ "7-Dec-226", INT64_MIN },
		{ "7-Dec-20266", INT64_MIN },
		{ "7/Dec/2026", INT64_MIN },
		{ "7-Dec-2026 ", INT64_MIN },
		{ "7-Dec-2026 00:00:00 +0000", INT64_MIN },
	};
	int64_t days;
	size_t i;
	int y, m;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		days = 12345;
		if (v[i].days == INT64_MIN) {
			ck_assert_msg(date_imap_parse_day(v[i].s, strlen(v[i].s),
			    &days) == -1, "'%s' was read", v[i].s);
			ck_assert_int_eq(days, 12345);
			continue;
		}
		ck_assert_int_eq(date_imap_parse_day(v[i].s, strlen(v[i].s),
		    &days), 0);
		ck_assert_int_eq(days, v[i].days);
	}
	/* every month and year of a span, against the oracle */
	for (y = 1900; y <= 2100; y += 7) {
		for (m = 1; m <= 12; m++) {
			char s[16];

			snprintf(s, sizeof(s), "%d-%s-%04d", 28 - m,
			    date_month_name((unsigned)m), y);
			ck_assert_int_eq(date_imap_parse_day(s, strlen(s),
			    &days), 0);
			ck_assert_int_eq(days * 86400,
			    oracle(y, m, 28 - m, 0, 0, 0));
		}
	}
}
END_TEST

static Suite *
date_suite(void)
{
	Suite *s = suite_create("date");
	TCase *tc = tcase_create("date");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_date_known_days);
	tcase_add_test(tc, test_date_every_day_1970_2100);
	tcase_add_test(tc, test_date_round_trip_far);
	tcase_add_test(tc, test_date_split_and_join);
	tcase_add_test(tc, test_date_names);
	tcase_add_test(tc, test_date_imap_format_known);
	tcase_add_test(tc, test_date_imap_parse_known);
	tcase_add_test(tc, test_date_imap_parse_rejects);
	tcase_add_test(tc, test_date_imap_parse_keeps_old_readings);
	tcase_add_test(tc, test_date_imap_round_trip);
	tcase_add_test(tc, test_date_imap_parse_day);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(date_suite());
	int nfailed;

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nfailed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
