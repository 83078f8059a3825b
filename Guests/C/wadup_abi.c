/* Compiles the ABI header once, so a mistake in it fails the guest build. */
#include "wadup.h"
