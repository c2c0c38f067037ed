/*
 * mime_int: what the files of the mime module share and nobody else uses.
 */
#ifndef MAILVAULT_LIB_MIME_INT_H
#define MAILVAULT_LIB_MIME_INT_H

#include "lib/mime.h"

/*
 * Read the Content-* (and, for a message header, envelope) fields of a
 * header block into part. A field already set is kept (the first
 * occurrence wins), so this may be called on several pieces of one header.
 */
void	mime_hdr_fields(struct mime_part *part, const char *hdr, size_t len);
/* Fill in the RFC 2045/2046 defaults once all fields are read. */
void	mime_hdr_defaults(struct mime_part *part, int digest_child);
/* Whether a field of this name is one mime_hdr_fields() reads. */
int	mime_hdr_interesting(const char *name, size_t len);
/* Free the contents of a part (not its children, not the struct). */
void	mime_part_clear(struct mime_part *part);
void	mime_params_free(struct mime_param *p, size_t n);
/* The value of a hex digit (either case), or -1. */
int	mime_hexval(int c);

#endif
