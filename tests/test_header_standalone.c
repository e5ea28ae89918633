/* The public header compiles on its own, first and alone, in C11. */
#include "custscore.h"

int main(void)
{
    custscore_unit unit = CUSTSCORE_UNIT_DAY;
    custscore_import_options options = CUSTSCORE_IMPORT_OPTIONS_INIT;
    return (int)unit - 1 + (options.version == CUSTSCORE_IMPORT_OPTIONS_VERSION ? 0 : 1);
}
