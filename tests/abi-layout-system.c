/* The facts as the system's libaio 0.3.113 header states them. */
#include SYSTEM_LIBAIO_H
#include "abi-layout.h"

#define ABI_SUFFIX system
#include "abi-layout.inc"
