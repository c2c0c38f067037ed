/*
 * buf: a growable byte buffer with a hard maximum set when it is made.
 *
 * Every buffer that holds outside input has a limit, so a peer or a mail
 * file can never make us allocate without bound: an append past the limit
 * fails and leaves the buffer as it was. The contents are always followed
 * by a NUL byte (not counted in len), so text can be used as a C string.
 */
#ifndef MAILVAULT_LIB_BUF_H
#define MAILVAULT_LIB_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;		/* owned; NULL until the first append */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* len never exceeds this */
};

/* Start an empty buffer that may hold at most max bytes. */
void	buf_init(struct buf *b, size_t max);
/* Free the contents; the buffer can be used again (empty, same max). */
void	buf_free(struct buf *b);
/* Empty the buffer and keep its memory. */
void	buf_reset(struct buf *b);

/* Append. 0 on success, -1 if the result would exceed max (nothing added). */
int	buf_add(struct buf *b, const void *p, size_t n);
int	buf_addc(struct buf *b, char c);
int	buf_adds(struct buf *b, const char *s);
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Drop the first n bytes (n <= len), moving the rest to the front. */
void	buf_consume(struct buf *b, size_t n);

/*
 * Hand the contents to the caller, who frees them with free(); the buffer
 * is left empty. Never NULL: an empty buffer gives "".
 */
char	*buf_steal(struct buf *b, size_t *len_r);

#endif
