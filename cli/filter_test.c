// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * nfchain filter-test 'EXPR' -r in.pcap [-w matched.pcap] [-j]
 *
 * Runs an expression, compiled and translated by the same code as the
 * filter and capture NFs (lib/cbpf.c) and loaded as the same XDP program,
 * over every frame of a pcap file in the kernel (BPF_PROG_TEST_RUN), and
 * writes the matching frames unchanged. It needs no daemon (the program
 * is loaded here, which needs root as the daemon does), so a user can
 * check a filter before there is any chain, and compare it frame for
 * frame with `tcpdump -r in.pcap -w out.pcap EXPR`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include <jansson.h>

#include "nfchain/nf.h"
#include "cbpf.h"
#include "cli.h"

static int ft_usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "nfchain filter-test: %s\n", msg);
	fputs("usage: nfchain filter-test 'EXPR' -r in.pcap [-w matched.pcap] "
	      "[-j]\n",
	      stderr);
	return 2;
}

int cli_filter_test(int argc, char **argv, int json)
{
	const char *in = NULL, *outp = NULL, *expr = NULL;
	char err[NFCI_CBPF_ERRLEN], perr[PCAP_ERRBUF_SIZE];
	struct nfci_cbpf_runner r;
	unsigned long frames = 0, matched = 0, unrun = 0, shorter = 0;
	struct pcap_pkthdr *h;
	const unsigned char *data;
	pcap_dumper_t *w = NULL;
	pcap_t *p;
	int o, rc = 1, n;

	/* The global options are taken, anywhere, as nfchain takes them
	 * (nfchain.1): filter-test asks the daemon nothing, so they do
	 * nothing here. */
	static const struct option lo[] = {
		{"json", no_argument, NULL, 'j'},
		{"read", required_argument, NULL, 'r'},
		{"write", required_argument, NULL, 'w'},
		{"socket", required_argument, NULL, 'G'},
		{"url", required_argument, NULL, 'G'},
		{"token-file", required_argument, NULL, 'G'},
		{"timeout", required_argument, NULL, 'G'},
		{0},
	};
	optind = 1;
	while ((o = getopt_long(argc, argv, "jr:w:", lo, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = 1;
			break;
		case 'r':
			in = optarg;
			break;
		case 'w':
			outp = optarg;
			break;
		case 'G':
			break;
		default:
			return ft_usage(NULL);
		}
	}
	if (optind + 1 != argc)
		return ft_usage("one expression is needed (quote it)");
	expr = argv[optind];
	if (!in)
		return ft_usage("-r FILE is needed");
	/* What the filter and capture NFs take (found by a helper: an
	 * expression the NFs refuse passed here). */
	if (strlen(expr) > NFC_EXPR_MAX) {
		fprintf(stderr,
			"nfchain filter-test: the expression is longer than "
			"%d characters, which the filter and capture NFs "
			"refuse\n",
			NFC_EXPR_MAX);
		return 1;
	}

	p = pcap_open_offline(in, perr);
	if (!p) {
		fprintf(stderr, "nfchain filter-test: read %s: %s\n", in, perr);
		return 1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr,
			"nfchain filter-test: %s: link type %s, not Ethernet: "
			"the NFs see Ethernet frames only\n",
			in, pcap_datalink_val_to_name(pcap_datalink(p)));
		pcap_close(p);
		return 1;
	}
	if (nfci_cbpf_runner_open(&r, expr, NFCI_CBPF_SNAPLEN_MAX,
				  NFCI_CBPF_XDP, err, sizeof(err))) {
		fprintf(stderr, "nfchain filter-test: %s\n", err);
		pcap_close(p);
		return 1;
	}
	if (outp) {
		w = pcap_dump_open(p, outp);
		if (!w) {
			fprintf(stderr, "nfchain filter-test: write %s: %s\n",
				outp, pcap_geterr(p));
			goto out;
		}
	}
	while ((n = pcap_next_ex(p, &h, &data)) == 1) {
		int m;

		frames++;
		if (h->caplen < h->len)
			shorter++;
		m = nfci_cbpf_runner_run(&r, data, h->caplen);
		if (m < 0) {
			/* Under 14 bytes, or over what the kernel's test
			 * run holds whole: say so rather than guess. */
			if (!unrun)
				fprintf(stderr,
					"nfchain filter-test: frame %lu (%u "
					"bytes): the kernel cannot run it "
					"(%s); counted as not matching\n",
					frames, h->caplen,
					m == -E2BIG ? "over the 3520 bytes "
						      "an XDP test run holds "
						      "whole"
						    : strerror(-m));
			unrun++;
			continue;
		}
		if (m) {
			matched++;
			if (w)
				pcap_dump((unsigned char *)w, h, data);
		}
	}
	if (n == -1) {
		fprintf(stderr, "nfchain filter-test: read %s: %s\n", in,
			pcap_geterr(p));
		goto out;
	}
	if (w && pcap_dump_flush(w)) {
		fprintf(stderr, "nfchain filter-test: write %s: %s\n", outp,
			strerror(errno));
		goto out;
	}
	if (json) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I}", "expr", expr,
				      "frames", (json_int_t)frames, "matched",
				      (json_int_t)matched, "not_run",
				      (json_int_t)unrun, "truncated",
				      (json_int_t)shorter);

		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		printf("%lu of %lu frames match\n", matched, frames);
		if (unrun)
			printf("%lu frames the kernel could not run (counted "
			       "as not matching)\n",
			       unrun);
		if (shorter)
			printf("%lu frames were captured shorter than on the "
			       "wire: `len` is their captured length here\n",
			       shorter);
	}
	rc = 0;
out:
	if (w)
		pcap_dump_close(w);
	nfci_cbpf_runner_close(&r);
	pcap_close(p);
	return rc;
}
