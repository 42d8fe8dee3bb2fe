// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The CLI's incremental decoder of streamed listings (cli/jarr.c): an
 * answer cut at every byte, or fed a byte at a time, gives the same
 * elements as json_loadb of the whole text; an answer that is not an
 * array comes back whole; a cut or broken array is an error. The oracle
 * is jansson's own decoding of the whole text.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "test.h"

struct got {
	json_t *arr;
	int refuse_at; /* element index on_elem refuses; -1: none */
};

static int collect(json_t *e, void *ctx)
{
	struct got *g = ctx;

	if ((int)json_array_size(g->arr) == g->refuse_at)
		return -1;
	json_array_append(g->arr, e);
	return 0;
}

/* Feeds text in pieces of `step` bytes after a first of `cut`; 0 when
 * every call agreed, the elements in g->arr, a non-array in *whole. */
static int run(const char *text, size_t cut, size_t step, struct got *g,
	       json_t **whole)
{
	size_t n = strlen(text), off = 0;
	struct jarr j;
	int bad = 0;

	g->arr = json_array();
	jarr_init(&j, collect, g);
	if (cut > n)
		cut = n;
	if (cut && jarr_feed(&j, text, cut))
		bad = 1;
	off = cut;
	while (!bad && off < n) {
		size_t k = n - off < step ? n - off : step;

		bad = jarr_feed(&j, text + off, k) != 0;
		off += k;
	}
	if (jarr_end(&j, whole))
		bad = 1;
	return bad ? -1 : 0;
}

static void same_as_whole(const char *what, const char *text)
{
	json_t *want = json_loads(text, 0, NULL), *whole;
	size_t n = strlen(text);
	int all_cuts = 1, bytes = 1;
	struct got g = {.refuse_at = -1};

	for (size_t cut = 0; cut <= n; cut++) {
		int r = run(text, cut, 65536, &g, &whole);

		all_cuts &= !r && !whole && json_equal(g.arr, want);
		json_decref(g.arr);
	}
	CHECK(all_cuts, "%s: cut at each of %zu bytes: same elements", what,
	      n + 1);
	bytes = !run(text, 1, 1, &g, &whole) && !whole &&
		json_equal(g.arr, want);
	CHECK(bytes, "%s: a byte at a time: same elements", what);
	json_decref(g.arr);
	json_decref(want);
}

static void fails(const char *what, const char *text)
{
	int all = 1;
	struct got g = {.refuse_at = -1};
	json_t *whole;

	for (size_t cut = 0; cut <= strlen(text); cut++) {
		all &= run(text, cut, 3, &g, &whole) != 0;
		json_decref(g.arr);
		json_decref(whole);
	}
	CHECK(all, "%s: an error at every cut", what);
}

int main(void)
{
	struct got g = {.refuse_at = -1};
	json_t *whole;

	same_as_whole(
		"listing",
		"[{\"prefix\":\"1.2.3.0/24\"},{\"prefix\":\"2001:db8::/32\","
		"\"expires_in\":96},\n{\"key\":\"a\\\"]}\",\"n\":[1,2,"
		"{\"x\":null}]}]\n");
	same_as_whole("spaces", " [ {\"a\" : 1} ,\r\n {\"b\":\"]\"} ] \n");
	same_as_whole("numbers and strings", "[12345,-1.5e3,\"x\",true,null,"
					     "[],{}]");
	same_as_whole("empty", "[]\n");
	same_as_whole("one", "[{}]");

	CHECK(!run("{\"error\":\"no such NF\"}\n", 5, 2, &g, &whole) &&
		      json_is_object(whole) &&
		      !strcmp(json_string_value(
				      json_object_get(whole, "error")),
			      "no such NF") &&
		      !json_array_size(g.arr),
	      "an object comes back whole, no element");
	json_decref(g.arr);
	json_decref(whole);
	CHECK(!run("", 0, 1, &g, &whole) && !whole && !json_array_size(g.arr),
	      "an empty answer: no error, nothing");
	json_decref(g.arr);

	fails("cut before its end", "[{\"a\":1},{\"b\":2}");
	fails("cut inside an element", "[{\"a\":1},{\"b\":");
	fails("garbage between elements", "[{\"a\":1} x {\"b\":2}]");
	fails("a comma before the end", "[{\"a\":1},]");
	fails("text after the end", "[{\"a\":1}] [");
	g.refuse_at = 1;
	CHECK(run("[1,2,3]", 7, 1, &g, &whole) != 0 &&
		      json_array_size(g.arr) == 1,
	      "on_elem refusing the second element stops there");
	json_decref(g.arr);
	TEST_EXIT();
}
