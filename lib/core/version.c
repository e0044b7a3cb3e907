/* version.c — what --version and the report's context say about the build. */
#include "core.h"

const char ab_version[] = AB_VERSION;
const char ab_build_type[] = AB_BUILD_TYPE;
