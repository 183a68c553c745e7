/* SPDX-License-Identifier: Apache-2.0 */
/* Defaults and validation of struct nub_config (public functions in nub.h). */
#ifndef NUB_CONFIG_H
#define NUB_CONFIG_H

#include "nub/nub.h"

#define NUB_DEFAULT_IO_SIZE 0x4000u
#define NUB_MIN_IO_SIZE 0x2000u
#define NUB_MAX_IO_SIZE 0x1000000u /* 16 MiB per buffer: frames carry u32 lengths */
#define NUB_DEFAULT_HEAP_SIZE 0x20000u
#define NUB_MAX_HEAP_SIZE 0x40000000u /* 1 GiB */
#define NUB_DEFAULT_STACK_SIZE 0x8000u
#define NUB_MIN_STACK_SIZE 0x2000u
#define NUB_MAX_STACK_SIZE 0x1000000u

/*
 * Copies (in) (NULL = defaults) into (out), replacing zero sizes by defaults and rounding sizes up
 * to pages; then validates. Errors name the field and value (NUB_E_INVALID / NUB_E_LAYOUT).
 */
enum nub_status nub_config_resolve(const struct nub_config *in, struct nub_config *out,
				   struct nub_error *err);

#endif
