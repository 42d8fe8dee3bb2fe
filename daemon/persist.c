// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon's saved desired state (persist.h). Named persist_*, not
 * state_*: the library has its own state_* (the pinned model document).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doc.h"
#include "persist.h"

#define STATE_FILE "state.json"
#define JOURNAL_FILE "state.journal"

/* FNV-1a of state.json's text: the journal names the file it extends, so
 * that records older than the file (a compaction killed before it removed
 * the journal) are never replayed over it. */
static uint64_t text_hash_more(uint64_t h, const char *p, size_t n)
{
	while (n--) {
		h ^= (uint8_t)*p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t text_hash(const char *p, size_t n)
{
	return text_hash_more(0xcbf29ce484222325ull, p, n);
}

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
	/* Held for the daemon's life: two daemons (other sockets, other pin
	 * roots) saving into one directory would each replay the other's
	 * journal over its own state. The directory itself is locked, not a
	 * file in it, so a read-only state directory still starts. */
	static int lock = -1;
	int r = mkdir_p(dir, 0700);

	if (r) {
		snprintf(err, errlen, "cannot create state directory %s: %s",
			 dir, strerror(-r));
		return r;
	}
	if (lock >= 0)
		return 0;
	lock = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) &&
	    errno == EWOULDBLOCK) {
		snprintf(err, errlen,
			 "another nfchaind saves its state in %s: give each "
			 "daemon its own --state-dir",
			 dir);
		close(lock);
		lock = -1;
		return -EBUSY;
	}
	return 0;
}

/*
 * The journal: state.journal, one line a change of one collection entry,
 * after a first line {"base": "<hash of state.json>"} that says which
 * state.json it extends. A record is {"nf", "coll", "key", "value"},
 * value null for a deletion; each is fsync'd before the change is
 * answered, so one change costs one small write, not a rewrite of the
 * whole state. A last line cut short (a crash in the middle of a write) is
 * ignored; the next append writes over it.
 */
static struct {
	uint64_t base;	    /* hash of state.json as last read or written */
	uint64_t state_len; /* its size */
	uint64_t jlen;	    /* bytes of whole records in the journal (0:
			     * none, or one to start again) */
	bool exists;	    /* state.journal is in the directory, durably:
			     * a new journal is written over it without a
			     * directory fsync */
	bool tail;	    /* bytes past jlen may be there (a record cut
			     * short by a crash): cut them at the next append */
	uint64_t disk_base; /* the state.json the journal on disk names (0:
			     * none): a save that writes that very text again
			     * must empty it, or its records come back */
} jr;

/* An NF's own fields (config, mode, ports...: all but its collections)
 * replaced by those of a record, its collections kept. */
static void apply_nf_fields(json_t *doc, const char *nf, json_t *fields)
{
	json_t *nfs = json_object_get(doc, "nfs"), *n, *o;
	size_t i;

	json_array_foreach (nfs, i, n) {
		if (strcmp(json_string_value(json_object_get(n, "name")) ?: "",
			   nf))
			continue;
		o = json_copy(fields);
		if (!o)
			return;
		if (json_object_get(n, "collections"))
			json_object_set(o, "collections",
					json_object_get(n, "collections"));
		json_array_set_new(nfs, i, o);
		return;
	}
}

/* A record applied to the document: what the export would show after
 * the change (collections and the collection made as needed). */
void persist_apply(json_t *doc, json_t *rec)
{
	const char *nf = json_string_value(json_object_get(rec, "nf")),
		   *coll = json_string_value(json_object_get(rec, "coll")),
		   *key = json_string_value(json_object_get(rec, "key"));
	json_t *v = json_object_get(rec, "value"), *n, *cs, *c;
	size_t i;

	if (nf && json_is_object(json_object_get(rec, "nf_fields"))) {
		apply_nf_fields(doc, nf, json_object_get(rec, "nf_fields"));
		return;
	}
	if (!nf || !coll || !key)
		return;
	json_array_foreach (json_object_get(doc, "nfs"), i, n) {
		if (strcmp(json_string_value(json_object_get(n, "name")) ?: "",
			   nf))
			continue;
		cs = json_object_get(n, "collections");
		if (!cs && json_is_object(v))
			json_object_set_new(n, "collections",
					    cs = json_object());
		c = json_object_get(cs, coll);
		if (!c && json_is_object(v))
			json_object_set_new(cs, coll, c = json_object());
		if (json_is_object(v))
			json_object_set(c, key, v);
		else
			json_object_del(c, key);
		return;
	}
}

