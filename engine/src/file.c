/* SPDX-License-Identifier: Apache-2.0 */
/* Files: reading a whole untrusted file with a size limit; writing one that appears atomically. */
#define _GNU_SOURCE /* mkostemp */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
		st = nub_error_set(err, size_status,
				   "%s: file size 0x%" PRIx64 " exceeds the limit 0x%" PRIx64, path,
				   (uint64_t)sb.st_size, max_size);
		goto err_close;
	}
	size_t size = (size_t)sb.st_size, got = 0;
	if (size) {
		buf = nub_alloc_resize(hook, NULL,
				       size); /* every byte is read below: no need to zero */
		if (!buf) {
			st = nub_error_set(err, NUB_E_NOMEM, "%s: allocating 0x%zx bytes", path,
					   size);
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
			st = nub_error_set(err, NUB_E_IO,
					   "read %s: file shrank (0x%zx of 0x%zx bytes)", path, got,
					   size);
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

/* What (mode) is, for messages that refuse to replace it. */
static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode)    ? "a directory"
	       : S_ISLNK(mode)  ? "a symbolic link"
	       : S_ISFIFO(mode) ? "a FIFO"
	       : S_ISCHR(mode)  ? "a character device"
	       : S_ISBLK(mode)  ? "a block device"
	       : S_ISSOCK(mode) ? "a socket"
				: "not a regular file";
}

enum nub_status nub_file_writer_open(struct nub_file_writer *w, const char *path, const char *what,
				     const struct nub_alloc_hook *hook, struct nub_error *err)
{
	static const char suffix[] = ".tmp.XXXXXX";
	struct stat sb;

	*w = (struct nub_file_writer){ .fd = -1, .path = path, .what = what };
	if (hook)
		w->hook = *hook;
	/* lstat: a symbolic link is refused too, rather than followed to whatever it names. */
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return nub_error_set(err, NUB_E_INVALID,
				     "%s %s: it exists and is %s; not replacing it", what, path,
				     file_kind(sb.st_mode));
	/* The temporary sits beside (path) so that rename() is atomic (same file system). */
	size_t plen = strlen(path);
	w->tmp = nub_alloc_zeroed(&w->hook, plen + sizeof suffix);
	if (!w->tmp)
		return nub_error_set(err, NUB_E_NOMEM, "%s %s: temporary file name", what, path);
	memcpy(w->tmp, path, plen);
	memcpy(w->tmp + plen, suffix, sizeof suffix);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		enum nub_status st = nub_error_set_errno(err, NUB_E_IO, errno,
							 "%s %s: creating a temporary file", what,
							 path);
		nub_alloc_free(&w->hook, w->tmp);
		w->tmp = NULL;
		return st;
	}
	return NUB_OK;
}

enum nub_status nub_file_writer_put(struct nub_file_writer *w, const void *data, size_t len,
				    struct nub_error *err)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		/* A zero-byte write of a non-empty buffer would loop forever. */
		if (n <= 0)
			return nub_error_set_errno(err, NUB_E_IO, n < 0 ? errno : EIO,
						   "%s %s: writing %s", w->what, w->path, w->tmp);
		p += n;
		len -= (size_t)n;
	}
	return NUB_OK;
}

/* fsyncs the directory holding (path), so the rename itself is durable. 0 or an errno. */
static int sync_parent(char *dir, const char *path)
{
	const char *slash = strrchr(path, '/');
	int fd, e = 0;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == path)
		strcpy(dir, "/");
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	do
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno;
	/* Some file systems cannot fsync a directory (EINVAL); the rename is then as durable as it gets. */
	if (fsync(fd) != 0 && errno != EINVAL)
		e = errno;
	close(fd);
	return e;
}

enum nub_status nub_file_writer_commit(struct nub_file_writer *w, struct nub_error *err)
{
	enum nub_status st = NUB_OK;
	const char *step = NULL;
	int e = 0;

	if (fsync(w->fd) != 0) {
		e = errno;
		step = "fsync of";
	}
	if (close(w->fd) != 0 && !step) {
		e = errno;
		step = "closing";
	}
	w->fd = -1;
	if (!step && rename(w->tmp, w->path) != 0) {
		e = errno;
		step = "renaming over it";
	}
	if (step) {
		st = nub_error_set_errno(err, NUB_E_IO, e, "%s %s: %s %s", w->what, w->path, step,
					 w->tmp);
		unlink(w->tmp);
	} else {
		/* (tmp) holds at least strlen(path) + 1 bytes: room for the directory name. */
		e = sync_parent(w->tmp, w->path);
		if (e)
			st = nub_error_set_errno(err, NUB_E_IO, e, "%s %s: fsync of directory %s",
						 w->what, w->path, w->tmp);
	}
	nub_alloc_free(&w->hook, w->tmp);
	w->tmp = NULL;
	return st;
}

void nub_file_writer_abort(struct nub_file_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
		w->fd = -1;
	}
	nub_alloc_free(&w->hook, w->tmp);
	w->tmp = NULL;
}
