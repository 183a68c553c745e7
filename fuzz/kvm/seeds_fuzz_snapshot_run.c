/* SPDX-License-Identifier: Apache-2.0 */
/* Seeds of fuzz_snapshot_run: snapshot files to load and run, constructed and real. */
#include "seedgen.h"

/* The small constructed snapshot and, with /dev/kvm, real snapshots of `simple` and `dummy`. */
void seeds_fuzz_snapshot_run(struct seedgen *g)
{
	struct nub_buf f;

	seedgen_small_snapshot(&f);
	seedgen_write(g, "constructed-small", f.data, f.len);
	nub_buf_free(&f);
	seedgen_kvm_snapshots(g);
}
