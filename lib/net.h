/*
 * net: plain socket helpers shared by the listeners, the sessions and the
 * upstream clients: a connect with a deadline whose failures read as
 * sentences, the loopback rules the server enforces, and a poll()-based
 * wait that a session can interrupt from another thread.
 *
 * A session blocks on its socket and, at the same time, on up to two other
 * descriptors: a wake-up descriptor (the store's change feed, for IDLE)
 * and a cancel descriptor (the listener's shutdown descriptor). Either of
 * them becoming readable ends the wait with its own code, so a session
 * thread reads top to bottom and still stops promptly. These descriptors
 * are level-triggered: net never reads from them; whoever is woken drains
 * its own wake-up descriptor.
 *
 * Timeouts are in milliseconds; a negative timeout waits forever, 0 does
 * not wait at all. Like the rest of lib/, nothing here logs or exits.
 */
#ifndef MAILVAULT_LIB_NET_H
#define MAILVAULT_LIB_NET_H

#include <stddef.h>
#include <sys/socket.h>

/* Results of the waiting functions (lib/tls.h reuses the same values). */
#define NET_EIO		(-1)	/* the socket failed; errno says why */
#define NET_ETIMEOUT	(-2)	/* the timeout passed first */
#define NET_EWAKE	(-3)	/* the wake-up descriptor became readable */
#define NET_ECANCEL	(-4)	/* the cancel descriptor became readable */

/* Longest text net_format_addr() writes, NUL included. */
#define NET_ADDRSTRLEN	64

/*
 * Resolve host (a name or a numeric address) and connect to port, trying
 * each address in turn, all within timeout_ms in total. Returns a
 * connected, blocking, close-on-exec socket the caller owns, or -1 with a
 * sentence in err: "host not found: X", "connection refused by X:993",
 * "timed out connecting to X:993 after 30 s", ...
 */
int	net_connect(const char *host, unsigned port, int timeout_ms,
	    char *err, size_t errlen);

/* 1 if sa is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
int	net_is_loopback_addr(const struct sockaddr *sa);

/*
 * Parse an address the server is told to listen on and fill *ss_r and
 * *len_r with it and port. Accepts any address in 127.0.0.0/8, "::1",
 * "[::1]" and "localhost" (which means 127.0.0.1). Anything else is
 * refused with -1 and a sentence: "mailvault only listens on loopback;
 * 0.0.0.0 is not a loopback address".
 */
int	net_parse_listen_addr(const char *addr, unsigned port,
	    struct sockaddr_storage *ss_r, socklen_t *len_r,
	    char *err, size_t errlen);

/*
 * Write sa as "127.0.0.1:1143" or "[::1]:1143" (no port when it is 0)
 * into out, at most outlen bytes (NET_ADDRSTRLEN is always enough).
 */
void	net_format_addr(const struct sockaddr *sa, char *out, size_t outlen);

/* Set or clear O_NONBLOCK. 0, or -1 with errno set. */
int	net_set_nonblock(int fd, int on);

/*
 * Wait until fd is ready for events (POLLIN, POLLOUT), wake_fd or
 * cancel_fd is readable, or timeout_ms passes. wake_fd and cancel_fd may
 * be -1. Returns 1 when fd is ready (an error or hang-up on fd counts as
 * ready, so the following read or write reports it), else NET_ECANCEL,
 * NET_EWAKE, NET_ETIMEOUT or NET_EIO; when several hold at once cancel
 * wins, then fd, then wake.
 */
int	net_wait(int fd, short events, int timeout_ms, int wake_fd,
	    int cancel_fd);

/*
 * Read what is there, up to n bytes, waiting as net_wait() does. Returns
 * the number of bytes read (> 0), 0 at end of file, or a NET_E* code.
 * Works on blocking and non-blocking sockets alike.
 */
long	net_read(int fd, void *buf, size_t n, int timeout_ms, int wake_fd,
	    int cancel_fd);

/*
 * Write all n bytes within timeout_ms in total. Returns 0, or NET_EIO,
 * NET_ETIMEOUT, NET_ECANCEL. On a socket, a peer that went away is
 * NET_EIO (errno EPIPE), never a SIGPIPE (a pipe still raises it).
 */
int	net_write_all(int fd, const void *buf, size_t n, int timeout_ms,
	    int cancel_fd);

#endif
