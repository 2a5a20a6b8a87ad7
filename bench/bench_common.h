/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_BENCH_COMMON_H
#define PHASOR_BENCH_COMMON_H
/* What the C benchmarks share: the PAC3200 quantities, a store configuration. */
#include <stddef.h>

#include "phasor/config.h"
#include "phasor/util.h"

/* The PAC3200 map of conf/profiles/pac3200.ini, in its order. */
#define BENCH_PAC3200_QTY                                                                     \
	"v_l1n", "v_l2n", "v_l3n", "v_l12", "v_l23", "v_l31", "i_l1", "i_l2", "i_l3", "s_l1",  \
	    "s_l2", "s_l3", "p_l1", "p_l2", "p_l3", "q_l1", "q_l2", "q_l3", "pf_l1", "pf_l2",   \
	    "pf_l3", "thd_v_l1", "thd_v_l2", "thd_v_l3", "thd_i_l1", "thd_i_l2", "thd_i_l3",    \
	    "freq", "s_total", "p_total", "q_total", "pf_total", "e_imp", "e_exp", "eq_imp",    \
	    "eq_exp"

/*
 * A configuration of n Modbus PAC3200 meters (names, or meter-0 ... when
 * NULL) polled every second, the buffer at store_path; free with config_free.
 */
static inline struct config *bench_config(const char *store_path, char *const *names, size_t n)
{
	struct config *c = util_calloc(1, sizeof(*c));
	size_t i;

	c->path = util_strdup("bench.ini");
	c->text = util_strdup("; bench\n");
	c->site.name = util_strdup("bench");
	c->store.path = util_strdup(store_path);
	c->meters = util_calloc(n, sizeof(*c->meters));
	c->nmeters = n;
	for (i = 0; i < n; i++) {
		c->meters[i].name = names ? util_strdup(names[i]) : util_printf("meter-%zu", i);
		c->meters[i].driver = DRIVER_MODBUS;
		c->meters[i].profile_name = util_strdup("pac3200");
		c->meters[i].host = util_strdup("127.0.0.1");
		c->meters[i].port = 502;
		c->meters[i].unit = (int)i + 1;
		c->meters[i].poll_ms = 1000;
	}
	return c;
}

#endif
