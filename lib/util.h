/*
 * util: the few helpers every module needs and libc lacks.
 *
 * Out of memory is not a condition mailvault recovers from: the x*
 * allocators abort with a message instead of returning NULL, so callers
 * never carry an error path for it. Everything else in lib/ reports errors
 * by return value and never logs or exits.
 */
#ifndef MAILVAULT_LIB_UTIL_H
#define MAILVAULT_LIB_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocate or abort. The caller owns the result and frees it with free(). */
void	*xmalloc(size_t n);
void	*xcalloc(size_t nmemb, size_t size);
void	*xrealloc(void *p, size_t n);
/* Grow an array of nmemb elements of size bytes to at least min elements. */
void	*xreallocarray(void *p, size_t nmemb, size_t size);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Free an array of n records of size bytes that each own one string, the
 * member at byte offset str_at (offsetof()), then the array; v may be
 * NULL. The lists of named things that store/ and sync/ hand out (accounts,
 * mailboxes, folders, UIDLs) are freed with it, so their *_list_free()
 * functions only name their type.
 */
void	free_records(void *v, size_t n, size_t size, size_t str_at);

/*
 * Format into a caller-supplied error buffer (may be NULL or of size 0).
 * Returns rc, so an error path reads `return seterr(err, len, -1, "...")`.
 */
int	seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));

/* Case-insensitive ASCII comparison, independent of the locale. */
int	ascii_strcasecmp(const char *a, const char *b);
int	ascii_strncasecmp(const char *a, const char *b, size_t n);

/*
 * Parse a decimal unsigned number that fills the whole of s and is at most
 * max. Returns 0 and sets *v_r, or -1 on anything else.
 */
int	parse_u64(const char *s, uint64_t max, uint64_t *v_r);

/* Monotonic clock in milliseconds. */
int64_t	now_ms(void);

/* Binary search in the n ascending numbers of v: the first index whose
 * number is >= x (n if none is), and whether x is there. */
size_t	u32_lower_bound(const uint32_t *v, size_t n, uint32_t x);
int	u32_sorted_has(const uint32_t *v, size_t n, uint32_t x);

#endif
