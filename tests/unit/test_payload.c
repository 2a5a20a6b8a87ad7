// SPDX-License-Identifier: MIT
/*
 * Unit tests of payload.c: MQTT payloads of real devices (Shelly Pro 3EM,
 * Shelly 3EM, Tasmota) decoded with hand-built profiles, every reject
 * reason, and tables of topic filter matching and validation.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "phasor/diag.h"
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/util.h"
#include "support.h"

#define F(p, q, sc) { .path = (char *)(p), .qty = (q), .phase_qty = { -1, -1, -1 }, .scale = (sc) }
#define FP(p, q, a, b, c, sc)                                                 \
	{ .path = (char *)(p), .qty = (q), .phase_qty = { (a), (b), (c) }, .scale = (sc) }

/* ---- profiles, built by hand ------------------------------------------- */

static struct profile_field pro3em_fields[] = {
	F("a_current", QTY_I_L1, 1), F("b_current", QTY_I_L2, 1), F("c_current", QTY_I_L3, 1),
	F("n_current", QTY_I_N, 1),
	F("a_voltage", QTY_V_L1N, 1), F("b_voltage", QTY_V_L2N, 1), F("c_voltage", QTY_V_L3N, 1),
	F("a_act_power", QTY_P_L1, 1), F("b_act_power", QTY_P_L2, 1),
	F("c_act_power", QTY_P_L3, 1),
	F("a_aprt_power", QTY_S_L1, 1), F("b_aprt_power", QTY_S_L2, 1),
	F("c_aprt_power", QTY_S_L3, 1),
	F("a_pf", QTY_PF_L1, 1), F("b_pf", QTY_PF_L2, 1), F("c_pf", QTY_PF_L3, 1),
	F("a_freq", QTY_FREQ, 1),
	F("total_act_power", QTY_P_TOTAL, 1), F("total_aprt_power", QTY_S_TOTAL, 1),
	F("a_total_act_energy", QTY_E_IMP_L1, 1), F("b_total_act_energy", QTY_E_IMP_L2, 1),
	F("c_total_act_energy", QTY_E_IMP_L3, 1),
	F("a_total_act_ret_energy", QTY_E_EXP_L1, 1), F("b_total_act_ret_energy", QTY_E_EXP_L2, 1),
	F("c_total_act_ret_energy", QTY_E_EXP_L3, 1),
	F("total_act", QTY_E_IMP, 1), F("total_act_ret", QTY_E_EXP, 1),
};
static char *pro3em_containers[] = { (char *)"params.em:0", (char *)"params.emdata:0" };
static struct profile pro3em = {
	.name = (char *)"shelly-pro3em", .driver = PROFILE_MQTT, .format = PAYLOAD_JSON,
	.containers = pro3em_containers, .ncontainers = 2,
	.fields = pro3em_fields, .nfields = UTIL_ARRAY_LEN(pro3em_fields),
};

static struct profile_field shelly3em_fields[] = {
	F("emeter/0/power", QTY_P_L1, 1), F("emeter/1/power", QTY_P_L2, 1),
	F("emeter/2/power", QTY_P_L3, 1),
	F("emeter/0/pf", QTY_PF_L1, 1), F("emeter/1/pf", QTY_PF_L2, 1), F("emeter/2/pf", QTY_PF_L3, 1),
	F("emeter/0/current", QTY_I_L1, 1), F("emeter/1/current", QTY_I_L2, 1),
	F("emeter/2/current", QTY_I_L3, 1),
	F("emeter/0/voltage", QTY_V_L1N, 1), F("emeter/1/voltage", QTY_V_L2N, 1),
	F("emeter/2/voltage", QTY_V_L3N, 1),
	F("emeter/0/total", QTY_E_IMP_L1, 1), F("emeter/1/total", QTY_E_IMP_L2, 1),
	F("emeter/2/total", QTY_E_IMP_L3, 1),
	F("emeter/0/total_returned", QTY_E_EXP_L1, 1), F("emeter/1/total_returned", QTY_E_EXP_L2, 1),
	F("emeter/2/total_returned", QTY_E_EXP_L3, 1),
};
static struct profile shelly3em = {
	.name = (char *)"shelly-3em", .driver = PROFILE_MQTT, .format = PAYLOAD_PLAIN,
	.fields = shelly3em_fields, .nfields = UTIL_ARRAY_LEN(shelly3em_fields),
};

static struct profile_field tasmota_fields[] = {
	FP("ENERGY.Total", QTY_E_IMP, QTY_E_IMP_L1, QTY_E_IMP_L2, QTY_E_IMP_L3, 1000),
	FP("ENERGY.Power", QTY_P_TOTAL, QTY_P_L1, QTY_P_L2, QTY_P_L3, 1),
	FP("ENERGY.ApparentPower", QTY_S_TOTAL, QTY_S_L1, QTY_S_L2, QTY_S_L3, 1),
	FP("ENERGY.ReactivePower", QTY_Q_TOTAL, QTY_Q_L1, QTY_Q_L2, QTY_Q_L3, 1),
	FP("ENERGY.Factor", QTY_PF_TOTAL, QTY_PF_L1, QTY_PF_L2, QTY_PF_L3, 1),
	FP("ENERGY.Voltage", QTY_V_L1N, QTY_V_L1N, QTY_V_L2N, QTY_V_L3N, 1),
	/* phases only: a single channel's number is L1 */
	FP("ENERGY.Current", -1, QTY_I_L1, QTY_I_L2, QTY_I_L3, 1),
	/* no phases: an array gives its first element */
	F("ENERGY.Frequency", QTY_FREQ, 1),
};
static struct profile tasmota = {
	.name = (char *)"tasmota", .driver = PROFILE_MQTT, .format = PAYLOAD_JSON,
	.fields = tasmota_fields, .nfields = UTIL_ARRAY_LEN(tasmota_fields),
};

