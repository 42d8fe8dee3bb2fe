// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Linked only into the wholly static CLI: cli/remote.c asks for it. */
const int nfc_cli_whole_static = 1;
