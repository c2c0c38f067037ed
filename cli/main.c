/* mailvault: the command-line entry point (being written). */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "mailvault: not built yet\n");
	return 1;
}
