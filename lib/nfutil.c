// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Plumbing every NF's control plane needs, written once (nfchain/nf.h):
 * per-CPU sums, MAC text, the clock, config values, and the `changed`
 * hook the runtime calls after every operation of an NF.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"

unsigned nfc_ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? (unsigned)n : 1;
}

/* One lookup returns every CPU's copy, each `value_size` bytes apart. */
static void *percpu_get(int fd, uint32_t key, size_t value_size, size_t off)
{
	void *v;

	if (fd < 0 || off + sizeof(uint64_t) > value_size || value_size % 8) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(nfc_ncpus(), value_size);
	if (v && bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		return NULL;
	}
	return v;
}

uint64_t nfc_percpu_sum(int fd, uint32_t key, size_t value_size, size_t off)
{
	char *v = percpu_get(fd, key, value_size, off);
	uint64_t sum = 0, x;

	if (!v)
		return 0;
	for (unsigned c = 0; c < nfc_ncpus(); c++) {
		memcpy(&x, v + c * value_size + off, sizeof(x));
		sum += x;
	}
	free(v);
	return sum;
}

/*
 * Entries first..first+n-1 of an array map, `stride` bytes apart in vals
 * (a per-CPU value is every CPU's copy): one batched lookup, since a
 * lookup a key costs a syscall each; entry by entry where the kernel
 * refuses batches. An entry that cannot be read is left as it was.
 */
static int array_batch(int fd, __u32 first, __u32 n, void *vals, size_t stride)
{
	__u32 cnt = n, prev = first - 1, out, *keys;
	int whole;

	if (fd < 0)
		return -EBADF;
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	/* An array's batch starts after the key it is given (none: at 0)
	 * and ends with ENOENT at the end of the map. */
	whole = (!bpf_map_lookup_batch(fd, first ? &prev : NULL, &out, keys,
				       vals, &cnt, NULL) ||
		 errno == ENOENT) &&
		cnt == n && (!n || keys[0] == first);
	free(keys);
	for (__u32 i = 0; !whole && i < n; i++) {
		__u32 k = first + i;

		bpf_map_lookup_elem(fd, &k, (char *)vals + i * stride);
	}
	return 0;
}

int nfc_percpu_sums(int fd, uint32_t first, uint32_t n, size_t value_size,
		    uint64_t *sums)
{
	unsigned ncpu = nfc_ncpus();
	size_t words = value_size / 8;
	uint64_t *v;
	int r;

	if (!value_size || value_size % 8)
		return -EINVAL;
	/* First, so that a caller's sums are 0 whatever fails below (a
	 * missing map included). */
	memset(sums, 0, (size_t)n * value_size);
	if (fd < 0)
		return -EBADF;
	/* Zeroed: an entry that cannot be read sums to 0. */
	v = calloc((size_t)(n ? n : 1) * ncpu, value_size);
	if (!v)
		return -ENOMEM;
	r = array_batch(fd, first, n, v, ncpu * value_size);
	for (__u32 i = 0; !r && i < n; i++)
		for (unsigned c = 0; c < ncpu; c++)
			for (size_t w = 0; w < words; w++)
				sums[(size_t)i * words + w] +=
					v[((size_t)i * ncpu + c) * words + w];
	free(v);
	return r;
}

int nfc_percpu_add(int fd, uint32_t key, size_t value_size, size_t off,
		   uint64_t d)
{
	char *v;
	uint64_t x;
	int r = 0;

	if (!d)
		return 0;
	v = percpu_get(fd, key, value_size, off);
	if (!v)
		return -errno;
	memcpy(&x, v + off, sizeof(x));
	x += d;
	memcpy(v + off, &x, sizeof(x));
	if (bpf_map_update_elem(fd, &key, v, BPF_ANY))
		r = -errno;
	free(v);
	return r;
}

int nfc_array_read(int fd, void *vals, size_t value_size, uint32_t n)
{
	return array_batch(fd, 0, n, vals, value_size);
}

