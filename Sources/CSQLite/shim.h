#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: bind calls copy their data through it.
static inline sqlite3_destructor_type imgcls_sqlite_transient(void) { return SQLITE_TRANSIENT; }
