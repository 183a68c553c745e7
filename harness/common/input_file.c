/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a tool's input file without blocking; see input_file.h. */
#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *input_file_kind(mode_t mode)
{
	return S_ISREG(mode)    ? "a regular file"
	       : S_ISDIR(mode)  ? "a directory"
	       : S_ISLNK(mode)  ? "a symbolic link"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISCHR(mode)  ? "a character device"
	       : S_ISBLK(mode)  ? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a regular file";
}

enum input_file_status input_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
				       char *msg, size_t msg_size)
{
	struct stat sb;
	int fd;

	*data = NULL;
	*len = 0;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
			snprintf(msg, msg_size, "%s: a symbolic link to a missing file", path);
			return INPUT_FILE_REFUSED;
		}
		if (e == ENXIO) { /* a socket, or a FIFO opened for writing with no reader */
			snprintf(msg, msg_size, "%s: %s, not a regular file", path,
				 lstat(path, &sb) == 0 ? input_file_kind(sb.st_mode)
						       : "not a regular file");
			return INPUT_FILE_REFUSED;
		}
		snprintf(msg, msg_size, "%s: %s", path, strerror(e));
		return INPUT_FILE_ERROR;
	}
	if (fstat(fd, &sb) != 0) {
		snprintf(msg, msg_size, "%s: fstat: %s", path, strerror(errno));
		close(fd);
		return INPUT_FILE_ERROR;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(msg, msg_size, "%s: is a directory", path);
		close(fd);
		return INPUT_FILE_DIRECTORY;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(msg, msg_size, "%s: is %s, not a regular file", path,
			 input_file_kind(sb.st_mode));
		close(fd);
		return INPUT_FILE_REFUSED;
	}
	if (sb.st_size < 0 || (uint64_t)sb.st_size > max) {
		snprintf(msg, msg_size, "%s: %lld bytes, over the limit of %zu", path,
			 (long long)sb.st_size, max);
		*len = (size_t)sb.st_size;
		close(fd);
		return INPUT_FILE_TOO_LARGE;
	}
	size_t size = (size_t)sb.st_size, got = 0;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf) {
		snprintf(msg, msg_size, "%s: out of memory for %zu bytes", path, size);
		close(fd);
		return INPUT_FILE_ERROR;
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				snprintf(msg, msg_size, "%s: read: %s", path, strerror(errno));
			else
				snprintf(msg, msg_size, "%s: the file shrank while being read",
					 path);
			free(buf);
			close(fd);
			return INPUT_FILE_ERROR;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = size;
	return INPUT_FILE_OK;
}
