/* The public plugin header, included first and alone, in strict C11. */
#include "allocbench-plugin.h"

int main(void)
{
    struct allocbench_plugin p = {0};
    return (int)p.abi_version + (ALLOCBENCH_PLUGIN_ABI_VERSION == 1 ? 0 : 1);
}
