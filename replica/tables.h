/* tables.h: the LMDB databases of a store (list in replica/store.h), shared by the
 * modules that read and write them inside one transaction. Internal to replica/. */
#ifndef HW_REPLICA_TABLES_H
#define HW_REPLICA_TABLES_H

#include <lmdb.h>
#include <stddef.h>

struct hw_tables {
	MDB_dbi log;
	MDB_dbi containers;
	MDB_dbi slots;
	MDB_dbi holds;
	MDB_dbi ids;
	MDB_dbi kv;
	MDB_dbi vessels;
	MDB_dbi wis;
	MDB_dbi audit;
	MDB_dbi meta;
	MDB_dbi quarantine;
	MDB_dbi drills;
};

/* An MDB_val over size bytes at data (LMDB takes it as non-const; it does not write). */
static inline MDB_val hw_mdb_val(const void *data, size_t size)
{
	MDB_val v = {.mv_size = size, .mv_data = (void *)data};
	return v;
}

#endif
