/* Reading a whole untrusted file into memory, with a size limit. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"

enum nub_status nub_file_read(const char *path, uint64_t max_size, enum nub_status size_status,
			      const struct nub_alloc_hook *hook, uint8_t **data, size_t *len,
			      struct nub_error *err)
{
	enum nub_status st;
	struct stat sb;
	uint8_t *buf = NULL;
	int fd;

	*data = NULL;
	*len = 0;
	/* O_NONBLOCK so that opening a FIFO cannot block; it is refused below as non-regular. */
	do
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return nub_error_set_errno(err, NUB_E_IO, errno, "open %s", path);
	if (fstat(fd, &sb) != 0) {
		st = nub_error_set_errno(err, NUB_E_IO, errno, "fstat %s", path);
		goto err_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = nub_error_set(err, NUB_E_IO, "%s is not a regular file", path);
		goto err_close;
	}
	if ((uint64_t)sb.st_size > max_size) {
		st = nub_error_set(err, size_status, "%s: file size 0x%" PRIx64 " exceeds the limit 0x%" PRIx64,
				   path, (uint64_t)sb.st_size, max_size);
		goto err_close;
	}
	size_t size = (size_t)sb.st_size, got = 0;
	if (size) {
		buf = nub_alloc_resize(hook, NULL, size); /* every byte is read below: no need to zero */
		if (!buf) {
			st = nub_error_set(err, NUB_E_NOMEM, "%s: allocating 0x%zx bytes", path, size);
			goto err_close;
		}
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			st = nub_error_set_errno(err, NUB_E_IO, errno, "read %s", path);
			goto err_free;
		}
		if (n == 0) {
			st = nub_error_set(err, NUB_E_IO, "read %s: file shrank (0x%zx of 0x%zx bytes)",
					   path, got, size);
			goto err_free;
		}
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = size;
	return NUB_OK;

err_free:
	nub_alloc_free(hook, buf);
err_close:
	close(fd);
	return st;
}
