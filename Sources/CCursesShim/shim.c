#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/ncurses.h>
#include "CCursesShim.h"

void *mavin_stdscr(void) { return stdscr; }
int mavin_lines(void) { return LINES; }
int mavin_cols(void) { return COLS; }
int mavin_a_bold(void) { return (int)A_BOLD; }
int mavin_a_reverse(void) { return (int)A_REVERSE; }
int mavin_a_dim(void) { return (int)A_DIM; }
int mavin_color_pair(int n) { return (int)COLOR_PAIR(n); }
void mavin_keypad_on(void) { keypad(stdscr, TRUE); }
/* No insert/delete-character or -line: pictures are written past ncurses, which does not know those cells, so
 * a shift it made to save bytes (a shorter line before a picture) would move the picture with the text. */
void mavin_no_shifts(void) { idcok(stdscr, FALSE); idlok(stdscr, FALSE); }
