/* The public header compiles alone, warning-free, as strict C99 and C11. */
#include <cxm.h>

int main(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cxm_interaction ix = CXM_INTERACTION_INIT;
	cxm_query q = CXM_QUERY_INIT;
	(void)ix;
	(void)q;
	return (int)cfg.size == 0 || cxm_libversion_number() != CXM_VERSION_NUMBER;
}
