/* SPDX-License-Identifier: Apache-2.0 */
/* The one allocation path of the engine, through struct nub_alloc_hook. */
#ifndef NUB_ALLOC_H
#define NUB_ALLOC_H

#include <stddef.h>

#include "nub/nub.h"

/* Allocates (size) zeroed bytes through (hook) (NULL hook or NULL function = C library); NULL on failure or size 0. */
void *nub_alloc_zeroed(const struct nub_alloc_hook *hook, size_t size);
/* Resizes (ptr) (NULL = allocate) to (size) bytes; NULL on failure or size 0 (ptr is then untouched). */
void *nub_alloc_resize(const struct nub_alloc_hook *hook, void *ptr, size_t size);
/* Frees (ptr) through (hook); NULL is a no-op. */
void nub_alloc_free(const struct nub_alloc_hook *hook, void *ptr);

#endif
