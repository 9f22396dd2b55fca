/*
 * uaio's <libaio.h> against the system's libaio 0.3.113 header and the
 * kernel's <linux/aio_abi.h>: every offset, size and signedness of struct
 * iocb and struct io_event (union members included), the opcode values, and
 * the bytes each inline io_prep_* helper writes.  Programs compiled against
 * either header must run on either library.
 */
#include <libaio.h>
#include <stdio.h>
#include <string.h>

#include "abi-layout.h"

#define ABI_SUFFIX uaio
#include "abi-layout.inc"

static const struct abi_fact *find(const struct abi_fact *t, size_t n,
				   const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

int main(void)
{
	size_t nu, ns, nk, compared = 0;
	const struct abi_fact *u = abi_facts_uaio(&nu);
	const struct abi_fact *s = abi_facts_system(&ns);
	const struct abi_fact *k = abi_facts_kernel(&nk);
	unsigned char pu[ABI_PREPS][64], ps[ABI_PREPS][64];
	const char *names_u[ABI_PREPS], *names_s[ABI_PREPS];
	int fail = 0;

	for (size_t i = 0; i < nu; i++) {
		const struct abi_fact *f = find(s, ns, u[i].name);
		if (!f) {
			printf("FAIL: %s: not in the system table\n",
			       u[i].name);
			fail = 1;
		} else if (f->value != u[i].value) {
			printf("FAIL: %s: uaio %lld, system libaio %lld\n",
			       u[i].name, u[i].value, f->value);
			fail = 1;
		}
		f = find(k, nk, u[i].name);
		if (f && f->value != u[i].value) {
			printf("FAIL: %s: uaio %lld, kernel %lld\n", u[i].name,
			       u[i].value, f->value);
			fail = 1;
		}
		compared++;
	}
	for (size_t i = 0; i < nk; i++) {
		if (!find(u, nu, k[i].name)) {
			printf("FAIL: %s: not in the uaio table\n", k[i].name);
			fail = 1;
		}
	}

	abi_preps_uaio(pu, names_u);
	abi_preps_system(ps, names_s);
	for (int i = 0; i < ABI_PREPS; i++) {
		if (!memcmp(pu[i], ps[i], 64))
			continue;
		printf("FAIL: %s writes different bytes:\n", names_u[i]);
		for (int j = 0; j < 64; j++)
			if (pu[i][j] != ps[i][j])
				printf("  byte %2d: uaio %02x, system %02x\n",
				       j, pu[i][j], ps[i][j]);
		fail = 1;
	}
	if (!fail)
		printf("PASS: %zu facts and %d helpers agree\n", compared,
		       ABI_PREPS);
	return fail;
}
