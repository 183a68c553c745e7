/* placeholder: the snapshot file format lands in the next commit */
typedef int nub_placeholder_snapshot_file;
