// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "doc.h"

/* Deeper documents than this are certainly not nfchain state; the bound
 * keeps the converter's stack small whatever a client sends. */
#define YAML_MAX_DEPTH 64

json_t *doc_parse_json(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *v;

	if (len == 0) {
		snprintf(err, errlen,
			 "the body is empty; a JSON value was "
			 "expected");
		return NULL;
	}
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!v)
		snprintf(err, errlen, "invalid JSON at line %d column %d: %s",
			 je.line, je.column, je.text);
	return v;
}

/* YAML 1.2 core schema resolution of a plain (unquoted) scalar. */
static json_t *yaml_plain(const char *s)
{
	char *end;

	if (!*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	    !strcmp(s, "Null") || !strcmp(s, "NULL"))
		return json_null();
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return json_true();
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return json_false();
	if (strspn(s, "+-0123456789") == strlen(s) &&
	    strspn(s + 1, "0123456789") == strlen(s + 1)) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end)
			return json_integer(v);
		/* Out of range: keep the text, let the schema say why. */
		return json_string(s);
	}
	if (strspn(s, "+-0123456789.eE") == strlen(s) && strchr(s, '.')) {
		double d = strtod(s, &end);

		if (!*end && isfinite(d))
			return json_real(d);
	}
	return json_string(s);
}

struct ystack {
	json_t *node;
	json_t *key; /* mappings: pending key, NULL when a key is expected */
};

/* Adds `v` (stolen) to the container on top of the stack, or makes it the
 * root. Returns -1 with err set on a duplicate or non-scalar key. */
static int yaml_put(struct ystack *st, int depth, json_t **root, json_t *v,
		    const yaml_mark_t *m, char *err, size_t errlen)
{
	struct ystack *top;

	if (depth == 0) {
		*root = v;
		return 0;
	}
	top = &st[depth - 1];
	if (json_is_array(top->node))
		return json_array_append_new(top->node, v);
	if (!top->key) {
		if (!json_is_string(v)) {
			snprintf(err, errlen,
				 "YAML line %zu: mapping keys "
				 "must be plain strings",
				 m->line + 1);
			json_decref(v);
			return -1;
		}
		top->key = v;
		return 0;
	}
	if (json_object_get(top->node, json_string_value(top->key))) {
		snprintf(err, errlen, "YAML line %zu: duplicate key '%s'",
			 m->line + 1, json_string_value(top->key));
		json_decref(v);
		return -1;
	}
	json_object_set_new(top->node, json_string_value(top->key), v);
	json_decref(top->key);
	top->key = NULL;
	return 0;
}

json_t *doc_parse_yaml(const char *buf, size_t len, char *err, size_t errlen)
{
	struct ystack st[YAML_MAX_DEPTH];
	json_t *root = NULL;
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0, done = 0, bad = 0;

	if (!yaml_parser_initialize(&p)) {
		snprintf(err, errlen, "out of memory starting the YAML parser");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!done && !bad) {
		json_t *v = NULL;

		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(err, errlen,
				 "invalid YAML at line %zu column %zu: %s",
				 p.problem_mark.line + 1,
				 p.problem_mark.column + 1,
				 p.problem ? p.problem : "syntax error");
			bad = 1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				snprintf(err, errlen,
					 "YAML line %zu: one "
					 "document expected, found more",
					 ev.start_mark.line + 1);
				bad = 1;
			}
			break;
		case YAML_ALIAS_EVENT:
			snprintf(err, errlen,
				 "YAML line %zu: aliases (*name) "
				 "are not supported",
				 ev.start_mark.line + 1);
			bad = 1;
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;

			if (ev.data.scalar.anchor) {
				snprintf(err, errlen,
					 "YAML line %zu: anchors "
					 "(&name) are not supported",
					 ev.start_mark.line + 1);
				bad = 1;
				break;
			}
			if (strlen(s) != ev.data.scalar.length) {
				snprintf(err, errlen,
					 "YAML line %zu: a NUL "
					 "character in a scalar",
					 ev.start_mark.line + 1);
				bad = 1;
				break;
			}
			v = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
				    ? yaml_plain(s)
				    : json_string(s);
			/* Mapping keys are always text. */
			if (depth && json_is_object(st[depth - 1].node) &&
			    !st[depth - 1].key && !json_is_string(v)) {
				json_decref(v);
				v = json_string(s);
			}
			if (yaml_put(st, depth, &root, v, &ev.start_mark, err,
				     errlen))
				bad = 1;
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == YAML_MAX_DEPTH) {
				snprintf(err, errlen,
					 "YAML line %zu: nested "
					 "deeper than %d levels",
					 ev.start_mark.line + 1,
					 YAML_MAX_DEPTH);
				bad = 1;
				break;
			}
			if ((ev.type == YAML_SEQUENCE_START_EVENT &&
			     ev.data.sequence_start.anchor) ||
			    (ev.type == YAML_MAPPING_START_EVENT &&
			     ev.data.mapping_start.anchor)) {
				snprintf(err, errlen,
					 "YAML line %zu: anchors "
					 "(&name) are not supported",
					 ev.start_mark.line + 1);
				bad = 1;
				break;
			}
			v = ev.type == YAML_SEQUENCE_START_EVENT
				    ? json_array()
				    : json_object();
			/* The container is referenced by its parent (or is
			 * the root) and by the stack until its end event. */
			if (yaml_put(st, depth, &root, json_incref(v),
				     &ev.start_mark, err, errlen)) {
				json_decref(v);
				bad = 1;
				break;
			}
			st[depth].node = v;
			st[depth].key = NULL;
			depth++;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			json_decref(st[depth].node);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	while (depth > 0) {
		depth--;
		json_decref(st[depth].node);
		json_decref(st[depth].key);
	}
	if (bad) {
		json_decref(root);
		return NULL;
	}
	if (!root) {
		snprintf(err, errlen, "the YAML document is empty");
		return NULL;
	}
	return root;
}

json_t *doc_parse(const char *buf, size_t len, const char *content_type,
		  char *err, size_t errlen)
{
	size_t i = 0;

	if (content_type && strcasestr(content_type, "yaml"))
		return doc_parse_yaml(buf, len, err, errlen);
	if (content_type && strcasestr(content_type, "json"))
		return doc_parse_json(buf, len, err, errlen);
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	if (i == len || buf[i] == '{' || buf[i] == '[')
		return doc_parse_json(buf, len, err, errlen);
	return doc_parse_yaml(buf, len, err, errlen);
}