/* ---- the decode table --------------------------------------------------- */

#define BAD QUALITY_BAD
#define GOOD QUALITY_GOOD
#define MAXEXP 32

struct exp_sample {
	int qty;
	double value;     /* NAN: expect NaN */
	int quality;
};

struct dcase {
	const char *name;
	const struct profile *p;
	const char *topic;
	const char *payload;
	size_t len;       /* 0: strlen(payload) */
	size_t cap;       /* 0: 64 */
	enum payload_status st;
	const char *err;  /* a substring of the reason, or NULL */
	size_t n;
	struct exp_sample s[MAXEXP];
};

#define PRO3EM_STATUS                                                         \
	"{\"id\":0,\"a_current\":4.029,\"a_voltage\":236.1,\"a_act_power\":951.2,"  \
	"\"a_aprt_power\":951.9,\"a_pf\":1.00,\"a_freq\":50.0,\"b_current\":4.027," \
	"\"b_voltage\":236.2,\"b_act_power\":-951.1,\"b_aprt_power\":951.8,"         \
	"\"b_pf\":-1.00,\"b_freq\":50.0,\"c_current\":3.03,\"c_voltage\":236.4,"   \
	"\"c_act_power\":715.0,\"c_aprt_power\":716.2,\"c_pf\":0.99,\"c_freq\":49.9," \
	"\"n_current\":null,\"total_current\":11.086,\"total_act_power\":715.1,"    \
	"\"total_aprt_power\":2619.9,\"user_calibrated_phase\":[]}"

