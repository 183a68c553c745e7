/* Reading a whole untrusted file into memory, with a size limit. */
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

#endif
