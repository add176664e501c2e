#ifndef MAVIN_C_MEDIA_SHIM_H
#define MAVIN_C_MEDIA_SHIM_H
#include <stdint.h>
#include <stddef.h>

// FFmpeg macros Swift cannot import.
int mavin_averror(int posixError);
int mavin_averror_eof(void);
int64_t mavin_av_nopts_value(void);

// Returns freed heap to the system (glibc's malloc_trim); 0 where there is none.
int mavin_release_freed_memory(void);
#endif