static const struct dcase dcases[] = {
	{ "pro3em full em:0 status", &pro3em, "shellypro3em-x/status/em:0", PRO3EM_STATUS, 0, 0,
	  PAYLOAD_OK, NULL, 19,
	  { { QTY_I_L1, 4.029, GOOD }, { QTY_I_L2, 4.027, GOOD }, { QTY_I_L3, 3.03, GOOD },
	    { QTY_I_N, NAN, BAD },
	    { QTY_V_L1N, 236.1, GOOD }, { QTY_V_L2N, 236.2, GOOD }, { QTY_V_L3N, 236.4, GOOD },
	    { QTY_P_L1, 951.2, GOOD }, { QTY_P_L2, -951.1, GOOD }, { QTY_P_L3, 715.0, GOOD },
	    { QTY_S_L1, 951.9, GOOD }, { QTY_S_L2, 951.8, GOOD }, { QTY_S_L3, 716.2, GOOD },
	    { QTY_PF_L1, 1.0, GOOD }, { QTY_PF_L2, -1.0, GOOD }, { QTY_PF_L3, 0.99, GOOD },
	    { QTY_FREQ, 50.0, GOOD },
	    { QTY_P_TOTAL, 715.1, GOOD }, { QTY_S_TOTAL, 2619.9, GOOD } } },
	{ "pro3em partial notification", &pro3em, "shellypro3em-x/events/rpc",
	  "{\"src\":\"shellypro3em-x\",\"dst\":\"phasor\",\"method\":\"NotifyStatus\","
	  "\"params\":{\"ts\":1763820000.12,\"em:0\":{\"id\":0,\"a_act_power\":1001.5,"
	  "\"total_act_power\":2500.25}}}", 0, 0,
	  PAYLOAD_OK, NULL, 2, { { QTY_P_L1, 1001.5, GOOD }, { QTY_P_TOTAL, 2500.25, GOOD } } },
	{ "pro3em emdata:0 energies", &pro3em, "shellypro3em-x/status/emdata:0",
	  "{\"id\":0,\"a_total_act_energy\":120034.5,\"a_total_act_ret_energy\":0,"
	  "\"b_total_act_energy\":98012.25,\"b_total_act_ret_energy\":10.5,"
	  "\"c_total_act_energy\":77000,\"c_total_act_ret_energy\":0.25,"
	  "\"total_act\":295046.75,\"total_act_ret\":10.75}", 0, 0,
	  PAYLOAD_OK, NULL, 8,
	  { { QTY_E_IMP_L1, 120034.5, GOOD }, { QTY_E_EXP_L1, 0, GOOD },
	    { QTY_E_IMP_L2, 98012.25, GOOD }, { QTY_E_EXP_L2, 10.5, GOOD },
	    { QTY_E_IMP_L3, 77000, GOOD }, { QTY_E_EXP_L3, 0.25, GOOD },
	    { QTY_E_IMP, 295046.75, GOOD }, { QTY_E_EXP, 10.75, GOOD } } },
	{ "pro3em emdata:0 in a notification", &pro3em, "shellypro3em-x/events/rpc",
	  "{\"method\":\"NotifyStatus\",\"params\":{\"emdata:0\":{\"total_act\":1.5}}}", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_E_IMP, 1.5, GOOD } } },
	{ "root wins over a container", &pro3em, "t",
	  "{\"a_voltage\":230,\"params\":{\"em:0\":{\"a_voltage\":999}}}", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_V_L1N, 230, GOOD } } },
	{ "tasmota single channel, kWh to Wh", &tasmota, "tele/plug/SENSOR",
	  "{\"Time\":\"2026-11-22T14:00:00\",\"ENERGY\":{\"TotalStartTime\":\"2025-01-01T00:00:00\","
	  "\"Total\":123.456,\"Yesterday\":1.2,\"Today\":0.5,\"Period\":0,\"Power\":150,"
	  "\"ApparentPower\":170,\"ReactivePower\":80,\"Factor\":0.88,\"Frequency\":50.02,"
	  "\"Voltage\":231,\"Current\":0.74}}", 0, 0,
	  PAYLOAD_OK, NULL, 8,
	  { { QTY_E_IMP, 123456, GOOD }, { QTY_P_TOTAL, 150, GOOD }, { QTY_S_TOTAL, 170, GOOD },
	    { QTY_Q_TOTAL, 80, GOOD }, { QTY_PF_TOTAL, 0.88, GOOD }, { QTY_V_L1N, 231, GOOD },
	    { QTY_I_L1, 0.74, GOOD }, { QTY_FREQ, 50.02, GOOD } } },
	{ "tasmota three phases", &tasmota, "tele/pm3/SENSOR",
	  "{\"ENERGY\":{\"Total\":[1.5,2.25,3.125],\"Power\":[100,200,-300],"
	  "\"Voltage\":[230.1,231.2,232.3],\"Current\":[0.5,1,1.5],\"Factor\":[0.9,0.8,0.7],"
	  "\"Frequency\":[50.01,50.02,50.03]}}", 0, 0,
	  PAYLOAD_OK, NULL, 16,
	  { { QTY_E_IMP_L1, 1500, GOOD }, { QTY_E_IMP_L2, 2250, GOOD }, { QTY_E_IMP_L3, 3125, GOOD },
	    { QTY_P_L1, 100, GOOD }, { QTY_P_L2, 200, GOOD }, { QTY_P_L3, -300, GOOD },
	    { QTY_V_L1N, 230.1, GOOD }, { QTY_V_L2N, 231.2, GOOD }, { QTY_V_L3N, 232.3, GOOD },
	    { QTY_I_L1, 0.5, GOOD }, { QTY_I_L2, 1, GOOD }, { QTY_I_L3, 1.5, GOOD },
	    { QTY_PF_L1, 0.9, GOOD }, { QTY_PF_L2, 0.8, GOOD }, { QTY_PF_L3, 0.7, GOOD },
	    { QTY_FREQ, 50.01, GOOD } } },
	{ "tasmota array with phases unset: element 0", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Frequency\":[49.98,50.5]}}", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_FREQ, 49.98, GOOD } } },
	{ "tasmota null phase element", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Voltage\":[230,null,232]}}", 0, 0,
	  PAYLOAD_OK, NULL, 3,
	  { { QTY_V_L1N, 230, GOOD }, { QTY_V_L2N, NAN, BAD }, { QTY_V_L3N, 232, GOOD } } },
	{ "tasmota array of 2 for 3 phases", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Power\":10,\"Voltage\":[230,231]}}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "ENERGY.Voltage is an array of 2", 0, { { 0 } } },
	{ "tasmota array element is a string", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Voltage\":[230,\"x\",232]}}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "ENERGY.Voltage[1] is a string", 0, { { 0 } } },
	{ "tasmota empty array", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Frequency\":[]}}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "empty array", 0, { { 0 } } },
	{ "null is NaN, bad", &pro3em, "t", "{\"a_voltage\":null}", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_V_L1N, NAN, BAD } } },
	{ "numeric string accepted", &pro3em, "t", "{\"a_voltage\":\"230.5\",\"a_pf\":\" -0.5 \"}",
	  0, 0, PAYLOAD_OK, NULL, 2, { { QTY_V_L1N, 230.5, GOOD }, { QTY_PF_L1, -0.5, GOOD } } },
	{ "string: nothing stored", &pro3em, "t", "{\"b_voltage\":230,\"a_voltage\":\"n/a\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "field a_voltage is a string", 0, { { 0 } } },
	{ "string nan refused", &pro3em, "t", "{\"a_voltage\":\"nan\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	/* strings: a plain decimal number, nothing else strtod would take */
	{ "string with blanks around", &pro3em, "t", "{\"a_voltage\":\" 230.5 \"}", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_V_L1N, 230.5, GOOD } } },
	{ "string with an exponent", &pro3em, "t",
	  "{\"a_act_power\":\"1e3\",\"b_act_power\":\"-2.5E+2\",\"c_act_power\":\"+.5\","
	  "\"a_current\":\"7.\"}", 0, 0, PAYLOAD_OK, NULL, 4,
	  { { QTY_P_L1, 1000, GOOD }, { QTY_P_L2, -250, GOOD }, { QTY_P_L3, 0.5, GOOD },
	    { QTY_I_L1, 7, GOOD } } },
	{ "string hex refused", &pro3em, "t", "{\"a_voltage\":\"0x1F\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string with an escaped NUL refused", &pro3em, "t",
	  "{\"a_voltage\":\"207\\u0000garbage\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string ending in an escaped NUL refused", &pro3em, "t",
	  "{\"b_voltage\":230,\"a_voltage\":\"207\\u0000\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "key with an escaped NUL is another key", &pro3em, "t",
	  "{\"a_voltage\\u0000x\":207}", 0, 0, PAYLOAD_NO_FIELD, NULL, 0, { { 0 } } },
	{ "an escaped backslash before u0000 is text", &pro3em, "t",
	  "{\"name\":\"C:\\\\u0000\",\"a_voltage\":\"230.5\"}", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_V_L1N, 230.5, GOOD } } },
	{ "string inf refused", &pro3em, "t", "{\"a_voltage\":\"inf\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string -Infinity refused", &pro3em, "t", "{\"a_voltage\":\"-Infinity\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string nan(1) refused", &pro3em, "t", "{\"a_voltage\":\"nan(1)\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string over the double range refused", &pro3em, "t", "{\"a_voltage\":\"1e999\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string with a decimal comma refused", &pro3em, "t", "{\"a_voltage\":\"230,5\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string with an empty exponent refused", &pro3em, "t", "{\"a_voltage\":\"230e\"}", 0,
	  0, PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string point alone refused", &pro3em, "t", "{\"a_voltage\":\" . \"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string blank refused", &pro3em, "t", "{\"a_voltage\":\"  \"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string two numbers refused", &pro3em, "t", "{\"a_voltage\":\"230 5\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	{ "string with a sign only refused", &pro3em, "t", "{\"a_voltage\":\"-\"}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "a_voltage is a string", 0, { { 0 } } },
	/* exact decimal scaling: Tasmota kWh -> Wh */
	{ "tasmota 1.001 kWh is 1001 Wh", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Total\":1.001}}", 0, 0, PAYLOAD_OK, NULL, 1, { { QTY_E_IMP, 1001, GOOD } } },
	{ "tasmota kWh phases exact", &tasmota, "tele/x/SENSOR",
	  "{\"ENERGY\":{\"Total\":[2.01,1.005,\"1.001\"]}}", 0, 0, PAYLOAD_OK, NULL, 3,
	  { { QTY_E_IMP_L1, 2010, GOOD }, { QTY_E_IMP_L2, 1005, GOOD }, { QTY_E_IMP_L3, 1001, GOOD } } },
	{ "bool: nothing stored", &pro3em, "t", "{\"a_voltage\":230,\"a_pf\":true}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "field a_pf is a boolean", 0, { { 0 } } },
	{ "object: nothing stored", &pro3em, "t", "{\"a_voltage\":{\"v\":230}}", 0, 0,
	  PAYLOAD_NON_NUMERIC, "field a_voltage is an object", 0, { { 0 } } },
	{ "malformed: not JSON", &pro3em, "t", "hello", 0, 0,
	  PAYLOAD_MALFORMED, "JSON parse error at byte 0", 0, { { 0 } } },
	{ "malformed: truncated", &pro3em, "t", "{\"a_voltage\":230,\"b_voltage\":", 0, 0,
	  PAYLOAD_MALFORMED, "JSON parse error at byte", 0, { { 0 } } },
	{ "malformed: array root", &pro3em, "t", "[230,231]", 0, 0,
	  PAYLOAD_MALFORMED, "not a JSON object", 0, { { 0 } } },
	{ "malformed: number root", &pro3em, "t", "230", 0, 0,
	  PAYLOAD_MALFORMED, "not a JSON object", 0, { { 0 } } },
	{ "malformed: trailing data", &pro3em, "t", "{\"a_voltage\":230} x", 0, 0,
	  PAYLOAD_MALFORMED, "trailing data", 0, { { 0 } } },
	{ "malformed: empty", &pro3em, "t", "", 0, 0,
	  PAYLOAD_MALFORMED, "empty payload", 0, { { 0 } } },
	{ "length bounds the parse (no NUL needed)", &pro3em, "t", "{\"a_voltage\":230}GARBAGE",
	  17, 0, PAYLOAD_OK, NULL, 1, { { QTY_V_L1N, 230, GOOD } } },
	{ "white space after the object", &pro3em, "t", "{\"a_voltage\":230}\r\n", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_V_L1N, 230, GOOD } } },
	{ "no mapped field", &pro3em, "shellypro3em-x/status/sys",
	  "{\"mac\":\"A8032A000000\",\"uptime\":1234}", 0, 0,
	  PAYLOAD_NO_FIELD, "no mapped field", 0, { { 0 } } },
	{ "pf 7 kept as read, bad", &pro3em, "t", "{\"a_pf\":7,\"a_voltage\":230}", 0, 0,
	  PAYLOAD_OK, NULL, 2, { { QTY_PF_L1, 7, BAD }, { QTY_V_L1N, 230, GOOD } } },
	{ "cap smaller than the fields", &pro3em, "t", PRO3EM_STATUS, 0, 3,
	  PAYLOAD_OK, NULL, 3,
	  { { QTY_I_L1, 4.029, GOOD }, { QTY_I_L2, 4.027, GOOD }, { QTY_I_L3, 3.03, GOOD } } },
	/* Shelly Gen1 plain topics, more below (one row per suffix) */
	{ "plain: white space trimmed", &shelly3em, "shellies/x/emeter/1/voltage", " 231.5\n", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_V_L2N, 231.5, GOOD } } },
	{ "plain: nan", &shelly3em, "shellies/x/emeter/0/power", "nan", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_P_L1, NAN, BAD } } },
	{ "plain: empty", &shelly3em, "shellies/x/emeter/0/power", "", 0, 0,
	  PAYLOAD_MALFORMED, "empty payload", 0, { { 0 } } },
	{ "plain: garbage", &shelly3em, "shellies/x/emeter/0/power", "12.5W", 0, 0,
	  PAYLOAD_MALFORMED, "not a number", 0, { { 0 } } },
	{ "plain: JSON is not a number", &shelly3em, "shellies/x/emeter/0/power", "{\"p\":1}", 0, 0,
	  PAYLOAD_MALFORMED, "not a number", 0, { { 0 } } },
	{ "plain: unmapped suffix", &shelly3em, "shellies/x/emeter/0/energy", "12", 0, 0,
	  PAYLOAD_NO_FIELD, "no field", 0, { { 0 } } },
	{ "plain: suffix only at a level boundary", &shelly3em, "shellies/x/emeter/0/xpower", "12",
	  0, 0, PAYLOAD_NO_FIELD, NULL, 0, { { 0 } } },
	{ "plain: unmapped topic", &shelly3em, "shellies/x/relay/0", "on", 0, 0,
	  PAYLOAD_NO_FIELD, NULL, 0, { { 0 } } },
	{ "plain: pf 7 bad", &shelly3em, "shellies/x/emeter/2/pf", "7", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_PF_L3, 7, BAD } } },
	{ "plain: exponent", &shelly3em, "shellies/x/emeter/0/power", "1.5e3", 0, 0,
	  PAYLOAD_OK, NULL, 1, { { QTY_P_L1, 1500, GOOD } } },
	{ "plain: hex refused", &shelly3em, "shellies/x/emeter/0/power", "0x1F", 0, 0,
	  PAYLOAD_MALFORMED, "not a number", 0, { { 0 } } },
	{ "plain: inf refused", &shelly3em, "shellies/x/emeter/0/power", "inf", 0, 0,
	  PAYLOAD_MALFORMED, "not a number", 0, { { 0 } } },
	{ "plain: decimal comma refused", &shelly3em, "shellies/x/emeter/0/power", "12,5", 0, 0,
	  PAYLOAD_MALFORMED, "not a number", 0, { { 0 } } },
	{ "plain: embedded NUL refused", &shelly3em, "shellies/x/emeter/0/power", "207\0garbage",
	  11, 0, PAYLOAD_MALFORMED, "not a number", 0, { { 0 } } },
	{ "plain: over the double range, bad", &shelly3em, "shellies/x/emeter/0/power", "1e999", 0,
	  0, PAYLOAD_OK, NULL, 1, { { QTY_P_L1, INFINITY, BAD } } },
};