/* Key by key (get_next_key, then a lookup): for map types or kernels
 * without batch reads. Always the whole map. */
static long walk_keys(int fd, size_t ksz, size_t vsz, nfc_walk_fn fn, void *arg)
{
	char *k = malloc(ksz), *next = malloc(ksz), *v = malloc(vsz);
	void *prev = NULL;
	long n = 0;

	if (!k || !next || !v) {
		n = -ENOMEM;
		goto out;
	}
	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(k, next, ksz);
		prev = k;
		if (bpf_map_lookup_elem(fd, k, v))
			continue;
		n++;
		if (fn(k, v, arg))
			break;
	}
out:
	free(k);
	free(next);
	free(v);
	return n;
}

/* Entries a batch read; a bucket holding more is read with a larger one. */
#define WALK_CHUNK 1024u

long nfc_hash_walk(int fd, size_t key_size, size_t value_size,
		   struct nfc_walk *cur, long max, nfc_walk_fn fn, void *arg)
{
	struct nfc_walk whole = {0};
	__u32 cap = WALK_CHUNK;
	char *keys = NULL, *vals = NULL;
	long n = 0;
	int stop = 0;
	__u32 ask = 0;

	if (fd < 0 || !key_size || !value_size || !fn)
		return -EINVAL;
	if (!cur) {
		cur = &whole;
		max = -1;
	}
	if (cur->done)
		*cur = (struct nfc_walk){0};
	while (!stop && (max < 0 || n < max)) {
		/* No more than the slice has left, unless a bucket is larger
		 * (ENOSPC below: then `ask`, doubled until the bucket fits). */
		__u32 want = ask ? ask
			     : max >= 0 && max - n < (long)cap
				     ? (__u32)(max - n)
				     : cap;
		__u32 cnt = want;
		__u64 out = 0;
		int r, e;

		if (!keys) {
			keys = malloc((size_t)cap * key_size);
			vals = malloc((size_t)cap * value_size);
			if (!keys || !vals) {
				n = -ENOMEM;
				break;
			}
		}
		/* A hash map's batch token is the next bucket's index. */
		r = bpf_map_lookup_batch(fd, cur->started ? &cur->token : NULL,
					 &out, keys, vals, &cnt, NULL);
		e = r ? errno : 0;
		if (r && e == ENOSPC && want < cap) {
			ask = want * 2 < cap ? want * 2 : cap;
			continue;
		}
		if (r && e == ENOSPC && cap < (1u << 20)) {
			cap *= 2;
			free(keys);
			free(vals);
			keys = vals = NULL;
			continue;
		}
		if (r && e != ENOENT) {
			if (!cur->started && !n &&
			    (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)) {
				n = walk_keys(fd, key_size, value_size, fn,
					      arg);
				cur->done = 1;
			} else {
				n = -e;
			}
			break;
		}
		for (__u32 i = 0; i < cnt && !stop; i++, n++)
			stop = fn(keys + (size_t)i * key_size,
				  vals + (size_t)i * value_size, arg);
		if (r) { /* ENOENT: the last buckets */
			cur->done = 1;
			break;
		}
		cur->token = out;
		cur->started = 1;
		if (ask)
			break; /* the slice is over */
	}
	free(keys);
	free(vals);
	return n;
}

_Static_assert(sizeof(struct nfc_page_cur) <= sizeof(struct nfc_cursor),
	       "a page cursor fits in a listing's cursor");

int nfc_page_whole(struct nfc_cursor *cur, long count)
{
	struct nfc_page_cur *c = (struct nfc_page_cur *)cur->b;

	if (c->phase)
		return 0;
	c->phase = count >= 0 && count <= NFC_LIST_WHOLE ? NFC_PAGE_END : 1;
	return c->phase == NFC_PAGE_END;
}

