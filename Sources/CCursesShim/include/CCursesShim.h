#ifndef MAVIN_C_CURSES_SHIM_H
#define MAVIN_C_CURSES_SHIM_H
#include <stdint.h>
#include <stddef.h>

// ncurses globals and macros Swift cannot import (A_BOLD etc. are function-like in the headers).
void *mavin_stdscr(void);
int mavin_lines(void);
int mavin_cols(void);
int mavin_a_bold(void);
int mavin_a_reverse(void);
int mavin_a_dim(void);
int mavin_color_pair(int n);
void mavin_keypad_on(void);
void mavin_no_shifts(void);
#endif
