#include "cli-common/allocator.h"

#include <malloc.h>

namespace punchlab::cli {

void HoldMmapThreshold() {
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace punchlab::cli
