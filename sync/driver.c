/*
 * driver: the small shared pieces of the upstream interface (driver.h):
 * filling a struct sync_error, naming an error kind, and freeing the lists
 * that list_folders() and pop3_list() return. Every driver and the engine
 * use these, so errors read the same whoever made them.
 */
#include "sync/driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>

#include "lib/util.h"

int
sync_error_set(struct sync_error *err, enum sync_scope scope,
    enum sync_retry retry, enum sync_errkind kind, const char *fmt, ...)
{
	va_list ap;

	err->scope = scope;
	err->retry = retry;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
sync_errkind_name(enum sync_errkind kind)
{
	static const char *const names[] = {
		[SYNC_EK_OTHER] = "error",
		[SYNC_EK_HOST] = "host not found",
		[SYNC_EK_CONNECT] = "connection refused",
		[SYNC_EK_NET] = "connection lost",
		[SYNC_EK_TIMEOUT] = "timeout",
		[SYNC_EK_TLS] = "tls",
		[SYNC_EK_AUTH] = "authentication",
		[SYNC_EK_PROTOCOL] = "protocol",
		[SYNC_EK_NONEXISTENT] = "nonexistent",
		[SYNC_EK_EXISTS] = "exists",
		[SYNC_EK_BADNAME] = "bad name",
		[SYNC_EK_NOPERM] = "permission",
		[SYNC_EK_TOOBIG] = "too big",
		[SYNC_EK_QUOTA] = "over quota",
		[SYNC_EK_UNSUPPORTED] = "unsupported",
		[SYNC_EK_CANCELLED] = "cancelled",
		[SYNC_EK_STOPPED] = "stopped",
		[SYNC_EK_LOCAL] = "local",
	};

	if ((size_t)kind >= ARRAY_SIZE(names) || names[kind] == NULL)
		return "error";
	return names[kind];
}

void
sync_folder_list_free(struct sync_folder **list, size_t n)
{
	free_records(*list, n, sizeof(**list),
	    offsetof(struct sync_folder, name));
	*list = NULL;
}

void
sync_pop3_list_free(struct sync_pop3_msg **list, size_t n)
{
	free_records(*list, n, sizeof(**list),
	    offsetof(struct sync_pop3_msg, uidl));
	*list = NULL;
}