static void check_case(const struct dcase *c, const struct profile *p)
{
	struct sample out[64];
	char err[160];
	size_t n = 999, len = c->len != 0 ? c->len : strlen(c->payload);
	size_t cap = c->cap != 0 ? c->cap : UTIL_ARRAY_LEN(out), i, k;
	enum payload_status st;

	memset(out, 0xa5, sizeof(out));
	st = payload_decode(p, c->topic, c->payload, len, 7, 1763820000123456, out, cap, &n,
			    err, sizeof(err));
	if (st != c->st || n != c->n)
		fail_msg("%s (%s): status %s n %zu (err '%s'), expected %s n %zu", c->name,
			 p->path != NULL ? p->path : "by hand", payload_status_name(st), n, err,
			 payload_status_name(c->st), c->n);
	if (st != PAYLOAD_OK) {
		assert_true(err[0] != '\0');
		if (c->err != NULL && strstr(err, c->err) == NULL)
			fail_msg("%s: err '%s' lacks '%s'", c->name, err, c->err);
	}
	for (i = 0; i < c->n; i++) {
		const struct exp_sample *e = &c->s[i];
		const struct sample *s = NULL;

		for (k = 0; k < n; k++)
			if (out[k].qty == e->qty) {
				if (s != NULL)
					fail_msg("%s: %s twice", c->name, qty_name((unsigned)e->qty));
				s = &out[k];
			}
		if (s == NULL)
			fail_msg("%s: no %s", c->name, qty_name((unsigned)e->qty));
		assert_int_equal(s->meter, 7);
		assert_true(s->t_us == 1763820000123456);
		/* exact: a decimal scaled by a power of ten is that decimal's double */
		if (isnan(e->value) ? !isnan(s->value) : s->value != e->value)
			fail_msg("%s: %s = %.17g, expected %.17g", c->name,
				 qty_name((unsigned)e->qty), s->value, e->value);
		if (s->quality != e->quality)
			fail_msg("%s: %s quality %d", c->name, qty_name((unsigned)e->qty),
				 s->quality);
	}
}