static void journal_replay(const char *dir, json_t *doc)
{
	char path[PATH_MAX], *line = NULL, want[32];
	size_t cap = 0;
	ssize_t n;
	uint64_t off = 0;
	json_t *rec;
	FILE *f;

	jr.jlen = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	f = fopen(path, "re");
	if (!f)
		return;
	jr.exists = jr.tail = true;
	snprintf(want, sizeof(want), "%016llx", (unsigned long long)jr.base);
	for (int first = 1; (n = getline(&line, &cap, f)) > 0; first = 0) {
		if (line[n - 1] != '\n')
			break; /* cut short */
		rec = json_loadb(line, n, 0, NULL);
		if (!rec)
			break;
		if (first) {
			const char *b =
				json_string_value(json_object_get(rec, "base"));
			bool ours = b && !strcmp(b, want);

			jr.disk_base = b ? strtoull(b, NULL, 16) : 0;

			json_decref(rec);
			if (!ours)
				break; /* older than state.json */
		} else {
			persist_apply(doc, rec);
			json_decref(rec);
		}
		off += n;
		jr.jlen = off;
	}
	free(line);
	fclose(f);
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
	if (!r) {
		jr.base = text_hash(buf, len);
		jr.state_len = len;
		journal_replay(dir, *doc);
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
	if (!r) {
		/* The journal's records are in the new file now. It is left
		 * in place: it names the old file, so it is ignored, and the
		 * next journal is written over it without making a new name
		 * durable (persist_end removes it at a clean stop). Unless
		 * the new file is the very text it names (an entry added,
		 * then an apply of the document from before it): replayed
		 * over it, the records brought the entry back (found by a
		 * helper). Then it is emptied first. */
		uint64_t h = text_hash(text, strlen(text));

		h = text_hash_more(h, "\n", 1);
		if (jr.exists && jr.disk_base && h == jr.disk_base) {
			char jp[PATH_MAX];
			int jfd;

			snprintf(jp, sizeof(jp), "%s/%s", dir, JOURNAL_FILE);
			jfd = open(jp, O_WRONLY | O_TRUNC | O_CLOEXEC);
			if (jfd < 0 && errno == ENOENT) {
				jr.disk_base = 0;
			} else if (jfd < 0 || fsync(jfd)) {
				r = -errno;
				step = "empty the journal";
			} else {
				jr.disk_base = 0;
			}
			if (jfd >= 0)
				close(jfd);
		}
		jr.state_len = strlen(text) + 1;
		jr.base = h;
		jr.jlen = 0;
	}
out:
	if (r)
		snprintf(err, errlen, "saving state to %s failed (%s): %s",
			 path, step, strerror(-r));
	free(text);
	return r;
}

uint64_t persist_journal_len(void)
{
	return jr.jlen;
}

void persist_end(const char *dir)
{
	char path[PATH_MAX];

	if (jr.jlen)
		return; /* state.json alone would miss its records */
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	if (!unlink(path))
		jr.exists = false;
}

int persist_append_rec(const char *dir, json_t *o, char *err, size_t errlen)
{
	char path[PATH_MAX], *rec, *head = NULL;
	const char *step = "journal write";
	size_t len, hlen = 0;
	int fd, r = 0;

	/* Every change is one record, whatever the size of the state: one
	 * write and one fdatasync, where a rewrite of state.json costs two
	 * fsyncs and a directory fsync even for a small one. The journal is
	 * folded into state.json when it outgrows a quarter of it (and the
	 * floor): that keeps the cost per change bounded on average and the
	 * replay at start short. */
	static long min = -1;

	if (min < 0) {
		/* NFD_JOURNAL_MIN: another floor, for tests of the folding. */
		const char *e = getenv("NFD_JOURNAL_MIN");

		min = e ? atol(e) : PERSIST_JOURNAL_MIN;
	}
	rec = o ? json_dumps(o, JSON_COMPACT) : NULL;
	if (!rec) {
		snprintf(err, errlen, "cannot serialize the change");
		return -ENOMEM;
	}
	len = strlen(rec);
	rec[len++] = '\n'; /* json_dumps leaves room: the NUL */
	if (jr.jlen + len > jr.state_len / 4 && jr.jlen + len > (uint64_t)min) {
		free(rec);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, JOURNAL_FILE);
	if (!jr.jlen) {
		hlen = asprintf(&head, "{\"base\":\"%016llx\"}\n",
				(unsigned long long)jr.base);
		if ((int)hlen < 0) {
			free(rec);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		jr.tail = false;
	} else {
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		r = -errno;
		step = "create";
		goto out;
	}
	/* Over a record cut short by a crash, if any; cut, so that no part
	 * of it outlives a shorter record written over it. */
	if (jr.jlen && lseek(fd, jr.jlen, SEEK_SET) < 0)
		r = -errno;
	if (!r && jr.tail && ftruncate(fd, jr.jlen))
		r = -errno;
	if (!r && head)
		r = write_all(fd, head, hlen);
	if (!r)
		r = write_all(fd, rec, len);
	/* fdatasync: the size is written too, the times need not be. */
	if (!r && fdatasync(fd)) {
		r = -errno;
		step = "journal fsync";
	}
	if (r) {
		/* No half record left behind for the next append to follow. */
		if (ftruncate(fd, jr.jlen)) {
		}
	} else if (head && !jr.exists) {
		/* A new file: its name must be durable too. */
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0 || fsync(dfd)) {
			r = -errno;
			step = "fsync directory";
		}
		if (dfd >= 0)
			close(dfd);
	}
	close(fd);
	if (!r) {
		jr.jlen += hlen + len;
		jr.exists = true;
		jr.tail = false;
		if (head)
			jr.disk_base = jr.base;
	}
out:
	if (r)
		snprintf(err, errlen, "saving state to %s/%s failed (%s): %s",
			 dir, JOURNAL_FILE, step, strerror(-r));
	free(head);
	free(rec);
	return r;
}
