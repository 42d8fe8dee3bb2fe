// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Connection tracking on crafted frames (BPF_PROG_TEST_RUN). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "ct_test.skel.h"
#include "test.h"

int main(void)
{
	struct ct_test *skel = ct_test__open_and_load();

	CHECK(skel, "load the conntrack test object");
	ct_test__destroy(skel);
	TEST_EXIT();
}
