#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: bind calls copy their data through it.
static inline sqlite3_destructor_type imgcls_sqlite_transient(void) { return SQLITE_TRANSIENT; }

// sqlite3_config is variadic, which Swift cannot call. Memory statistics take a global mutex on every
// allocation; imgcls reads none of them. Must run before the first connection opens.
static inline int imgcls_sqlite_disable_memory_statistics(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }
