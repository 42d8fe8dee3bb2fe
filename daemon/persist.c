// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's saved desired state (persist.h). Named persist_*, not
 * state_*: the library has its own state_* (the pinned model document).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "persist.h"

#define STATE_FILE "state.json"

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int persist_init(const char *dir, char *err, size_t errlen)
{
	int r = mkdir_p(dir, 0700);

	if (r)
		snprintf(err, errlen, "cannot create state directory %s: %s",
			 dir, strerror(-r));
	return r;
}

int persist_load(const char *dir, json_t **doc, char *err, size_t errlen)
{
	char path[PATH_MAX], perr[512];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r = 0;

	*doc = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (r != -ENOENT)
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(errno));
		return r;
	}
	{
		FILE *m = open_memstream(&buf, &len);
		char chunk[65536];
		size_t n;

		while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			fwrite(chunk, 1, n, m);
		if (!m || ferror(f)) {
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(errno));
			r = -EIO;
		}
		if (m)
			fclose(m);
	}
	fclose(f);
	if (!r) {
		*doc = doc_parse_json(buf, len, perr, sizeof(perr));
		if (!*doc || !json_is_object(*doc)) {
			snprintf(err, errlen, "%s: %s", path,
				 *doc ? "not a JSON object" : perr);
			json_decref(*doc);
			*doc = NULL;
			r = -EINVAL;
		}
	}
	free(buf);
	return r;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= w;
	}
	return 0;
}

int persist_save(const char *dir, json_t *doc, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	const char *step = "write";
	char *text;
	int fd, dfd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, STATE_FILE);
	text = json_dumps(doc, JSON_INDENT(2));
	if (!text) {
		snprintf(err, errlen, "cannot serialize the state");
		return -ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		step = "create";
		goto out;
	}
	r = write_all(fd, text, strlen(text));
	if (!r)
		r = write_all(fd, "\n", 1);
	/* The data must be on disk before the rename makes it the state,
	 * or a crash could leave an empty state.json behind. */
	if (!r && fsync(fd)) {
		r = -errno;
		step = "fsync";
	}
	close(fd);
	if (!r && rename(tmp, path)) {
		r = -errno;
		step = "rename";
	}
	if (r) {
		unlink(tmp);
		goto out;
	}
	/* And the rename itself must be durable. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		r = -errno;
		step = "fsync directory";
	}
	if (dfd >= 0)
		close(dfd);
out:
	if (r)
		snprintf(err, errlen, "saving state to %s failed (%s): %s",
			 path, step, strerror(-r));
	free(text);
	return r;
}
