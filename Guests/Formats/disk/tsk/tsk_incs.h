#ifndef _TSK_INCS_H
#define _TSK_INCS_H
/* In place of ./configure's: no TSK_MULTITHREAD_LIB (a module instance is single-threaded). */
#include <unistd.h>
#ifndef __STDC_FORMAT_MACROS
#define  __STDC_FORMAT_MACROS
#endif
#include <inttypes.h>
#include <sys/param.h>
#endif
