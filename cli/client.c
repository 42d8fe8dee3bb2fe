// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One HTTP request to nfchaind with libcurl: unix socket or TCP + token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "cli.h"

struct buf {
	char *p;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	char *p = realloc(b->p, b->len + size * n + 1);

	if (!p)
		return 0;
	memcpy(p + b->len, data, size * n);
	b->p = p;
	b->len += size * n;
	p[b->len] = 0;
	return size * n;
}

int http_call(const struct conn *c, const char *method, const char *path,
	      const char *body, size_t body_len, const char *content_type,
	      long *status, json_t **answer, char *err, size_t errlen)
{
	char url[4096], auth[600], ctype[128], cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct buf out = {0};
	CURL *h = curl_easy_init();
	CURLcode rc;

	*answer = NULL;
	if (!h) {
		snprintf(err, errlen, "cannot start libcurl");
		return -1;
	}
	/* Over the unix socket the host part is a placeholder. */
	snprintf(url, sizeof(url), "%s%s", c->url ? c->url : "http://nfchaind",
		 path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (c->socket)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* Applying a large state loads programs: give it time. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
	if (c->token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		hdrs = curl_slist_append(hdrs, ctype);
		/* No "100 Continue" round trip before large bodies. */
		hdrs = curl_slist_append(hdrs, "Expect:");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach nfchaind at %s%s: %s%s",
			 c->socket ? "unix:" : "",
			 c->socket ? c->socket : c->url,
			 *cerr ? cerr : curl_easy_strerror(rc),
			 rc == CURLE_COULDNT_CONNECT ? " (is nfchaind running?)"
						     : "");
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(h);
		free(out.p);
		return -1;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (out.len)
		*answer = json_loadb(out.p, out.len, 0, NULL);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	free(out.p);
	return 0;
}
