// Debian's libxml2 is built with ICU, whose headers clash with Foundation's ICU copy on clean builds.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <libxml/xmlmemory.h>

// Swift 6 rejects the mutable C global xmlFree.
static inline void imgcls_xml_free(void *p) { xmlFree(p); }
