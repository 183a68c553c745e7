/* SPDX-License-Identifier: Apache-2.0 */
/* Files: reading a whole untrusted file with a size limit; writing one that appears atomically. */
#ifndef NUB_FILE_H
#define NUB_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "nub/nub.h"

/*
 * Reads the whole regular file at (path) into a buffer allocated through (hook); *(data) and
 * *(len) receive it (free with nub_alloc_free; an empty file gives NULL and 0). Opening never
 * blocks (a FIFO is refused as not regular), EINTR and short reads are handled, and a file that
 * shrinks while being read is an error. A file larger than (max_size) is refused with
 * (size_status) before anything is allocated. Other errors: NUB_E_IO naming the path and errno,
 * NUB_E_NOMEM. Messages start with the path.
 */
enum nub_status nub_file_read(const char *path, uint64_t max_size, enum nub_status size_status,
			      const struct nub_alloc_hook *hook, uint8_t **data, size_t *len,
			      struct nub_error *err);

/*
 * A file written beside (path) under a temporary name and renamed over (path) on commit, so
 * readers see the old file or the whole new one, never a part. (what) starts every message
 * ("snapshot save", "core dump"). The temporary is mode 0600: guest memory may hold secrets.
 */
struct nub_file_writer {
	int fd;           /* -1 once committed or aborted */
	const char *path; /* borrowed until commit or abort */
	const char *what;
	char *tmp; /* the temporary's name, through (hook) */
	struct nub_alloc_hook hook;
};

/*
 * Starts writing (path): refuses, before creating anything, a (path) that exists and is not a
 * regular file (a device, FIFO, socket, directory or symbolic link is never replaced), naming
 * what it is (NUB_E_INVALID). Other errors: NUB_E_IO naming the call and errno, NUB_E_NOMEM.
 */
enum nub_status nub_file_writer_open(struct nub_file_writer *w, const char *path, const char *what,
				     const struct nub_alloc_hook *hook, struct nub_error *err);

/* Appends (len) bytes, retrying short writes and EINTR. NUB_E_IO names the temporary and errno. */
enum nub_status nub_file_writer_put(struct nub_file_writer *w, const void *data, size_t len,
				    struct nub_error *err);

/*
 * fsyncs the temporary, renames it over (path) and fsyncs the directory, so the new file is
 * durable once this returns NUB_OK. On error the temporary is removed (NUB_E_IO naming the
 * step). Either way (w) is finished.
 */
enum nub_status nub_file_writer_commit(struct nub_file_writer *w, struct nub_error *err);

/* Removes the temporary and finishes (w); a finished writer is fine. */
void nub_file_writer_abort(struct nub_file_writer *w);

#endif
