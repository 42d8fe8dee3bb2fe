// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Linked into the CLI only when it is linked against static archives
 * (cli/build.mk): libpcap.a brings libdbus-1.a, whose systemd socket
 * activation (a D-Bus server's) asks libsystemd for these two. The CLI
 * never runs a D-Bus server, so "no sockets passed" is the true answer,
 * and libsystemd (with libgcrypt, lz4, zstd...) stays out of every call's
 * start-up.
 */
int sd_listen_fds(int unset_environment);
int sd_is_socket(int fd, int family, int type, int listening);

int sd_listen_fds(int unset_environment)
{
	(void)unset_environment;
	return 0;
}

int sd_is_socket(int fd, int family, int type, int listening)
{
	(void)fd;
	(void)family;
	(void)type;
	(void)listening;
	return 0;
}
