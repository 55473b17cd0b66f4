// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_evidence: the evidence decoder (user/evidence*.c) over any bytes.
 *
 * The input is a frame as an alert keeps it; its first byte also picks
 * how much longer it was on the wire (0 to 255 * 16 bytes), so cut frames
 * and lying lengths are both tried. The line must be terminated within
 * the buffer, with no byte under 0x20 (tcpdump's line: one line, no
 * control characters), and a shorter buffer must give its beginning.
 * A line in words of our own (EVIDENCE_EXTENDED) is a GTP-U one, or a
 * line that filled the buffer before those words fit (a frame of some
 * 80 MPLS labels, then GTP-U: the fuzzer found it).
 */
#include <string.h>
#include "evidence.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[EVIDENCE_MAX], small[40];
	uint32_t wire = size + (size ? data[0] * 16u : 0);
	enum evidence_end end;
	size_t n;

	end = evidence_line(data, size, wire, line, sizeof(line));
	n = strnlen(line, sizeof(line));
	if (n == sizeof(line) || (end == EVIDENCE_NONE && n))
		abort();
	if (end == EVIDENCE_EXTENDED && !strstr(line, ": GTPv1-U") &&
	    n < sizeof(line) - 1)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			abort();
	evidence_line(data, size, wire, small, sizeof(small));
	if (strncmp(small, line, strlen(small)))
		abort();
	return 0;
}