static void test_decode_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(dcases); i++)
		check_case(&dcases[i], dcases[i].p);
}

/* ---- the shipped profiles (conf/profiles) ------------------------------- */

static struct profile *shipped[3];

/* PHASOR_PROFILES=<repo>/conf/profiles unless already set. */
static void find_profiles_dir(void)
{
	if (getenv("PHASOR_PROFILES") == NULL)
		setenv("PHASOR_PROFILES", test_path("conf/profiles"), 1);
}

static struct profile *load_shipped(const char *name)
{
	char path[1024];
	struct diag d;
	struct profile *p;

	diag_init(&d);
	if (profile_find(name, path, sizeof(path)) != 0)
		fail_msg("profile %s not found (PHASOR_PROFILES=%s)", name,
			 getenv("PHASOR_PROFILES") != NULL ? getenv("PHASOR_PROFILES") : "");
	p = profile_load(path, name, &d);
	if (p == NULL) {
		diag_print(&d, stderr);
		fail_msg("profile %s does not load", path);
	}
	diag_clear(&d);
	assert_int_equal(p->driver, PROFILE_MQTT);
	return p;
}

static int shipped_setup(void **state)
{
	(void)state;
	find_profiles_dir();
	shipped[0] = load_shipped("shelly-pro3em");
	shipped[1] = load_shipped("shelly-3em");
	shipped[2] = load_shipped("tasmota");
	return 0;
}

