/*
 * date: the calendar, and the date forms of IMAP and of mail files, in
 * one place.
 *
 * A time is seconds since 1970-01-01 00:00:00 UTC in an int64_t and a
 * zone is minutes east of UTC, as the store keeps a message's internal
 * date. The calendar is the proleptic Gregorian one without leap seconds:
 * a second 60, which RFC 3501 and RFC 5322 allow, counts as the first
 * second of the next minute, and a day past the end of its month (31-Feb)
 * counts on into the next month, as it always has here.
 *
 * Nothing here calls the C library's time functions (gmtime, timegm,
 * strftime): they cost thousands of instructions a call, which a FETCH of
 * INTERNALDATE pays for every message, and they cannot be tested for
 * every day. The parsers of whole header fields stay with their formats
 * (lib/rfc822.c reads a Date header's tokens, lib/mbox.c a "From " line)
 * and come here for the arithmetic and the names.
 */
#ifndef MAILVAULT_LIB_DATE_H
#define MAILVAULT_LIB_DATE_H

#include <stddef.h>
#include <stdint.h>

/* An IMAP date-time "17-Jul-1996 02:44:25 -0700" and its NUL. */
#define DATE_IMAP_LEN	27
/* The largest zone a "+hhmm" can write: 99 hours 59 minutes. */
#define DATE_ZONE_MAX	(99 * 60 + 59)

/* A time broken down in a zone. */
struct date_tm {
	int64_t		 year;
	unsigned	 mon;		/* 1..12 */
	unsigned	 day;		/* 1..31 */
	unsigned	 hour, min, sec;
	unsigned	 wday;		/* 0 Sunday .. 6 Saturday */
};

/*
 * Days since 1970-01-01 of year y, month m (1..12), day d (1..31; a day
 * past the month's end counts on). Exact for |y| below 10^9.
 */
int64_t	date_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The date of a day number: the inverse of date_days_from_civil(). */
void	date_civil_from_days(int64_t days, int64_t *y_r, unsigned *m_r,
	    unsigned *d_r);
/* Day of the week of a day number: 0 Sunday .. 6 Saturday. */
unsigned date_weekday(int64_t days);
/* The day number on which time t falls in zone tz. */
int64_t	date_day_of(int64_t t, int32_t tz);

/* Break t down in zone tz; every int64_t t and int32_t tz are fine. */
void	date_split(int64_t t, int32_t tz, struct date_tm *tm);
/*
 * The time of tm (its wday is not read) in zone tz. Fields beyond their
 * range count on (second 60 is the next minute's first); the year must
 * be below 10^9 either way.
 */
int64_t	date_join(const struct date_tm *tm, int32_t tz);

/* "Jan".."Dec" for m 1..12; "Sun".."Sat" for wd 0..6. Static strings. */
const char *date_month_name(unsigned m);
const char *date_weekday_name(unsigned wd);
/* The month (1..12) or weekday (0..6) whose name s[0..3) is, in any
 * case; -1 if none. s must have three bytes to read. */
int	date_month_from_name(const char *s);
int	date_weekday_from_name(const char *s);

/*
 * Write t in zone tz as an IMAP date-time (RFC 3501 date-time without
 * its quotes, the day always two digits as Dovecot writes it) and its NUL
 * into out. 0; or -1, out untouched, when the form cannot hold it: a
 * local year outside 0000..9999 or a zone beyond DATE_ZONE_MAX.
 */
int	date_imap_format(int64_t t, int32_t tz, char out[DATE_IMAP_LEN]);

/*
 * Parse an IMAP date-time (RFC 3501 date-time without its quotes), all n
 * bytes of s: "dd-Mon-yyyy hh:mm:ss +zzzz". As servers and clients write
 * it, the day may also be one digit and may follow one space (" 7",
 * "7", "07" and " 07" all read); the month is in any case. Hours 00..23,
 * minutes 00..59, seconds 00..60, day 1..31, year 0000..9999; the zone
 * is a sign and four digits with minutes 00..59. 0 with the UTC time in
 * *t_r and the zone in *tz_r, or -1 (nothing written).
 */
int	date_imap_parse(const char *s, size_t n, int64_t *t_r, int32_t *tz_r);

/*
 * Parse an IMAP SEARCH date (RFC 3501 date-text, without quotes), all n
 * bytes of s: "7-Dec-2026" or "07-Dec-2026". 0 with its day number in
 * *days_r, or -1.
 */
int	date_imap_parse_day(const char *s, size_t n, int64_t *days_r);

#endif