struct nfc_walk *nfc_walk_cursor(int fd)
{
	/* Map ids are not reused while the kernel runs, so the slot of a
	 * deleted NF's map is only stale; the oldest goes when all are
	 * taken. */
	static struct {
		__u32 id;
		struct nfc_walk w;
	} slot[2 * NFC_MAX_NFS];
	static unsigned next;
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	unsigned i;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return NULL;
	for (i = 0; i < 2 * NFC_MAX_NFS; i++)
		if (slot[i].id == info.id)
			return &slot[i].w;
	i = next++ % (2 * NFC_MAX_NFS);
	slot[i].id = info.id;
	slot[i].w = (struct nfc_walk){0};
	return &slot[i].w;
}

const char *nfc_mac_str(const uint8_t mac[6], char buf[NFC_MAC_STRLEN])
{
	snprintf(buf, NFC_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

uint64_t nfc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int nfc_fsync_dir_of(const char *path)
{
	char d[PATH_MAX], *s;
	int fd, r;

	snprintf(d, sizeof(d), "%s", path);
	s = strrchr(d, '/');
	if (!s)
		return 0;
	*s = 0;
	fd = open(*d ? d : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fsync(fd) ? -errno : 0;
	close(fd);
	return r;
}

int nfc_append_durable(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	const char *p = buf;
	size_t done = 0;
	struct stat st;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		r = -errno;
		close(fd);
		return r;
	}
	while (done < len && !r) {
		ssize_t n = write(fd, p + done, len - done);

		if (n > 0)
			done += (size_t)n;
		else if (n == 0)
			r = -ENOSPC; /* a disk that takes nothing more */
		else if (errno != EINTR)
			r = -errno;
	}
	if (!r && fsync(fd))
		r = -errno;
	if (!r && !st.st_size)
		r = nfc_fsync_dir_of(path);
	if (r) {
		/* Cut back: a torn record followed by the next append would
		 * read as one bad line (found by a helper: after a reboot a
		 * router's whole saved state was refused for it). */
		if (!st.st_size)
			unlink(path);
		else if (!ftruncate(fd, st.st_size))
			(void)fsync(fd);
	}
	close(fd);
	return r;
}

int nfc_copy_file(const char *from, const char *to)
{
	char tmp[700], buf[65536];
	FILE *in = fopen(from, "r"), *out;
	size_t n;
	int r = 0;

	if (!in)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", to);
	out = fopen(tmp, "w");
	if (!out) {
		r = -errno;
		fclose(in);
		return r;
	}
	while (!r && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			r = -EIO;
	if (!r && (ferror(in) || fflush(out) || fsync(fileno(out))))
		r = -EIO;
	fclose(in);
	if (fclose(out) && !r)
		r = -EIO;
	if (!r && rename(tmp, to))
		r = -errno;
	if (r)
		unlink(tmp);
	return r ? r : nfc_fsync_dir_of(to);
}

long long nfc_nf_config_uint(const struct nfc_nf *nf, const char *name,
			     long long def)
{
	json_t *v = json_object_get(nfc_nf_config(nf), name);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

void nf_changed(struct nfc *nfc, int id, enum nfc_change why)
{
	const struct nfc_nf_type *t = nfc->m->nfs[id].type;

	if (why == NFC_CHANGE_COLLECTION && nfc->in_call) {
		nfc->coll_changed[id] = true;
		return;
	}
	if (t && t->changed)
		t->changed(&nfc->handles[id], why);
}

/* At the end of a call, still under its lock: what an NF does after a
 * collection change (the router voids its forwarding cache, 128 map
 * calls) is done once for all the entries the call wrote. */
void nf_changed_flush(struct nfc *nfc)
{
	for (int i = 0; i < NFC_MAX_NFS; i++) {
		const struct nfc_nf_type *t;

		if (!nfc->coll_changed[i])
			continue;
		nfc->coll_changed[i] = false;
		t = nfc->m && nfc->m->nfs[i].used ? nfc->m->nfs[i].type : NULL;
		if (t && t->changed)
			t->changed(&nfc->handles[i], NFC_CHANGE_COLLECTION);
	}
}
