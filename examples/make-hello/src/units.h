#ifndef MAKE_HELLO_UNITS_H
#define MAKE_HELLO_UNITS_H

/* One entry point per compilation unit; main.c calls them in order. */
void unit_greet(void);
void unit_mathx(void);
void unit_strutil(void);
void unit_features(void);
void unit_build_info(void); /* generated: build-info.c */
void unit_logo(void);

#endif