static int shipped_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(shipped); i++) {
		profile_free(shipped[i]);
		shipped[i] = NULL;
	}
	return 0;
}

/*
 * The same table with the shipped profiles in place of the hand-built
 * ones: real-looking payloads decode the same way through the files users
 * get.
 */
static void test_decode_table_shipped(void **state)
{
	size_t i, ran = 0;

	(void)state;
	assert_int_equal(shipped[0]->format, PAYLOAD_JSON);
	assert_int_equal(shipped[1]->format, PAYLOAD_PLAIN);
	assert_int_equal(shipped[2]->format, PAYLOAD_JSON);
	for (i = 0; i < UTIL_ARRAY_LEN(dcases); i++) {
		const struct dcase *c = &dcases[i];
		const struct profile *p = c->p == &pro3em      ? shipped[0]
					  : c->p == &shelly3em ? shipped[1]
					  : c->p == &tasmota   ? shipped[2]
							       : NULL;

		assert_non_null(p);
		/* which fields fit a small cap depends on the field order */
		if (c->cap != 0)
			continue;
		check_case(c, p);
		ran++;
	}
	assert_true(ran + 1 == UTIL_ARRAY_LEN(dcases));
}

/* Shelly Gen1: every suffix of every channel maps to its quantity. */
static void test_shelly_gen1_suffixes(void **state)
{
	static const struct {
		const char *suffix;
		int qty[3];
		double base;
	} map[] = {
		{ "power", { QTY_P_L1, QTY_P_L2, QTY_P_L3 }, -1234.5 },
		{ "pf", { QTY_PF_L1, QTY_PF_L2, QTY_PF_L3 }, 0.5 },
		{ "current", { QTY_I_L1, QTY_I_L2, QTY_I_L3 }, 5.25 },
		{ "voltage", { QTY_V_L1N, QTY_V_L2N, QTY_V_L3N }, 230.5 },
		{ "total", { QTY_E_IMP_L1, QTY_E_IMP_L2, QTY_E_IMP_L3 }, 100000.75 },
		{ "total_returned", { QTY_E_EXP_L1, QTY_E_EXP_L2, QTY_E_EXP_L3 }, 12.5 },
	};
	const struct profile *profiles[2] = { &shelly3em, shipped[1] };
	size_t i, pi;
	int ch;

	(void)state;
	for (pi = 0; pi < 2; pi++)
	for (i = 0; i < UTIL_ARRAY_LEN(map); i++)
		for (ch = 0; ch < 3; ch++) {
			char topic[96], payload[32], err[128];
			struct sample s;
			size_t n;
			double v = map[i].base + 0.125 * (double)ch;

			snprintf(topic, sizeof(topic), "shellies/shellyem3-A1B2/emeter/%d/%s", ch,
				 map[i].suffix);
			snprintf(payload, sizeof(payload), "%.3f", v);
			/* not NUL-terminated at len: a following digit must not count */
			strcat(payload, "9");
			assert_non_null(profiles[pi]);
			assert_int_equal(payload_decode(profiles[pi], topic, payload,
							strlen(payload) - 1, 2, 5, &s, 1, &n,
							err, sizeof(err)),
					 PAYLOAD_OK);
			assert_int_equal(n, 1);
			assert_int_equal(s.qty, map[i].qty[ch]);
			assert_true(fabs(s.value - v) < 1e-12);
			assert_int_equal(s.quality, QUALITY_GOOD);
			assert_int_equal(s.meter, 2);
		}
}

