#include "common.h"
#include "units.h"

int main(void)
{
    SAY("main", "%s %s starting", APP_NAME, APP_VERSION);
    unit_greet();
    unit_mathx();
    unit_strutil();
    unit_features();
    unit_build_info();
    unit_logo();
    SAY("main", "done");
    return 0;
}
