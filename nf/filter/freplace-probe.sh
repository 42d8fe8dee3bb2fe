#!/usr/bin/env bash
# Can this kernel run a filter as freplace (BPF_PROG_TYPE_EXT) instead of a
# tail call? Loads a plain XDP program with a global __noinline function
# (BTF, not attached, not tail-called: the easiest target there is), then
# an freplace of that function and, for comparison, an fentry on the
# program (BPF_PROG_TYPE_TRACING, the same trampoline). Prints each load's
# result and the verifier log's length: an error with an empty log means
# the kernel refused before the verifier ran (permission or LSM), not our
# program. lib/cbpf.h and nf/filter/README.md quote its output.
# Usage: nf/filter/freplace-probe.sh   (root; clang, gcc, libbpf-dev)
set -eu
D=$(mktemp -d /tmp/nfc-freplace.XXXXXX)
trap 'rm -rf "$D"' EXIT
cat >"$D/t.bpf.c" <<'C'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__noinline int f(struct xdp_md *ctx) { return ctx->ingress_ifindex ? 1 : 0; }
SEC("xdp") int tgt(struct xdp_md *ctx) { return f(ctx) ? XDP_PASS : XDP_DROP; }
char LICENSE[] SEC("license") = "GPL";
C
cat >"$D/e.bpf.c" <<'C'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
SEC("freplace/f") int f2(struct xdp_md *ctx) { return 1; }
SEC("fentry/tgt") int BPF_PROG(fe, struct xdp_md *x) { return 0; }
char LICENSE[] SEC("license") = "GPL";
C
cat >"$D/run.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
static char log[1 << 16];
static int quiet(enum libbpf_print_level l, const char *f, va_list a)
{ (void)l; (void)f; (void)a; return 0; }
int main(int argc, char **argv)
{
	struct bpf_object *t = bpf_object__open_file(argv[1], NULL);
	const char *names[2] = {"f2", "fe"}, *targets[2] = {"f", "tgt"};
	const char *kinds[2] = {"freplace (EXT) of f", "fentry (TRACING) on tgt"};
	int tfd;

	(void)argc;
	libbpf_set_print(quiet);
	if (!t || bpf_object__load(t)) { puts("target: load failed"); return 1; }
	tfd = bpf_program__fd(bpf_object__find_program_by_name(t, "tgt"));
	puts("target XDP program with global f(): loaded");
	for (int i = 0; i < 2; i++) {
		struct bpf_object *e = bpf_object__open_file(argv[2], NULL);
		struct bpf_program *p;
		int r;

		bpf_object__for_each_program(p, e) {
			int want = !strcmp(bpf_program__name(p), names[i]);

			bpf_program__set_autoload(p, want);
			if (want) {
				bpf_program__set_attach_target(p, tfd, targets[i]);
				bpf_program__set_log_buf(p, log, sizeof(log));
				bpf_program__set_log_level(p, 1);
			}
		}
		log[0] = 0;
		r = bpf_object__load(e);
		printf("%s: %s, verifier log %zu bytes\n", kinds[i],
		       r ? strerror(-r) : "loaded", strlen(log));
		bpf_object__close(e);
	}
	return 0;
}
C
for f in t e; do
	clang -O2 -g -target bpf -I/usr/include/"$(uname -m)"-linux-gnu \
		-c "$D/$f.bpf.c" -o "$D/$f.bpf.o"
done
gcc -O2 "$D/run.c" -o "$D/run" -lbpf
echo "# kernel $(uname -r)"
"$D/run" "$D/t.bpf.o" "$D/e.bpf.o"
