// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The API's sockets: the unix socket (0600 from its creation, refusing to
 * take over one a live daemon answers on) and, when asked, TCP with a
 * bearer token read from a file.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

static int mkdir_parent(const char *path)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int socket_answers(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd < 0)
		return 0;
	r = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return r;
}

/* One lock file a pin root: its path with '/' as '_'. */
static void lock_path(const char *pin_root, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/pin", NFD_LOCK_DIR);

	for (const char *p = pin_root; *p && n < (int)len - 6; p++)
		path[n++] = *p == '/' ? '_' : *p;
	snprintf(path + n, len - n, ".lock");
}

/* Held only while the file is still the one at `path`: a daemon that
 * stopped unlinks it, so one that opened it just before would lock a file
 * nobody else sees. */
static int lock_is_current(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

int daemon_claim(const char *sock, const char *pin_root, char *err,
		 size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[PATH_MAX], pid[32] = "";
	int fd, n, tries = 0;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (socket_answers(&sa)) {
		snprintf(err, errlen, "another nfchaind is serving %s", sock);
		return -EADDRINUSE;
	}
	lock_path(pin_root, path, sizeof(path));
	if (mkdir(NFD_LOCK_DIR, 0755) && errno != EEXIST)
		return -2; /* no lock here (a read-only /run): not refused */
again:
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -2;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t l = pread(fd, pid, sizeof(pid) - 1, 0);

		pid[l > 0 ? l : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		snprintf(err, errlen,
			 "another nfchaind (pid %s) manages the pin root %s",
			 *pid ? pid : "?", pin_root);
		close(fd);
		return -EBUSY;
	}
	if (!lock_is_current(fd, path)) {
		close(fd);
		if (++tries < 10)
			goto again;
		return -2;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	/* The pid is only for the message: not written, not refused. */
	if (!ftruncate(fd, 0))
		n = (int)pwrite(fd, pid, n, 0);
	return fd;
}

void daemon_release(int fd, const char *pin_root)
{
	char path[PATH_MAX];

	if (fd < 0)
		return;
	/* Unlinked while still held: a daemon starting now either fails to
	 * lock this file or finds it gone and makes a new one. */
	lock_path(pin_root, path, sizeof(path));
	if (lock_is_current(fd, path))
		unlink(path);
	close(fd);
}

int daemon_listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path %s is longer than %zu bytes",
			 path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if ((r = mkdir_parent(path))) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
			 path, strerror(-r));
		return r;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A socket file left by a daemon that died is removed; one that
	 * answers belongs to a running daemon. */
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "another nfchaind is serving %s", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* Created 0600 from the start: there is no moment in which another
	 * user could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r || chmod(path, 0600) || listen(fd, SOMAXCONN)) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", path,
			 strerror(errno));
		close(fd);
		return r;
	}
	return fd;
fail:
	r = -errno;
	snprintf(err, errlen, "cannot create a unix socket: %s",
		 strerror(errno));
	return r;
}

/* --listen's ADDRESS:PORT as an address to bind (*ai, freeaddrinfo). */
static int listen_addr(const char *spec, struct addrinfo **aip, char *err,
		       size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	char host[128], *port;
	int r;

	snprintf(host, sizeof(host), "%s", spec);
	port = strrchr(host, ':');
	if (!port || port == host) {
		snprintf(err, errlen,
			 "--listen %s: expected ADDRESS:PORT "
			 "(127.0.0.1:8080 or [::1]:8080)",
			 spec);
		return -EINVAL;
	}
	*port++ = 0;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	/* getaddrinfo takes 99999 and listens on 99999 - 65536 (found by a
	 * helper): the port is checked here. */
	{
		char *end;
		unsigned long pn = strtoul(port, &end, 10);

		if (!*port || *end || port[0] == '-' || port[0] == '+' ||
		    pn < 1 || pn > 65535) {
			snprintf(err, errlen,
				 "--listen %s: port '%s' is not a number "
				 "from 1 to 65535",
				 spec, port);
			return -EINVAL;
		}
	}
	r = getaddrinfo(host, port, &hints, aip);
	if (r) {
		snprintf(err, errlen, "--listen %s: %s", spec, gai_strerror(r));
		return -EINVAL;
	}
	return 0;
}

int daemon_listen_check(const char *spec, char *err, size_t errlen)
{
	struct addrinfo *ai = NULL;
	int r = listen_addr(spec, &ai, err, errlen);

	if (!r)
		freeaddrinfo(ai);
	return r;
}

int daemon_listen_tcp(const char *spec, char *err, size_t errlen)
{
	struct addrinfo *ai = NULL;
	int fd, r, one = 1;

	r = listen_addr(spec, &ai, err, errlen);
	if (r)
		return r;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, SOMAXCONN)) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", spec,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return r;
	}
	freeaddrinfo(ai);
	return fd;
}

char *daemon_read_token(const char *path, char *err, size_t errlen)
{
	char buf[512];
	struct stat st;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		snprintf(err, errlen, "cannot read token file %s: %s", path,
			 strerror(errno));
		return NULL;
	}
	/* A directory opens and reads nothing: it was told it held too
	 * short a token, and that it was readable by others. */
	if (fstat(fileno(f), &st))
		st.st_mode = S_IFREG;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "token file %s: not a regular file (%s): give the "
			 "file that holds the token",
			 path, S_ISDIR(st.st_mode) ? "a directory" : "special");
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (st.st_mode & 077)
		nfd_log("warn", "token", "file=%s msg=%s", nfd_q(path),
			nfd_q("the token file is readable by other users; "
			      "chmod 600 it"));
	fclose(f);
	buf[n] = 0;
	/* The first line without the blanks that end it, as nfchain reads
	 * it (cli/main.c read_token): this trimmed only a file with no
	 * final newline, the CLI never, and the same file let curl in and
	 * refused nfchain (found by a helper). */
	buf[strcspn(buf, "\r\n")] = 0;
	n = strlen(buf);
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = 0;
	if (strlen(buf) < 16) {
		snprintf(err, errlen,
			 "token file %s: the token must be at "
			 "least 16 characters on its first line",
			 path);
		return NULL;
	}
	return strdup(buf);
}
