// The public header compiles as C++ and links from C++.
#include <cxm.h>

int main()
{
	cxm_config cfg;
	if (cxm_config_init(&cfg, sizeof cfg) != CXM_OK)
		return 1;
	cxm_context *ctx = nullptr;
	if (cxm_context_new(&ctx, &cfg) != CXM_OK)
		return 1;
	cxm_context_free(ctx);
	return cxm_libversion_number() == CXM_VERSION_NUMBER ? 0 : 1;
}
