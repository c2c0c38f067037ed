/*
 * fuzz_maildir: Maildir file names and Maildir++ folder names from the
 * disk are outside input. Parse them, rebuild them, and check that what
 * comes back parses to the same flags, and that a folder name that
 * decodes encodes back to the same name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/maildir.h"
#include "lib/util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = xstrndup((const char *)data, size), *again, *mb, *dir;
	unsigned flags, flags2;
	uint32_t kw, kw2;
	uint64_t v;

	if (maildir_name_parse(name, &flags, &kw, NULL) == 0) {
		again = maildir_name_with_flags(name, flags, kw);
		if (maildir_name_parse(again, &flags2, &kw2, NULL) != 0 ||
		    flags2 != flags || kw2 != kw)
			abort();
		free(again);
		(void)maildir_name_size(name, 'S', &v);
		(void)maildir_name_size(name, 'W', &v);
	}
	if (maildir_folder_to_mailbox(name, &mb) == 0) {
		if (maildir_mailbox_to_folder(mb, &dir) == 0) {
			if (strcmp(dir, name) != 0)
				abort();
			free(dir);
		}
		free(mb);
	}
	free(name);
	return 0;
}
