#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include "CMediaShim.h"

int mavin_averror(int e) { return AVERROR(e); }
int mavin_averror_eof(void) { return AVERROR_EOF; }
int64_t mavin_av_nopts_value(void) { return AV_NOPTS_VALUE; }

#if defined(__GLIBC__)
#include <malloc.h>
int mavin_release_freed_memory(void) { return malloc_trim(0); }
#else
int mavin_release_freed_memory(void) { return 0; }
#endif
