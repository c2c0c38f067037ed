/*
 * sync_fake: a scripted in-memory IMAP (and POP3) server that the sync
 * engine's unit tests (tests/unit/test_sync_*.c) hand to the engine as
 * its driver with sync_account_with() (sync/driver.h). Test code: it is
 * built into the test_sync_* binaries only, never into mailvault.
 *
 * Tests build its folders and messages, change them "from another
 * client" between runs, and inject failures: the fake counts steps (each
 * driver call, and each message of a fetch twice: at its start and at its
 * end) and can fail step N as a lost connection, before or after the step
 * took effect, to check that the engine resumes from a crash at every
 * step. The POP3 view is the INBOX: UIDL "u<uidvalidity>.<uid>", DELE
 * applied at disconnect.
 */
#ifndef MAILVAULT_TESTS_SYNC_FAKE_H
#define MAILVAULT_TESTS_SYNC_FAKE_H

#include <stddef.h>
#include <stdint.h>

#include "sync/driver.h"

struct sync_fake;

struct sync_fake *sync_fake_new(unsigned caps);
void	sync_fake_free(struct sync_fake **f);
/* A new driver on f (free with its ops->free; f must outlive it). */
struct sync_driver *sync_fake_driver(struct sync_fake *f,
	    enum sync_proto proto);
void	sync_fake_set_caps(struct sync_fake *f, unsigned caps);

/* Folders: 0, or -1 (exists / not there). INBOX exists from the start. */
int	sync_fake_folder_add(struct sync_fake *f, const char *name,
	    unsigned special_use);
int	sync_fake_folder_rename(struct sync_fake *f, const char *from,
	    const char *to);
int	sync_fake_folder_delete(struct sync_fake *f, const char *name);
int	sync_fake_folder_exists(struct sync_fake *f, const char *name);
/* Give the folder a new UIDVALIDITY and renumber its messages from 1,
 * as a server does when a folder is recreated. */
int	sync_fake_folder_reset(struct sync_fake *f, const char *name);
/* Give a folder this UIDVALIDITY (Cyrus gives folders made in the same
 * second the same one). */
int	sync_fake_folder_set_uidvalidity(struct sync_fake *f, const char *name,
	    uint32_t uidvalidity);
/* Answer every CREATE of name with an error of kind instead (NOPERM: a
 * refusal; EXISTS: a server that claims it is there and is wrong). */
int	sync_fake_create_refuse(struct sync_fake *f, const char *name,
	    enum sync_errkind kind);
/* Answer the next times DELETEs of name with a NO that reads as "not
 * there" and delete nothing, as Cyrus refuses a second DELETE of a name
 * within a second. */
int	sync_fake_folder_undeletable(struct sync_fake *f, const char *name,
	    int times);
/* Leave a folder out of LIST (on) or list it again (off), as a server
 * whose LIST misses a folder that is there. */
int	sync_fake_folder_unlisted(struct sync_fake *f, const char *name, int on);
/* Turn MODSEQs off for a folder (NOMODSEQ). */
int	sync_fake_folder_nomodseq(struct sync_fake *f, const char *name);
/* Refuse to give message uid's bytes the next times times a fetch asks
 * for them (negative: always; 0: give them again), as a server that
 * answers NO for one message: the fetch skips it and goes on. */
int	sync_fake_msg_refuse(struct sync_fake *f, const char *folder,
	    uint32_t uid, int times);

/* Leave message uid out of the next times fetches without bytes (a
 * FLAGS scan), as a server that skips a message it still has. */
int	sync_fake_msg_hide(struct sync_fake *f, const char *folder, uint32_t uid,
	    int times);

/* Messages. kw: keywords separated by spaces, or NULL. add returns the new
 * UID, 0 if the folder is not there. */
uint32_t sync_fake_msg_add(struct sync_fake *f, const char *folder,
	    const void *data, size_t len, uint32_t flags, const char *kw,
	    int64_t internaldate);
int	sync_fake_msg_set_flags(struct sync_fake *f, const char *folder,
	    uint32_t uid, uint32_t flags, const char *kw);
int	sync_fake_msg_expunge(struct sync_fake *f, const char *folder,
	    uint32_t uid);
/* Inspect: the number of messages; the i-th (0-based, by UID) message's
 * UID, flags, keywords (space-separated, sorted; static until the next
 * call) and bytes (borrowed). -1 / NULL if out of range. */
size_t	sync_fake_msg_count(struct sync_fake *f, const char *folder);
int	sync_fake_msg_at(struct sync_fake *f, const char *folder, size_t i,
	    uint32_t *uid_r, uint32_t *flags_r, const char **kw_r,
	    const void **data_r, size_t *len_r);

/* Fail step n (1-based, counted from now; 0: never) as a lost
 * connection; with after set, the step's effect happens first. */
void	sync_fake_fail_at(struct sync_fake *f, long n, int after);
/* Steps counted since the last sync_fake_fail_at() (or creation). */
long	sync_fake_steps(struct sync_fake *f);
/* How many times an operation ran ("append", "copy", "fetch", ...). */
unsigned sync_fake_calls(struct sync_fake *f, const char *op);

#endif
