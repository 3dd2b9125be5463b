#include <oneapi/dnnl/dnnl.h>

// Debian's oneDNN runs its primitives on OpenMP (libgomp). The engine sets each calling thread's team size:
// all of --threads for one image on the calling thread, one inside the engine's own per-image threads.
// Declared here rather than through <omp.h>, which lives in GCC's private include folder.
void omp_set_num_threads(int count);
