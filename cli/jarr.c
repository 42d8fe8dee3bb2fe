// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An answer decoded as it arrives (see cli.h, struct jarr). nfchaind sends
 * a long listing (a blocklist of 1,000,000 prefixes, ~40 MB of JSON) an
 * element at a time; decoded whole, the CLI held the text and a million
 * jansson objects (hundreds of MB, ~40 s) before printing a line. Here
 * each element is decoded with JSON_DISABLE_EOF_CHECK, which stops after
 * one value and says where it ended, handed to the caller and freed: the
 * buffer holds one read and a partial element at most.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { J_START, J_ELEM, J_NEXT, J_DONE, J_WHOLE, J_BAD };

void jarr_init(struct jarr *j, int (*on_elem)(json_t *, void *), void *ctx)
{
	memset(j, 0, sizeof(*j));
	j->on_elem = on_elem;
	j->ctx = ctx;
}

static int jarr_add(struct jarr *j, const char *d, size_t n)
{
	if (j->off && j->off >= j->len / 2) {
		memmove(j->buf, j->buf + j->off, j->len - j->off);
		j->len -= j->off;
		j->off = 0;
	}
	if (j->len + n + 1 > j->cap) {
		size_t cap = (j->len + n + 1) * 2;
		char *b = realloc(j->buf, cap);

		if (!b)
			return -1;
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, d, n);
	j->len += n;
	j->buf[j->len] = 0;
	return 0;
}

static void skip_ws(struct jarr *j)
{
	while (j->off < j->len && strchr(" \t\r\n", j->buf[j->off]))
		j->off++;
}

/* Decodes what it can; at the end (`last`) what is left must close the
 * array. 0, or -1 when the text is not JSON or the callback refused. */
static int jarr_run(struct jarr *j, int last)
{
	for (;;) {
		json_error_t e;
		json_t *v;
		char ch;

		skip_ws(j);
		if (j->state == J_WHOLE || j->state == J_BAD)
			return j->state == J_BAD ? -1 : 0;
		if (j->off == j->len)
			return last && j->state != J_DONE ? -1 : 0;
		ch = j->buf[j->off];
		switch (j->state) {
		case J_START:
			/* Not an array, or nobody wants elements: the
			 * answer is decoded whole at the end. */
			j->state = ch == '[' && j->on_elem ? J_ELEM : J_WHOLE;
			if (j->state == J_ELEM)
				j->off++;
			j->first = 1;
			continue;
		case J_NEXT:
			if (ch == ',') {
				j->off++;
				j->state = J_ELEM;
				j->first = 0;
				continue;
			}
			/* ']' */
			__attribute__((fallthrough));
		case J_ELEM:
			if (ch == ']' && (j->first || j->state == J_NEXT)) {
				j->off++;
				j->state = J_DONE;
				continue;
			}
			if (j->state == J_NEXT)
				break;
			v = json_loadb(j->buf + j->off, j->len - j->off,
				       JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY,
				       &e);
			/* A value that ends where the text does may go on
			 * (a number) or be cut: wait for the next read. */
			if (v && !last &&
			    (size_t)e.position >= j->len - j->off) {
				json_decref(v);
				v = NULL;
			}
			if (!v)
				return last ? -1 : 0;
			j->off += e.position;
			j->count++;
			j->state = J_NEXT;
			if (j->on_elem(v, j->ctx)) {
				json_decref(v);
				j->state = J_BAD;
				return -1;
			}
			json_decref(v);
			continue;
		case J_DONE:
			break;
		}
		j->state = J_BAD;
		return -1;
	}
}

int jarr_feed(struct jarr *j, const char *d, size_t n)
{
	if (jarr_add(j, d, n))
		return -1;
	return j->state == J_WHOLE ? 0 : jarr_run(j, 0);
}

int jarr_end(struct jarr *j, json_t **whole)
{
	int r = jarr_run(j, 1);

	*whole = NULL;
	if (j->state == J_WHOLE && j->len > j->off)
		*whole = json_loadb(j->buf + j->off, j->len - j->off, 0, NULL);
	free(j->buf);
	j->buf = NULL;
	j->len = j->off = j->cap = 0;
	return j->state == J_WHOLE || j->state == J_START ? 0 : r;
}
