/*
 * date: civil-date arithmetic (H. Hinnant's days_from_civil and
 * civil_from_days, which count in 400-year eras of 146097 days so that
 * every step is exact integer arithmetic for any year) and the IMAP
 * date-time and SEARCH date forms, written and read by hand.
 *
 * The IMAP date-time parser is the one the server's APPEND and the sync
 * client's INTERNALDATE share. Each had its own until 2026-12: APPEND
 * took only RFC 3501's "date-day-fixed" (" 7" or "07") and any zone
 * hour, the client also took "7" and " 07" but only zone hours up to 23.
 * This one takes what either took; RFC 3501's zone is four digits, so
 * any hour is read, and date_imap_format() writes any zone the parser
 * reads.
 */
#include "lib/date.h"

#include <assert.h>
#include <string.h>

#include "lib/util.h"

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};
static const char wdays[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

/* Day numbers count from 1970-01-01; eras from 0000-03-01, 719468 days
 * earlier. Starting the year in March puts the leap day last. */
#define EPOCH_SHIFT	719468
#define ERA_DAYS	146097

int64_t
date_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;				/* [0, 399] */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */
	return era * ERA_DAYS + doe - EPOCH_SHIFT;
}

void
date_civil_from_days(int64_t days, int64_t *y_r, unsigned *m_r,
    unsigned *d_r)
{
	int64_t z = days + EPOCH_SHIFT, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - (ERA_DAYS - 1)) / ERA_DAYS;
	doe = z - era * ERA_DAYS;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;			/* March is 0 */
	*d_r = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

unsigned
date_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday */
	return (unsigned)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

/* Floor division and its remainder, for times before the epoch. */
static int64_t
floor_div(int64_t a, int64_t b, int64_t *rem_r)
{
	int64_t q = a / b, r = a % b;

	if (r < 0) {
		r += b;
		q--;
	}
	*rem_r = r;
	return q;
}

int64_t
date_day_of(int64_t t, int32_t tz)
{
	int64_t secs, days = floor_div(t, 86400, &secs);

	/* the zone is added to the seconds of the day, so no int64_t t can
	 * overflow */
	return days + floor_div(secs + (int64_t)tz * 60, 86400, &secs);
}

void
date_split(int64_t t, int32_t tz, struct date_tm *tm)
{
	int64_t secs, days = floor_div(t, 86400, &secs);

	days += floor_div(secs + (int64_t)tz * 60, 86400, &secs);
	date_civil_from_days(days, &tm->year, &tm->mon, &tm->day);
	tm->wday = date_weekday(days);
	tm->hour = (unsigned)(secs / 3600);
	tm->min = (unsigned)(secs / 60 % 60);
	tm->sec = (unsigned)(secs % 60);
}

int64_t
date_join(const struct date_tm *tm, int32_t tz)
{
	return date_days_from_civil(tm->year, tm->mon, tm->day) * 86400 +
	    (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec -
	    (int64_t)tz * 60;
}

const char *
date_month_name(unsigned m)
{
	assert(m >= 1 && m <= 12);
	return months[m - 1];
}

const char *
date_weekday_name(unsigned wd)
{
	assert(wd <= 6);
	return wdays[wd];
}

static int
name_index(const char (*names)[4], int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (ascii_strncasecmp(names[i], s, 3) == 0)
			return i;
	return -1;
}

int
date_month_from_name(const char *s)
{
	int i = name_index(months, 12, s);

	return i < 0 ? -1 : i + 1;
}

int
date_weekday_from_name(const char *s)
{
	return name_index(wdays, 7, s);
}

/* ---- IMAP forms ---------------------------------------------------------- */

/* v as n decimal digits at p, zero-padded; returns the end. */
static char *
put_digits(char *p, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

int
date_imap_format(int64_t t, int32_t tz, char out[DATE_IMAP_LEN])
{
	struct date_tm tm;
	unsigned z = (unsigned)(tz < 0 ? -(int64_t)tz : tz);
	char *p = out;

	if (z > DATE_ZONE_MAX)
		return -1;
	date_split(t, tz, &tm);
	if (tm.year < 0 || tm.year > 9999)
		return -1;
	p = put_digits(p, tm.day, 2);
	*p++ = '-';
	memcpy(p, months[tm.mon - 1], 3);
	p[3] = '-';
	p = put_digits(p + 4, (unsigned)tm.year, 4);
	*p++ = ' ';
	p = put_digits(p, tm.hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.min, 2);
	*p++ = ':';
	p = put_digits(p, tm.sec, 2);
	*p++ = ' ';
	*p++ = tz < 0 ? '-' : '+';
	p = put_digits(p, z / 60 * 100 + z % 60, 4);
	*p = '\0';
	return 0;
}

/* n digits at s into *v_r (the caller checked that n bytes are there). */
static int
get_digits(const char *s, int n, unsigned *v_r)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*v_r = v;
	return 0;
}

/*
 * date-text at the start of s[0..n): "d-Mon-yyyy" or "dd-Mon-yyyy" into
 * tm's year, mon and day. Its length (10 or 11), or 0 if it is not one.
 */
static size_t
date_text(const char *s, size_t n, struct date_tm *tm)
{
	size_t i = 0;
	unsigned year;
	int mon;

	tm->day = 0;
	while (i < 2 && i < n && s[i] >= '0' && s[i] <= '9')
		tm->day = tm->day * 10 + (unsigned)(s[i++] - '0');
	if (i == 0 || tm->day < 1 || tm->day > 31 || n - i < 9 ||
	    s[i] != '-' || s[i + 4] != '-')
		return 0;
	if ((mon = date_month_from_name(s + i + 1)) < 0 ||
	    get_digits(s + i + 5, 4, &year) < 0)
		return 0;
	tm->mon = (unsigned)mon;
	tm->year = year;
	return i + 9;
}

int
date_imap_parse_day(const char *s, size_t n, int64_t *days_r)
{
	struct date_tm tm;
	size_t len = date_text(s, n, &tm);

	if (len == 0 || len != n)
		return -1;
	*days_r = date_days_from_civil(tm.year, tm.mon, tm.day);
	return 0;
}

int
date_imap_parse(const char *s, size_t n, int64_t *t_r, int32_t *tz_r)
{
	struct date_tm tm;
	unsigned zone;
	size_t i;

	if (n > 0 && s[0] == ' ') {
		s++;
		n--;
	}
	/* the rest has a fixed shape: " hh:mm:ss +zzzz" */
	if ((i = date_text(s, n, &tm)) == 0 || n - i != 15)
		return -1;
	s += i;
	if (s[0] != ' ' || s[3] != ':' || s[6] != ':' || s[9] != ' ' ||
	    (s[10] != '+' && s[10] != '-') ||
	    get_digits(s + 1, 2, &tm.hour) < 0 ||
	    get_digits(s + 4, 2, &tm.min) < 0 ||
	    get_digits(s + 7, 2, &tm.sec) < 0 ||
	    get_digits(s + 11, 4, &zone) < 0)
		return -1;
	if (tm.hour > 23 || tm.min > 59 || tm.sec > 60 || zone % 100 > 59)
		return -1;
	*tz_r = (int32_t)(zone / 100 * 60 + zone % 100);
	if (s[10] == '-')
		*tz_r = -*tz_r;
	*t_r = date_join(&tm, *tz_r);
	return 0;
}
