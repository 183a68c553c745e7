/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a tool's input file without blocking: anything but a regular file is refused by kind. */
#ifndef NUB_INPUT_FILE_H
#define NUB_INPUT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum input_file_status {
	INPUT_FILE_OK,
	INPUT_FILE_DIRECTORY, /* (path) is a directory (callers that take one handle it) */
	INPUT_FILE_TOO_LARGE, /* a regular file larger than the limit: *(len) holds its size */
	INPUT_FILE_REFUSED,   /* not a regular file (FIFO, device, socket, dangling link) */
	INPUT_FILE_ERROR,     /* open or read failed, or out of memory */
};

/* What (mode) is, for messages: "a FIFO", "a character device", "a directory", ... */
const char *input_file_kind(mode_t mode);

/*
 * Reads the whole of (path), at most (max) bytes, into a new malloc'd buffer (*(data), at least
 * one byte allocated; *(len) bytes). Opening never blocks (O_NONBLOCK: a FIFO is refused, not
 * waited on). On anything but INPUT_FILE_OK, (msg) holds "PATH: reason" (e.g. "x: is a FIFO,
 * not a regular file"; "x: a symbolic link to a missing file"), and a directory is reported as
 * INPUT_FILE_DIRECTORY without reading.
 */
enum input_file_status input_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
				       char *msg, size_t msg_size);

#endif
