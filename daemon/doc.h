/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Request bodies and documents: JSON (jansson) or YAML (libyaml, converted
 * to the same json_t). Errors say where the input is wrong.
 */
#ifndef NFD_DOC_H
#define NFD_DOC_H

#include <stddef.h>
#include <jansson.h>

/* Strict JSON: duplicate keys are an error, as is anything after the
 * value. NULL on error with a message in err. */
json_t *doc_parse_json(const char *buf, size_t len, char *err, size_t errlen);

/* One YAML document. Plain scalars become null, booleans, integers or
 * reals when they read as such (YAML 1.2 core schema), everything else a
 * string; anchors and aliases are refused. */
json_t *doc_parse_yaml(const char *buf, size_t len, char *err, size_t errlen);

/* JSON when the content type says so or the text starts with '{' or '[',
 * YAML when the content type says so or otherwise. */
json_t *doc_parse(const char *buf, size_t len, const char *content_type,
		  char *err, size_t errlen);

#endif
