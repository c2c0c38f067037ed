/*
 * maildir: the pure parts of reading and writing Maildir and Maildir++.
 *
 * File names: a message in cur/ is "UNIQUE:2,FLAGS", where FLAGS are the
 * letters of the set flags in ASCII order: D draft, F flagged, P passed
 * (resent/bounced), R replied (IMAP \Answered), S seen, T trashed (IMAP
 * \Deleted), then lowercase letters a..z, which Dovecot uses as indexes
 * into the folder's dovecot-keywords file. A message in new/ has no
 * ":2," part yet. UNIQUE identifies the message for as long as it lives;
 * Dovecot may put ",S=<size>" (file size) and ",W=<size>" (size with CRLF
 * line ends) in it.
 *
 * Folders (Maildir++): a folder is a directory ".A.B" beside cur/new/tmp of
 * the root (the INBOX); '.' is the hierarchy separator on disk, '/' in the
 * mailbox name we show, and each name is in modified UTF-7 on disk (as
 * Dovecot writes it), UTF-8 in the store. A name part containing '.'
 * cannot be stored and is refused.
 *
 * Line ends: files on disk use LF, the store keeps CRLF. The two
 * converters work on pieces of any size with a small state.
 *
 * Nothing here does I/O.
 */
#ifndef MAILVAULT_LIB_MAILDIR_H
#define MAILVAULT_LIB_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/buf.h"

/* Flag bits, one per Maildir letter. */
#define MAILDIR_DRAFT	0x01	/* D */
#define MAILDIR_FLAGGED	0x02	/* F */
#define MAILDIR_PASSED	0x04	/* P */
#define MAILDIR_REPLIED	0x08	/* R: \Answered */
#define MAILDIR_SEEN	0x10	/* S */
#define MAILDIR_TRASHED	0x20	/* T: \Deleted */

/* Longest flags string, with its NUL: "DFPRST" and a..z. */
#define MAILDIR_FLAGS_MAX	(6 + 26 + 1)

#define MAILDIR_EINVAL	(-1)	/* not a valid name */

/*
 * Parse the name of a message file (no directory part). 0: *flags_r gets
 * the flag bits, *kw_r the keyword letters (bit i for 'a' + i), and
 * *unique_len_r the length of the unique part (before ":"). A name without
 * ":2," has no flags; unknown uppercase letters and any "2," info after
 * other characters are ignored. MAILDIR_EINVAL: empty, starting with '.',
 * or containing '/' (not a message file). Any out-pointer may be NULL.
 */
int	maildir_name_parse(const char *name, unsigned *flags_r, uint32_t *kw_r,
	    size_t *unique_len_r);

/*
 * Dovecot's size fields in the unique part: key 'S' (file size) or 'W'
 * (size with CRLF). 0 and *v_r, or -1 when absent or malformed.
 */
int	maildir_name_size(const char *name, char key, uint64_t *v_r);

/*
 * The flag letters of flags and kw, in ASCII order, NUL-terminated.
 * Returns the length; out must have MAILDIR_FLAGS_MAX bytes.
 */
size_t	maildir_flags_format(unsigned flags, uint32_t kw,
	    char out[MAILDIR_FLAGS_MAX]);

/*
 * A new file name "SEC.M<usec>P<pid>Q<counter>.HOST" (Dovecot's form:
 * unique if the counter is unique in the process), with ",S=<size>" when
 * size is not (uint64_t)-1, and ":2,FLAGS" if info is non-zero (for cur/;
 * a file for new/ has no info). In host, '/' and ':' become "\057" and
 * "\072" as the Maildir spec asks, and a ',' becomes "\054" so the size
 * fields stay readable. The caller frees the result.
 */
char	*maildir_name_new(time_t sec, long usec, long pid,
	    unsigned long counter, const char *host, uint64_t size, int info,
	    unsigned flags, uint32_t kw);

/*
 * The same message with other flags: the unique part of name followed by
 * ":2," and the letters of flags and kw. Letters in name that flags and kw
 * cannot express (unknown uppercase ones) are dropped. The caller frees.
 */
char	*maildir_name_with_flags(const char *name, unsigned flags, uint32_t kw);

/*
 * Maildir++ folder directory name <-> mailbox name.
 * to_mailbox: ".Work.Projects" -> "Work/Projects", with each part decoded
 * from modified UTF-7 to UTF-8. to_folder: the reverse. 0 and a new string
 * in *r (the caller frees it), or MAILDIR_EINVAL: not a folder name ("",
 * ".", "..", a name not starting with '.', an empty part, bad mUTF-7) or,
 * for to_folder, a mailbox name with an empty part, a '.' or a byte the
 * encoding refuses.
 */
int	maildir_folder_to_mailbox(const char *dir, char **r);
int	maildir_mailbox_to_folder(const char *mailbox, char **r);

/* State of a line-end conversion; start it zeroed. */
struct maildir_eol {
	int	cr;		/* the last byte seen was a CR */
};

/*
 * File form (LF) to wire form (CRLF): an LF not preceded by CR becomes
 * CRLF; a CRLF stays. Pieces of any size; out grows by at most 2 * n.
 * 0, or -1 if out would pass its maximum (the conversion is then broken).
 */
int	maildir_to_crlf(struct maildir_eol *st, const void *p, size_t n,
	    struct buf *out);

/*
 * Wire form (CRLF) to file form (LF): CRLF becomes LF, a lone CR stays.
 * A CR at the end of a piece is held until the next byte is seen:
 * call maildir_to_lf_end() after the last piece. 0, or -1 as above.
 */
int	maildir_to_lf(struct maildir_eol *st, const void *p, size_t n,
	    struct buf *out);
int	maildir_to_lf_end(struct maildir_eol *st, struct buf *out);

#endif