static void test_too_large(void **state)
{
	size_t len = PAYLOAD_MAX_BYTES + 1, n = 5;
	char *big = malloc(len), err[128];
	struct sample s;

	(void)state;
	assert_non_null(big);
	/* valid JSON would be accepted if it were parsed */
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	assert_int_equal(payload_decode(&pro3em, "t", big, len, 0, 0, &s, 1, &n, err, sizeof(err)),
			 PAYLOAD_TOO_LARGE);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "65537"));
	assert_int_equal(payload_decode(&shelly3em, "x/emeter/0/power", big, len, 0, 0, &s, 1, &n,
					err, sizeof(err)),
			 PAYLOAD_TOO_LARGE);
	/* exactly the maximum is parsed: an object with no mapped field */
	assert_int_equal(payload_decode(&pro3em, "t", big, PAYLOAD_MAX_BYTES - 0, 0, 0, &s, 1, &n,
					err, sizeof(err)),
			 PAYLOAD_MALFORMED); /* no closing brace within the length */
	big[PAYLOAD_MAX_BYTES - 1] = '}';
	assert_int_equal(payload_decode(&pro3em, "t", big, PAYLOAD_MAX_BYTES, 0, 0, &s, 1, &n,
					err, sizeof(err)),
			 PAYLOAD_NO_FIELD);
	free(big);
}

/* An error text never carries payload bytes (control characters). */
static void test_err_has_no_payload_bytes(void **state)
{
	const char *evil = "{\"a_voltage\":\"\x1b[2J\",\"x\":1}";
	char err[160];
	struct sample s;
	size_t n;

	(void)state;
	assert_int_equal(payload_decode(&pro3em, "t", evil, strlen(evil), 0, 0, &s, 1, &n, err,
					sizeof(err)),
			 PAYLOAD_NON_NUMERIC);
	assert_null(strchr(err, '\x1b'));
	assert_null(strstr(err, "[2J"));
}

static void test_status_names(void **state)
{
	static const char *const names[] = { "ok", "too_large", "malformed", "non_numeric",
					     "unknown_topic", "no_field", "no_birth" };
	unsigned i;

	(void)state;
	assert_int_equal(UTIL_ARRAY_LEN(names), PAYLOAD__COUNT);
	for (i = 0; i < PAYLOAD__COUNT; i++)
		assert_string_equal(payload_status_name((enum payload_status)i), names[i]);
}

/* ---- topic filters ------------------------------------------------------ */

static const struct {
	const char *filter, *topic;
	bool match;
} mcases[] = {
	{ "a/b/c", "a/b/c", true },
	{ "a/b/c", "a/b", false },
	{ "a/b", "a/b/c", false },
	{ "a/b/c", "a/b/d", false },
	{ "A/b", "a/b", false },
	{ "#", "a", true },
	{ "#", "a/b/c", true },
	{ "#", "/", true },
	{ "a/#", "a", true },
	{ "a/#", "a/b", true },
	{ "a/#", "a/b/c/d", true },
	{ "a/#", "ab", false },
	{ "a/#", "b/a", false },
	{ "+", "a", true },
	{ "+", "a/b", false },
	{ "+", "/a", false },
	{ "+/+", "/a", true },
	{ "/+", "/a", true },
	{ "a/+", "a/", true },
	{ "a/+", "a", false },
	{ "a/+/c", "a/b/c", true },
	{ "a/+/c", "a//c", true },
	{ "a/+/c", "a/b/d", false },
	{ "a/+/+", "a/b/c", true },
	{ "+/b/#", "x/b", true },
	{ "+/b/#", "x/b/y/z", true },
	{ "dev1/status/+", "dev1/status/em:0", true },
	{ "dev1/status/+", "dev1/status/em:0/x", false },
	{ "shellies/x/emeter/+/+", "shellies/x/emeter/0/power", true },
	{ "shellies/x/emeter/+/+", "shellies/x/emeter/0", false },
	{ "shellies/+/emeter/#", "shellies/y/emeter/2/total_returned", true },
	{ "$share/grp/a/+", "a/b", true },
	{ "$share/grp/a/+", "b/b", false },
	{ "$share/grp/#", "x/y", true },
	{ "$share/grp/#", "$SYS/x", false },
	{ "#", "$SYS/broker/uptime", false },
	{ "+/broker/uptime", "$SYS/broker/uptime", false },
	{ "$SYS/#", "$SYS/broker/uptime", true },
	{ "$SYS/broker/+", "$SYS/broker/uptime", true },
	{ "a/$x", "a/$x", true },
	{ "+/$x", "a/$x", true },
	{ "tele/+/SENSOR", "tele/plug/SENSOR", true },
	{ "tele/+/SENSOR", "tele/plug/STATE", false },
};

static void test_topic_matches(void **state)
{
	size_t i;

	(void)state;
	assert_true(UTIL_ARRAY_LEN(mcases) >= 25);
	for (i = 0; i < UTIL_ARRAY_LEN(mcases); i++)
		if (payload_topic_matches(mcases[i].filter, mcases[i].topic) != mcases[i].match)
			fail_msg("'%s' vs '%s': expected %s", mcases[i].filter, mcases[i].topic,
				 mcases[i].match ? "match" : "no match");
}

static const struct {
	const char *filter;
	bool valid;
} vcases[] = {
	{ "a", true },
	{ "a/b/c", true },
	{ "#", true },
	{ "+", true },
	{ "a/#", true },
	{ "+/+/#", true },
	{ "/", true },
	{ "a//b", true },
	{ "$SYS/#", true },
	{ "$share/g/a/+", true },
	{ "$share/g/#", true },
	{ "", false },
	{ "a/#/b", false },
	{ "a#", false },
	{ "a/b#", false },
	{ "#/", false },
	{ "a+", false },
	{ "a/+b/c", false },
	{ "$share/g", false },
	{ "$share/g/", false },
	{ "$share//a", false },
	{ "$share/g+/a", false },
	{ "$share/g#/a", false },
	{ "$share/g/a/#/b", false },
};

static void test_filter_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(vcases); i++)
		if (payload_filter_valid(vcases[i].filter) != vcases[i].valid)
			fail_msg("'%s': expected %s", vcases[i].filter,
				 vcases[i].valid ? "valid" : "invalid");
	assert_false(payload_filter_valid(NULL));
}

/*
 * payload_scale: a power of ten moves the decimal point (exact results, where
 * v x scale in binary is off by an ulp or more); other scales multiply.
 * Expected values are C literals, the doubles nearest to those decimals.
 */
static void test_scale(void **state)
{
	static const struct {
		double v, scale, want;
	} cases[] = {
		{ 1.001, 1000, 1001 },      /* binary: 1000.9999999999999 */
		{ 4.35, 100, 435 },         /* binary: 434.99999999999994 */
		{ 0.07, 100, 7 },           /* binary: 7.000000000000001 */
		{ 0.1, 3, 0.30000000000000004 }, /* not a power of ten: multiplied */
		{ 2301, 0.1, 230.1 },       /* tenths */
		{ 230.1, 0.001, 0.2301 },   /* mA -> A */
		{ 12345, 0.01, 123.45 },
		{ 1.001, 1e6, 1001000 },    /* MWh -> Wh */
		{ 0.000123, 1e18, 123000000000000 },
		{ 123.456, 1e-18, 1.23456e-16 },
		{ 1.001, -1000, -1001 },    /* a sign flip with it */
		{ -1.001, 1000, -1001 },
		{ 1.001, 1, 1.001 },
		{ 1.001, -1, -1.001 },
		{ 1.5, 0.5, 0.75 },
		{ 0.1, 3600, 360 },
		{ 1e308, 1000, INFINITY },  /* out of range either way */
		{ 0, 1000, 0 },
		{ 0.30000000000000004, 10, 3.0000000000000004 }, /* 17 digits kept */
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		double got = payload_scale(cases[i].v, cases[i].scale);

		if (got != cases[i].want)
			fail_msg("%.17g x %g = %.17g, expected %.17g", cases[i].v, cases[i].scale,
				 got, cases[i].want);
	}
	assert_true(isnan(payload_scale(NAN, 1000)));
	assert_true(payload_scale(-INFINITY, 1000) == -INFINITY);
	assert_true(signbit(payload_scale(-0.0, 1000)));
	/* what strtod gives for the profile texts "0.001", "1e3", "1000" */
	assert_true(payload_scale(1.001, strtod("1e3", NULL)) == 1001);
	assert_true(payload_scale(230.1, strtod("0.001", NULL)) == 0.2301);
}

/*
 * Decimals of up to 15 significant digits (what devices send), scaled by
 * every power of ten the table knows: always the double nearest to the
 * shifted decimal, i.e. strtod of the same digits with the exponent moved.
 * (A binary multiply misses about one in four.) A fixed LCG: the same
 * values every run.
 */
static void test_scale_decimals(void **state)
{
	uint64_t x = 12345;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		long long mant;
		int frac, e;
		char s[64], t[64], sc[16];
		double got, want;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		mant = (long long)((x >> 11) % 1000000000000000ULL);
		frac = (int)((x >> 3) % 16);
		e = (int)((x >> 7) % 37) - 18;
		snprintf(s, sizeof(s), "%s%lldE-%d", (x >> 63) ? "-" : "", mant, frac);
		snprintf(t, sizeof(t), "%s%lldE%d", (x >> 63) ? "-" : "", mant, e - frac);
		snprintf(sc, sizeof(sc), "1e%d", e);
		got = payload_scale(strtod(s, NULL), strtod(sc, NULL));
		want = strtod(t, NULL);
		if (got != want)
			fail_msg("%s x %s = %.17g, expected %.17g", s, sc, got, want);
	}
}

static void test_filter_unshared(void **state)
{
	(void)state;
	assert_string_equal(payload_filter_unshared("$share/grp/a/b"), "a/b");
	assert_string_equal(payload_filter_unshared("a/b"), "a/b");
	assert_string_equal(payload_filter_unshared("$share/grp"), "$share/grp");
	assert_string_equal(payload_filter_unshared("$SYS/x"), "$SYS/x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test_setup_teardown(test_decode_table_shipped, shipped_setup,
						shipped_teardown),
		cmocka_unit_test_setup_teardown(test_shelly_gen1_suffixes, shipped_setup,
						shipped_teardown),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_scale_decimals),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_err_has_no_payload_bytes),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_topic_matches),
		cmocka_unit_test(test_filter_valid),
		cmocka_unit_test(test_filter_unshared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
